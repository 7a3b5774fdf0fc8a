"""The periodic refresh: the desk's tickets and its imported past in, a curve per category and priority out.

The estimator itself is tested on constructed histories in tests/estimates; here, what the refresh reads from
the database and writes for the guard.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.factories import CategoryFactory, EscalationPathFactory, TicketFactory
from tickets import services, tasks
from tickets.estimates.estimator import History
from tickets.estimates.models import HistoryImport, PastTicket
from tickets.estimates.refresh import category_calendars, refresh_estimates
from tickets.models import Calendar, ClosedDay, EscalationPath, Estimate, Priority
from tickets.promise_rules import active_age, judge

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)
BERLIN = ZoneInfo("Europe/Berlin")
WEDNESDAY = datetime(2026, 12, 2, 12, tzinfo=BERLIN)
DAY_OFF = date(2026, 11, 18)


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


# --- Categories that run in business time ---------------------------------------------------------------------


@pytest.fixture
def office(billing):
    """Billing (level 1 of the standard path) works Monday to Friday, nine to five, Berlin time; closed on
    Wednesday 18 November."""
    calendar = Calendar.objects.create(
        name="Berlin office", time_zone="Europe/Berlin", weekly=[[["09:00", "17:00"]]] * 5 + [[], []]
    )
    ClosedDay.objects.create(calendar=calendar, date=DAY_OFF, reason="Company day off")
    billing.calendar = calendar
    billing.save()
    return calendar


@pytest.fixture
def by_the_clock(standard_path):
    """A category on the same path that runs around the clock."""
    return CategoryFactory(name="Billing by the clock", escalation_path=standard_path)


def office_log(categories, *, now):
    """Two tickets each working day of the four weeks before ``now``, each in every one of ``categories``:
    opened at 16:00, resolved at 10:00 the next working day: 2 open hours, 18 to 66 hours by the clock."""
    source = HistoryImport.objects.create(file_name="office.csv", digest="2" * 64, started_at=now)
    days = [now.date() - timedelta(days=n) for n in range(28, 0, -1)]
    working = [day for day in days if day.weekday() < 5 and day != DAY_OFF]
    for day, following in zip(working, [*working[1:], now.date()], strict=True):
        opened = datetime.combine(day, time(16), tzinfo=BERLIN)
        took = datetime.combine(following, time(10), tzinfo=BERLIN) - opened
        for category in categories:
            past(source, category, opened=opened, took=took, n=2)


def table(category):
    return list(Estimate.objects.filter(category=category).order_by("priority").values("priority", "basis", "curve"))


def test_a_category_in_business_time_gets_its_curve_in_its_calendars_open_seconds(office, category, by_the_clock):
    category.business_hours = True
    category.save()
    office_log([category, by_the_clock], now=WEDNESDAY)

    refresh_estimates(now=WEDNESDAY)

    business = Estimate.objects.get(category=category, priority=Priority.NORMAL)
    clock = Estimate.objects.get(category=by_the_clock, priority=Priority.NORMAL)
    # 38 tickets, each 2 open hours long, over weekends and the day off alike.
    assert (business.duration, business.curve[0]) == (2 * H, [0, 2 * 3600, 38])
    # By the clock, the 8 opened on a Friday took 66 hours: more than a fifth of them.
    assert (clock.duration, clock.curve[0]) == (66 * H, [0, 66 * 3600, 38])


def test_categories_around_the_clock_keep_exactly_their_numbers(office, technical, category, by_the_clock):
    on_a_24_hour_team = CategoryFactory(
        name="Escalated", escalation_path=EscalationPathFactory(name="Technical first", teams=[technical])
    )
    office_log([category, by_the_clock, on_a_24_hour_team], now=WEDNESDAY)
    refresh_estimates(now=WEDNESDAY)
    before = {c.pk: table(c) for c in (category, by_the_clock, on_a_24_hour_team)}

    category.business_hours = on_a_24_hour_team.business_hours = True
    category.save()
    on_a_24_hour_team.save()
    refresh_estimates(now=WEDNESDAY)

    assert table(by_the_clock) == before[by_the_clock.pk]
    # In business time, but its tickets start with a team that works around the clock.
    assert table(on_a_24_hour_team) == before[on_a_24_hour_team.pk]
    assert table(category) != before[category.pk]


def test_a_categorys_calendar_is_that_of_the_team_at_level_1_of_its_path(office, billing, technical, category):
    technical_first = EscalationPath.objects.create(name="Technical first")
    technical_first.levels.create(position=2, name="Billing", team=billing)  # made first, climbed to second
    technical_first.levels.create(position=1, name="Technical", team=technical)
    starts_technical = CategoryFactory(name="Outage", escalation_path=technical_first, business_hours=True)
    category.business_hours = True
    category.save()

    calendars = category_calendars()

    assert calendars[category.pk] == office
    assert calendars[starts_technical.pk] is None  # Technical works around the clock


def test_each_calendar_reads_the_history_once_in_the_same_queries(
    office, technical, category, by_the_clock, monkeypatch, django_assert_max_num_queries
):
    technical.calendar = Calendar.objects.create(
        name="Sydney office", time_zone="Australia/Sydney", weekly=[[["08:00", "18:00"]]] * 5 + [[], []]
    )
    technical.save()
    refunds = CategoryFactory(name="Refunds", escalation_path=category.escalation_path, business_hours=True)
    outages = CategoryFactory(
        name="Outages", escalation_path=EscalationPathFactory(teams=[technical]), business_hours=True
    )
    category.business_hours = True
    category.save()
    office_log([category, refunds, outages, by_the_clock], now=WEDNESDAY)
    readings = []
    read = History.in_business_time
    monkeypatch.setattr(History, "in_business_time", lambda *a, **k: readings.append(a[1]) or read(*a, **k))

    # Tickets, past tickets, categories with their calendars, those calendars and their closed days, then the
    # write: the upsert and the delete of stale rows, within a savepoint and its release.
    with django_assert_max_num_queries(9):
        refresh_estimates(now=WEDNESDAY)

    assert sorted(hours.zone.key for hours in readings) == ["Australia/Sydney", "Europe/Berlin"]
    assert Estimate.objects.get(category=refunds, priority=Priority.NORMAL).duration == 2 * H
    # Berlin's 16:00 is 02:00 the next day in Sydney, and Berlin's 10:00 is 20:00 there: a whole Sydney day.
    assert Estimate.objects.get(category=outages, priority=Priority.NORMAL).duration == 10 * H
