"""The sweep's writes, for many tickets at once: promises entering their warning window are flagged at risk,
lapsed ones are broken and escalated, the rest are looked at again later.

The sweep holds the tickets locked (``SELECT ... FOR UPDATE SKIP LOCKED``) and has judged them; these services
write in its transaction. Each reads what it needs in one query per table, builds the log entries and notices
with the same helpers the one-ticket services use (``log_entry``, ``AtRisk``, ``escalation_data``,
``escalation_notices``, ``notification_rows``), and writes each table in one statement: a burst of thousands
costs the statements of one ticket.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any, NamedTuple

from django.db.models import BigIntegerField, Case, DateTimeField, F, OuterRef, Subquery, Value, When

from tickets.models import (
    EscalationLevel,
    Interaction,
    InteractionKind,
    Notification,
    NotificationEvent,
    Promise,
    PromiseOutcome,
    PromiseState,
    Ticket,
    reference_of,
)
from tickets.notifications import notification_rows, people_of, pick_owners, save_notifications
from tickets.promise_rules import humanize_duration
from tickets.services.base import log_entry, set_service
from tickets.services.handoff import escalation_data, escalation_notices
from tickets.services.promises import AtRisk

APOLOGY = (
    "We missed the time we promised you. We are sorry: your request has gone to the next level of our team, "
    "and we will give you a new, honest time shortly."
)


class Due(NamedTuple):
    """What the sweep's writes read of one locked ticket."""

    pk: int
    promise_state: str
    promise_due_at: datetime
    promise_warn_at: datetime
    customer_name: str
    assignee_id: int | None
    assignee_active: bool | None
    team_id: int
    level_id: int
    path_id: int
    promise_id: int | None


def _read(ids: list[int]) -> list[Due]:
    """The tickets, with their pending promise, in the order given (one query)."""
    # at most one pending promise a ticket (``promise_one_pending_per_ticket``): nothing to sort
    pending = Promise.objects.filter(ticket=OuterRef("pk"), outcome=PromiseOutcome.PENDING).order_by().values("pk")[:1]
    rows = (
        Ticket.objects.filter(pk__in=ids)
        .order_by()  # put in the order given below, not sorted by the database first
        .annotate(pending_promise=Subquery(pending))
        .values_list(
            "pk",
            "promise_state",
            "promise_due_at",
            "promise_warn_at",
            "customer__name",
            "assignee_id",
            "assignee__is_active",
            "team_id",
            "escalation_level_id",
            "escalation_level__path_id",
            "pending_promise",
        )
    )
    by_pk = {row[0]: Due._make(row) for row in rows}
    return [by_pk[pk] for pk in ids if pk in by_pk]


def _owners(ticket: Due, team_people: dict[int, list[int]]) -> list[int]:
    active = bool(ticket.assignee_active)
    return pick_owners(assignee_id=ticket.assignee_id, assignee_active=active, team=team_people.get(ticket.team_id, []))


@set_service
def flag_at_risk(ids: list[int], *, now: datetime) -> int:
    """Flag these tickets at risk and warn each one's owners, as ``promises.warn_at_risk`` does for one."""
    if not ids:
        return 0
    Ticket.objects.filter(pk__in=ids).update(
        promise_state=PromiseState.AT_RISK, next_check_at=F("promise_due_at"), updated_at=now
    )
    tickets = _read(ids)
    unowned = {t.team_id for t in tickets if not (t.assignee_id and t.assignee_active)}
    team_people = people_of(teams=unowned)[0] if unowned else {}
    entries, notices = [], []
    for ticket in tickets:
        warning = AtRisk(ticket.pk, ticket.customer_name, ticket.promise_id, ticket.promise_due_at, now)
        entries.append(warning.entry())
        notices += warning.notices(_owners(ticket, team_people))
    Interaction.objects.bulk_create(entries)
    save_notifications(notices)
    return len(tickets)


@set_service
def look_again(at: list[tuple[int, datetime | None]]) -> None:
    """Set when the sweep next looks at each of these tickets (None: never), in one statement. Nothing a
    person sees changes, so neither does ``updated_at`` (the API's order by it)."""
    if at:
        Ticket.objects.filter(pk__in=[pk for pk, _ in at]).update(
            next_check_at=Case(
                *(When(pk=pk, then=Value(when)) for pk, when in at),
                default=F("next_check_at"),  # also tells PostgreSQL the type of a CASE whose every branch is NULL
                output_field=DateTimeField(),
            ),
        )


