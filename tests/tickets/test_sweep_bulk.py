"""The sweep breaks and escalates lapsed promises for a whole chunk at once (``services.lapses``): what a burst
writes is exactly what the same tickets handled one at a time write, in a fixed number of statements."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.factories import CategoryFactory, EscalationPathFactory, StaffFactory, TicketFactory
from tickets import services, tasks
from tickets.models import Interaction, Notification, Promise, PromiseState, Ticket
from tickets.services.lapses import look_again
from tickets.sweep import sweep

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)


@pytest.fixture
def lapsing(category, billing, technical, dave, alice, bob, carol, now):
    """``lapsing(n)``: n tickets whose promises lapse by ``now + 9 h``, of every kind the breach treats apart:
    assigned, unassigned (its team is told), assigned to someone who left, never warned (the sweep came late),
    already at the top of their path, on a second path whose top level lists its own people (carol)."""
    leaver = StaffFactory(username="leaver", teams=[billing])
    urgent_path = EscalationPathFactory(name="Urgent", teams=[billing, technical])
    urgent_path.levels.get(position=2).notify.add(carol)
    urgent = CategoryFactory(name="Urgent question", escalation_path=urgent_path)

    def make(count: int) -> list[Ticket]:
        leaver.is_active = True
        leaver.save()
        tickets = []
        for i in range(count):
            ticket = TicketFactory(customer=dave, category=urgent if i % 2 else category)
            if i % 6 in (0, 1, 2):
                services.assign(ticket, assignee=alice, by=alice, now=now)
            elif i % 6 == 3:
                services.assign(ticket, assignee=leaver, by=alice, now=now)
            if i % 5 == 4:
                services.escalate(ticket, by=alice, note="Needs the engineers.", now=now)
            warned = i % 3 != 2  # the others lapse unwarned: their warning is due after the first sweep below
            due = now + (6 * H if warned else 9 * H)
            services.make_promise(ticket, due_at=due, by=alice, words="Today.", reason="Known fix.", now=now)
            tickets.append(ticket)
        sweep(now=now + 6 * H - timedelta(minutes=1))  # warns the first kind
        leaver.is_active = False
        leaver.save()
        return tickets

    return make


def written(tickets: list[Ticket], *, at: Any) -> dict[str, Any]:
    """Everything the breaches wrote for these tickets, in a form two runs can be compared in (interaction ids,
    which differ between runs, are named by their ticket and kind)."""
    ids = [t.pk for t in tickets]
    entries = list(Interaction.objects.filter(ticket_id__in=ids, created_at=at).order_by("id"))
    name = {e.pk: f"{e.ticket_id}/{e.kind}" for e in entries}
    notices = Notification.objects.filter(ticket_id__in=ids, created_at=at)
    return {
        "tickets": list(
            Ticket.objects.filter(pk__in=ids)
            .order_by("pk")
            .values_list(
                "pk",
                "promise_state",
                "next_check_at",
                "escalation_level_id",
                "team_id",
                "assignee_id",
                "last_activity_at",
                "updated_at",
            )
        ),
        "promises": list(
            Promise.objects.filter(ticket_id__in=ids).order_by("pk").values_list("pk", "outcome", "settled_at")
        ),
        # each ticket's entries in the order written; tickets due at the same moment may come in any order
        "log": sorted(
            (
                (e.ticket_id, e.kind, e.author_kind, e.author_id, e.customer_name, e.body, e.is_public, e.data)
                for e in entries
            ),
            key=lambda entry: entry[0],
        ),
        "notices": sorted(
            (
                n.ticket_id,
                n.event,
                n.recipient_id,
                n.message,
                re.sub(r"interaction=(\d+)", lambda m: f"interaction={name[int(m.group(1))]}", n.dedupe_key),
            )
            for n in notices
        ),
    }


def swept(tickets: list[Ticket], *, at: Any, batch_size: int) -> dict[str, Any]:
    """Sweep at ``at`` until nothing is due, note what was written, and roll it all back."""
    with transaction.atomic():
        while sweep(now=at, batch_size=batch_size).more:
            pass
        outcome = written(tickets, at=at)
        transaction.set_rollback(True)
    return outcome


def test_a_burst_writes_exactly_what_the_same_tickets_one_at_a_time_write(lapsing, now):
    tickets = lapsing(24)
    at = now + 9 * H + timedelta(minutes=10)

    together = swept(tickets, at=at, batch_size=500)
    one_by_one = swept(tickets, at=at, batch_size=1)

    assert together == one_by_one
    assert {state for _, state, *_ in together["tickets"]} == {PromiseState.BREACHED}
    kinds = [kind for _, kind, *_ in together["log"]]
    assert (kinds.count("breach"), kinds.count("at_risk"), kinds.count("escalation")) == (24, 8, 20)
    events = [event for _, event, *_ in together["notices"]]
    assert (events.count("new_promise_needed"), events.count("escalation"), events.count("breach")) == (24, 20, 4)


def test_the_statements_of_a_burst_do_not_grow_with_its_tickets(lapsing, now):
    few, many = lapsing(6), lapsing(60)
    at = now + 9 * H + timedelta(minutes=10)

    def statements(tickets: list[Ticket]) -> int:
        with transaction.atomic():
            # only these tickets are due: the others are moved out of the way first
            others = Ticket.objects.exclude(pk__in=[t.pk for t in tickets]).values_list("pk", flat=True)
            look_again([(pk, None) for pk in others])
            with CaptureQueriesContext(connection) as captured:
                result = sweep(now=at, batch_size=100)
            assert result.breached == len(tickets)
            transaction.set_rollback(True)
        return len(captured)

    # one chunk: its transaction (a savepoint pair inside the test's), the planner hint, select and lock, the
    # breaches' savepoint pair, read the tickets, their levels and people, write the log entries, the notices,
    # the promises and the tickets; then the heartbeat
    assert statements(few) == statements(many) == 14


def test_a_sweep_delivered_twice_breaks_nothing_twice(lapsing, now, monkeypatch):
    tickets = lapsing(6)
    monkeypatch.setattr(tasks, "database_now", lambda: now + 9 * H + timedelta(minutes=10))

    first, second = tasks.sweep_promises(), tasks.sweep_promises()

    assert (first["breached"], second["breached"], second["looked_at"]) == (6, 0, 0)
    for ticket in tickets:
        assert ticket.interactions.filter(kind="breach").count() == 1
        assert ticket.interactions.filter(kind="escalation", author__isnull=True).count() <= 1
    assert Notification.objects.filter(event="new_promise_needed").count() == 6


def test_looking_again_later_changes_nothing_a_person_sees(lapsing, now):
    ticket, other = lapsing(2)
    before = Ticket.objects.get(pk=ticket.pk)

    look_again([(ticket.pk, now + 9 * H), (other.pk, None)])

    after = Ticket.objects.get(pk=ticket.pk)
    assert after.next_check_at == now + 9 * H
    assert after.updated_at == before.updated_at  # the API orders by it: a reschedule must not move the ticket
    assert Ticket.objects.get(pk=other.pk).next_check_at is None
