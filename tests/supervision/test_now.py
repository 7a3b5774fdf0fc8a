"""The "now" view: promises at risk and breached, grouped, counted, with inline reassign and escalate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.desk.helpers import action_url, force, html, promised, references
from tests.factories import StaffFactory, TicketFactory
from tickets import services, tasks
from tickets.models import SweepHeartbeat
from tickets.supervision.now import danger
from tickets.sweep import HEARTBEAT

pytestmark = pytest.mark.django_db

NOW_URL = reverse("desk:promises")


@pytest.fixture
def at_risk(ticket, alice):
    services.assign(ticket, assignee=alice, by=alice)
    services.make_promise(ticket, due_at=timezone.now() + timedelta(hours=5), by=alice, words="Refund by 3 pm.")
    return promised(ticket, due_in=timedelta(minutes=20), state="at_risk")


@pytest.fixture
def breached(category, bob, technical):
    ticket = TicketFactory(category=category, subject="Cannot sign in")
    services.escalate(ticket, by=bob, note="Needs Technical.")
    services.make_promise(ticket, due_at=timezone.now() + timedelta(hours=5), by=bob, words="Back in by noon.")
    return promised(ticket, due_in=-timedelta(minutes=45), state="breached")


def beat(seconds_ago: float) -> None:
    SweepHeartbeat.objects.update_or_create(
        name=HEARTBEAT,
        defaults={"last_run_at": timezone.now() - timedelta(seconds=seconds_ago), "looked_at": 7, "changed": 1},
    )


def test_an_at_risk_promise_shows_who_what_when_and_where(client_for, carol, at_risk):
    page = html(client_for(carol).get(NOW_URL))

    assert references(client_for(carol).get(NOW_URL)) == [at_risk.reference]
    assert "Dave Jones" in page
    assert "“Refund by 3 pm.”" in page
    assert "due in 20 min" in page
    assert "1. Level 1" in page
    assert 'data-group="Billing"' in page and "1 at risk" in page


def test_breached_promises_come_first_and_say_how_long_overdue(client_for, carol, at_risk, breached):
    response = client_for(carol).get(NOW_URL)

    assert references(response) == [breached.reference, at_risk.reference]  # Technical (breached) first
    assert "overdue by 45 min" in html(response)
    assert '<div class="fs-3 fw-semibold text-danger" data-total="breached">1</div>' in html(response)
    assert 'data-level="Technical:2"' in html(response)


def test_grouped_by_agent_the_unassigned_have_their_own_group(client_for, carol, at_risk, breached):
    page = html(client_for(carol).get(NOW_URL, {"by": "agent"}))
    assert 'data-group="Alice' in page and 'data-group="Unassigned"' in page


def test_each_group_shows_its_most_urgent_and_counts_the_rest(category, carol, alice):
    for minutes in range(12):
        promised(TicketFactory(category=category), due_in=timedelta(minutes=5 + minutes), state="at_risk")

    [billing] = danger(carol).groups
    assert (billing.at_risk, len(billing.tickets), billing.more) == (12, 10, 2)
    assert billing.tickets == sorted(billing.tickets, key=lambda ticket: ticket.promise_due_at)
    [unassigned] = danger(carol, group_by="agent").groups  # by agent, five each: there are many more agents
    assert (unassigned.name, len(unassigned.tickets), unassigned.more) == ("Unassigned", 5, 7)


def test_settled_and_on_track_promises_are_not_in_danger(client_for, carol, ticket, alice):
    services.make_promise(ticket, due_at=timezone.now() + timedelta(hours=5), by=alice, words="Tonight.")
    beat(5)
    assert "every promise made is on track" in html(client_for(carol).get(NOW_URL))


def test_with_the_sweeper_down_nothing_flagged_is_not_called_on_track(client_for, carol, ticket, alice):
    services.make_promise(ticket, due_at=timezone.now() + timedelta(hours=5), by=alice, words="Tonight.")
    beat(3600)
    page = html(client_for(carol).get(NOW_URL))
    assert "on track" not in page and "nothing can be while the sweeper is down" in page


def test_the_sweepers_heartbeat_is_shown_and_a_stall_is_an_alarm(client_for, carol, settings):
    settings.PROMISE_SWEEP_INTERVAL = 30
    client = client_for(carol)
    assert "The sweeper has never run." in html(client.get(NOW_URL))

    beat(12)
    page = html(client.get(NOW_URL))
    assert 'data-heartbeat="ok"' in page and "checked 12 s ago" in page

    beat(200)
    page = html(client.get(NOW_URL))
    assert 'data-heartbeat="stale"' in page and "Promises are not being watched." in page


def test_it_refreshes_itself_and_htmx_gets_the_live_part_alone(client_for, carol, at_risk):
    client = client_for(carol)
    assert 'hx-trigger="every 15s"' in html(client.get(NOW_URL))

    live = html(client.get(NOW_URL, HTTP_HX_REQUEST="true"))
    assert at_risk.reference in live and "<html" not in live


def test_reassigning_inline_goes_back_to_the_dashboard(client_for, carol, at_risk, billing):
    colleague = StaffFactory(username="amir", first_name="Amir", teams=[billing])
    page = html(client_for(carol).get(NOW_URL))
    assert f'<option value="{colleague.pk}">Amir' in page  # the ticket's team members are offered

    response = client_for(carol).post(
        action_url(at_risk, "assign"), {"assignee": colleague.pk, "next": NOW_URL + "?by=agent"}
    )

    at_risk.refresh_from_db()
    assert at_risk.assignee == colleague
    assert response.status_code == 302 and response["Location"] == NOW_URL + "?by=agent"


def test_escalating_inline_hands_over_with_a_note(client_for, carol, at_risk, technical):
    response = client_for(carol).post(action_url(at_risk, "escalate"), {"note": "Refund over limit.", "next": NOW_URL})

    at_risk.refresh_from_db()
    assert (at_risk.team, response["Location"]) == (technical, NOW_URL)
    assert at_risk.interactions.filter(kind="escalation", body="Refund over limit.").exists()


def test_a_ticket_at_the_top_of_its_path_offers_no_escalation(client_for, carol, breached):
    page = html(client_for(carol).get(NOW_URL))
    assert "Top level" in page and action_url(breached, "escalate") not in page


@pytest.mark.parametrize("target", ["https://evil.example.com/", "//evil.example.com/", "javascript:alert(1)"])
def test_an_inline_action_never_redirects_off_the_site(client_for, carol, at_risk, target):
    response = client_for(carol).post(action_url(at_risk, "assign"), {"assignee": "", "next": target})
    assert response.status_code == 302 and response["Location"] == reverse("desk:ticket", args=[at_risk.reference])


def test_the_now_view_costs_the_same_for_2_and_30_tickets(client_for, carol, category, alice, bob, billing):
    def cost(client):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(NOW_URL).status_code == 200
        return len(queries)

    client = client_for(carol)
    tasks.refresh_figures.apply()  # the beat task keeps the last 30 days' figures fresh
    for _ in range(2):
        promised(TicketFactory(category=category), due_in=timedelta(minutes=10), state="at_risk")
    few = cost(client)
    for i in range(28):
        ticket = TicketFactory(category=category)
        if i % 2:
            services.escalate(ticket, by=bob, note="Over.")
        promised(ticket, due_in=timedelta(minutes=10 - i), state="breached" if i % 3 else "at_risk")
    # Session, user, "is a supervisor?", the database's clock, the heartbeat, the oldest unbroken lapse, the
    # counts, the most urgent tickets (words joined in), the teams' members (two), the paths' top levels, the
    # last 30 days' figures (their snapshot: the calibration warning), the unread badge: thirteen at most,
    # whatever the number.
    assert cost(client) == few <= 13


def test_an_owner_left_behind_by_a_breach_is_shown_as_such_not_as_nobody(client_for, carol, at_risk, alice):
    services.escalate(at_risk, by=carol, note="Over to Technical.")
    force(at_risk, assignee=alice)  # as a breach leaves it: the owner keeps it, outside the new team
    page = html(client_for(carol).get(NOW_URL))
    assert f'<option value="{alice.pk}" selected>Alice' in page and "(not in Technical)" in page


def test_a_ticket_flagged_between_the_counts_and_the_list_waits_for_the_next_refresh(carol, at_risk, bob, monkeypatch):
    from tickets.supervision import now as now_module

    elsewhere = TicketFactory(category=at_risk.category)
    services.escalate(elsewhere, by=bob, note="Over.")  # Technical: nothing there is in danger in the counts
    real = now_module._most_urgent
    monkeypatch.setattr(now_module, "_most_urgent", lambda *args, **kwargs: [*real(*args, **kwargs), elsewhere])

    [billing] = danger(carol).groups  # no error, and nothing half-counted
    assert billing.tickets == [at_risk]
