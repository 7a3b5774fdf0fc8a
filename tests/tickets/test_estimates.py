"""The periodic refresh: the desk's tickets and its imported past in, a curve per category and priority out.

The estimator itself is tested on constructed histories in tests/estimates; here, what the refresh reads from
the database and writes for the guard.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import CategoryFactory, TicketFactory
from tickets import services, tasks
from tickets.estimates.models import HistoryImport, PastTicket
from tickets.estimates.refresh import refresh_estimates
from tickets.models import Estimate, Priority
from tickets.promise_rules import active_age, judge

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)


@pytest.fixture
def source(now):
    return HistoryImport.objects.create(file_name="past.csv", digest="0" * 64, started_at=now)


def past(source, category, *, opened, took=None, priority=Priority.NORMAL, waited=timedelta(0), n=1):
    for i in range(n):
        PastTicket.objects.create(
            key=f"{category.pk}-{opened.timestamp()}-{i}-{PastTicket.objects.count()}",
            opened_at=opened,
            resolved_at=opened + took if took is not None else None,
            category=category,
            priority=priority,
            waited=waited,
            source=source,
        )


def test_imported_history_feeds_a_curve_for_every_priority_of_the_category(source, category, now, settings):
    settings.PROMISE_ESTIMATE_MIN_SAMPLE = 30
    for day in range(1, 21):  # 40 tickets over 20 days: half took 2 h, half 10 h
        past(source, category, opened=now - timedelta(days=day), took=2 * H)
        past(source, category, opened=now - timedelta(days=day, hours=5), took=10 * H)

    assert refresh_estimates(now=now) == 4

    rows = {row.priority: row for row in Estimate.objects.filter(category=category)}
    assert set(rows) == set(Priority.values)
    normal = rows[Priority.NORMAL]
    assert (normal.basis, normal.duration, normal.sample_size, normal.window_days) == (
        "category_priority",
        10 * H,
        40,
        28,
    )
    assert normal.curve[0] == [0, 36000, 40]
    # Still open after 3 hours: only the 10-hour ones are, with 7 hours to go.
    assert [2 * 3600, 8 * 3600, 20] in normal.curve or [4 * 3600, 6 * 3600, 20] in normal.curve
    # No High tickets at all: the category's curve serves them.
    assert (rows[Priority.HIGH].basis, rows[Priority.HIGH].duration) == ("category", 10 * H)


def test_the_desks_own_tickets_count_open_ones_censored_and_waits_left_out(dave, category, alice, now, settings):
    settings.PROMISE_ESTIMATE_MIN_SAMPLE = 10
    for day in range(1, 11):
        ticket = TicketFactory(customer=dave, category=category, now=now - timedelta(days=day))
        services.change_status(ticket, to="waiting", by=alice, now=now - timedelta(days=day) + H)
        services.receive_customer_message(ticket, body="Here.", now=now - timedelta(days=day) + 21 * H)  # 20 h
        services.resolve(ticket, by=alice, summary="Done.", now=now - timedelta(days=day) + 24 * H)
    for day in range(1, 4):  # still open, days old: slow ones the resolved-only look-back would miss
        TicketFactory(customer=dave, category=category, now=now - timedelta(days=day, hours=2))

    refresh_estimates(now=now)

    row = Estimate.objects.get(category=category, priority=Priority.NORMAL)
    assert row.sample_size == 13
    # 10 of 13 took 4 h of active time; the 3 open ones outlasted that: 80 % need more than 4 h, so the
    # curve goes on past the last resolution seen rather than promising 4 h.
    assert row.duration > 4 * H


def test_a_group_with_no_history_in_reach_gets_no_row_and_the_guard_uses_the_default(
    source, category, ticket, alice, now, settings
):
    settings.PROMISE_ESTIMATE_LOOKBACK_DAYS = 60
    past(source, category, opened=now - timedelta(days=200), took=2 * H, n=40)
    stale = CategoryFactory()
    Estimate.objects.create(
        category=stale, priority=1, curve=[[0, 60, 1]], duration=H, sample_size=1, window_days=28, percentile=0.8,
        computed_at=now - timedelta(days=1),
    )  # fmt: skip

    assert refresh_estimates(now=now) == 0

    assert not Estimate.objects.exists()
    assert judge(ticket, due_at=now + 6 * H, by=alice, now=now).basis == "default"


def test_refreshing_twice_gives_the_same_table(source, category, now, settings):
    settings.PROMISE_ESTIMATE_MIN_SAMPLE = 5
    for day in range(1, 11):
        past(source, category, opened=now - timedelta(days=day), took=day * H)

    tasks.refresh_estimates()
    first = list(Estimate.objects.order_by("priority").values("priority", "curve", "duration", "basis"))
    Estimate.objects.update(computed_at=now - timedelta(hours=1))  # due again
    tasks.refresh_estimates()

    assert list(Estimate.objects.order_by("priority").values("priority", "curve", "duration", "basis")) == first
    assert len(first) == 4


def test_open_tickets_count_their_waits_so_far_left_out(dave, category, alice, now, settings):
    settings.PROMISE_ESTIMATE_MIN_SAMPLE = 10
    for day in range(1, 11):
        ticket = TicketFactory(customer=dave, category=category, now=now - timedelta(days=day))
        services.resolve(ticket, by=alice, summary="Done.", now=now - timedelta(days=day) + 4 * H)
    for hours in (30, 31, 32):  # open for more than a day, but waiting on the customer since their second hour
        ticket = TicketFactory(customer=dave, category=category, now=now - hours * H)
        services.change_status(ticket, to="waiting", by=alice, now=now - (hours - 1) * H)

    refresh_estimates(now=now)

    # Active for an hour each, the open ones say nothing against "4 hours": 8 in 10 are done by then.
    assert Estimate.objects.get(category=category, priority=Priority.NORMAL).duration == 4 * H


def test_a_reopened_ticket_does_not_count_the_days_it_lay_resolved(dave, category, alice, now):
    ticket = TicketFactory(customer=dave, category=category, now=now - 10 * 24 * H)
    services.resolve(ticket, by=alice, summary="Done.", now=now - 10 * 24 * H + 2 * H)
    services.reopen(ticket, by=alice, reason="It came back.", now=now - 3 * H)

    assert ticket.waited == 10 * 24 * H - 2 * H - 3 * H
    assert active_age(ticket, now=now) == 5 * H  # two hours' work, then three since the reopening


def test_an_imported_ticket_open_when_exported_is_known_only_until_its_import(source, category, now, settings):
    settings.PROMISE_ESTIMATE_MIN_SAMPLE = 30
    for day in range(1, 21):
        past(source, category, opened=now - timedelta(days=day), took=2 * H, n=2)
    old = HistoryImport.objects.create(file_name="old.csv", digest="1" * 64, started_at=now - timedelta(days=65))
    past(old, category, opened=now - timedelta(days=70), n=20)  # open at the export, 65 days ago: fate unknown

    refresh_estimates(now=now)

    row = Estimate.objects.get(category=category, priority=Priority.NORMAL)
    # Not 20 tickets open for 70 days in the window: the window (28 days) saw none of them.
    assert (row.duration, row.sample_size) == (2 * H, 40)