@set_service
def record_breaches(ids: list[int], *, now: datetime) -> int:
    """Their promises lapsed: break each, say sorry, escalate it one level up its path with a hand-off note, and
    ask its owners for a new promise; at the top of its path, tell that level instead.

    1. Read the tickets and their pending promises, and every level of their paths (two queries).
    2. Build the log entries in each ticket's order: a late warning if none came in time (``AtRisk.too_late``),
       the public apology, the automatic escalation. Write them in one statement, then their notices in one.
    3. Break the promises in one statement, and move the tickets in one: the new level and team come from a
       CASE on the current level, a branch per level of the batch, not per ticket.
    """
    tickets = _read(ids)
    if not tickets:
        return 0
    levels = {
        level.pk: level
        for level in EscalationLevel.objects.filter(path_id__in={t.path_id for t in tickets}).select_related("team")
    }
    above = _next_levels(levels.values())
    owed = {t.team_id for t in tickets if not (t.assignee_id and t.assignee_active)}
    reached = {above.get(t.level_id) or levels[t.level_id] for t in tickets}
    team_people, level_listed = people_of(
        teams=owed | {level.team_id for level in reached}, levels=[lv.pk for lv in reached]
    )

    def people_at(level: EscalationLevel) -> list[int]:
        return level_listed.get(level.pk) or team_people.get(level.team_id, [])

    # what a hand-off from each level records, worked out once for all its tickets (their entries share it)
    handoffs = {low: escalation_data(levels[low], high, by=None) for low, high in above.items()}
    planned: list[tuple[Due, Interaction, Interaction | None]] = []
    entries: list[Interaction] = []
    for ticket in tickets:
        if ticket.promise_state == PromiseState.ON_TRACK:  # never warned: its window passed while nobody looked
            missed = AtRisk(ticket.pk, ticket.customer_name, ticket.promise_id, ticket.promise_due_at, now)
            entries.append(missed.too_late(warn_at=ticket.promise_warn_at))
        breach = _apology(ticket, now=now)
        entries.append(breach)
        escalation = None
        if (to := above.get(ticket.level_id)) is not None:
            note = (
                f"Automatic: the promise on {reference_of(ticket.pk)} lapsed. "
                "Hand-off: read the timeline; a new promise is needed."
            )
            escalation = log_entry(
                ticket.pk,
                InteractionKind.ESCALATION,
                customer_name=ticket.customer_name,
                now=now,
                body=note,
                data=handoffs[ticket.level_id],
            )
            entries.append(escalation)
        planned.append((ticket, breach, escalation))
    Interaction.objects.bulk_create(entries)

    notices: list[Notification] = []
    for ticket, breach, escalation in planned:
        key = f"promise={ticket.promise_id}" if ticket.promise_id else f"interaction={breach.pk}"
        reference = reference_of(ticket.pk)
        notices += notification_rows(
            _owners(ticket, team_people),
            ticket_id=ticket.pk,
            event=NotificationEvent.NEW_PROMISE_NEEDED,
            key=key,
            message=f"The promise to {ticket.customer_name} on {reference} lapsed. "
            "Make a new, honest promise and tell them.",
            now=now,
        )
        if escalation is not None:
            to = above[ticket.level_id]
            notices += escalation_notices(escalation, people_at(to), to=to)
        else:
            notices += notification_rows(
                people_at(levels[ticket.level_id]),
                ticket_id=ticket.pk,
                event=NotificationEvent.BREACH,
                key=key,
                message=f"The promise on {reference} ({ticket.customer_name}) lapsed at the top of its path.",
                now=now,
            )
    save_notifications(notices)

    broken = [t.promise_id for t in tickets if t.promise_id]
    Promise.objects.filter(pk__in=broken).update(outcome=PromiseOutcome.BROKEN, settled_at=now)
    moves = {level_id: to for level_id, to in above.items() if level_id in {t.level_id for t in tickets}}
    Ticket.objects.filter(pk__in=[t.pk for t in tickets]).update(
        promise_state=PromiseState.BREACHED,
        next_check_at=None,
        updated_at=now,
        **_moved(moves),
    )
    return len(tickets)


def _apology(ticket: Due, *, now: datetime) -> Interaction:
    late_by = humanize_duration(now - ticket.promise_due_at)
    return log_entry(
        ticket.pk,
        InteractionKind.BREACH,
        customer_name=ticket.customer_name,
        now=now,
        public=True,
        body=APOLOGY,
        data={"promise": ticket.promise_id, "late_by": late_by},
    )


def _next_levels(levels: Any) -> dict[int, EscalationLevel]:
    """{level id: the next level up its path}, for levels that have one."""
    by_path: dict[int, list[EscalationLevel]] = {}
    for level in sorted(levels, key=lambda level: level.position):
        by_path.setdefault(level.path_id, []).append(level)
    return {low.pk: high for path in by_path.values() for low, high in itertools.pairwise(path)}


def _moved(moves: dict[int, EscalationLevel]) -> dict[str, Case]:
    """The UPDATE's new level and team of each ticket, from its current level (both read the row as it was)."""
    if not moves:
        return {}
    return {
        "escalation_level": Case(
            *(When(escalation_level_id=low, then=Value(high.pk)) for low, high in moves.items()),
            default=F("escalation_level_id"),
            output_field=BigIntegerField(),
        ),
        "team": Case(
            *(When(escalation_level_id=low, then=Value(high.team_id)) for low, high in moves.items()),
            default=F("team_id"),
            output_field=BigIntegerField(),
        ),
    }
