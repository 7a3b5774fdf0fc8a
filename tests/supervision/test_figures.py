"""Every figure against values worked out by hand on the fixed world (see conftest.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.factories import TicketFactory
from tests.supervision.conftest import H, T, promise
from tickets import services
from tickets.supervision.figures import FIGURES, Period, report, rows_behind
from tickets.sweep import sweep

pytestmark = pytest.mark.django_db

UTC_ZONE = ZoneInfo("UTC")
THIRTY_DAYS = Period(start=T - timedelta(days=20), end=T + timedelta(days=10), label="30 days")
NINETY_DAYS = Period(start=T - timedelta(days=80), end=T + timedelta(days=10), label="90 days")


def by_name(rows):
    return {row.name: row for row in rows}


def counts(row):
    return {
        name: getattr(row, name)
        for name in ("made", "kept", "broken", "changed", "pending", "sooner", "sooner_kept", "sooner_broken", "slack")
    }


def agent(figures, person):
    return next(row for row in figures.agents if row.key == person.pk)


def test_alices_promises(world, alice):
    alice = agent(report(THIRTY_DAYS, zone=UTC_ZONE), alice)

    # A, B (2), C, D, E, F (2): made 8; kept A, C, F1; broken B2, D1, F2; B1 changed; E pending.
    assert counts(alice) == {
        "made": 8,
        "kept": 3,
        "broken": 3,
        "changed": 1,
        "pending": 1,
        "sooner": 1,
        "sooner_kept": 1,
        "sooner_broken": 0,
        "slack": 6,
    }
    assert (alice.kept_rate, alice.changed_rate, alice.sooner_kept_rate) == (0.5, 1 / 8, 1.0)
    # Slack (h): A +3, B2 -1, C +1.5, D1 -4 (against bob's resolution), F1 +5, F2 -1: median of -1 and +1.5.
    assert alice.slack_seconds == pytest.approx(0.25 * 3600)
    # Promised spans (h): 6, 10, 2, 6, 6, 6 -> 6. Actual: 3, 11, 0.5, 10, 1, 7 -> (3 + 7) / 2 = 5.
    assert (alice.promised_seconds, alice.actual_seconds) == (pytest.approx(6 * 3600), pytest.approx(5 * 3600))
    assert alice.estimate_seconds == pytest.approx(4 * 3600)
    # First replies on A after 10 min and B after 30 min; ratings 5 (A) and 2 (C).
    assert (alice.first_response, alice.first_response_seconds) == (2, pytest.approx(20 * 60))
    assert (alice.rating, alice.rating_average) == (2, pytest.approx(3.5))


def test_bobs_promise_after_the_breach_is_his_own(world, bob):
    bobs = agent(report(THIRTY_DAYS, zone=UTC_ZONE), bob)

    assert counts(bobs) == {
        "made": 1,
        "kept": 1,
        "broken": 0,
        "changed": 0,
        "pending": 0,
        "sooner": 0,
        "sooner_kept": 0,
        "sooner_broken": 0,
        "slack": 1,
    }
    assert (bobs.kept_rate, bobs.changed_rate, bobs.sooner_kept_rate) == (1.0, 0.0, None)
    assert (bobs.slack_seconds, bobs.promised_seconds, bobs.actual_seconds) == (3 * 3600, 5 * 3600, 2 * 3600)
    assert (bobs.first_response, bobs.first_response_seconds) == (1, pytest.approx(8 * 3600))
    assert (bobs.rating, bobs.rating_average) == (1, pytest.approx(4.0))


def test_each_team_owns_the_promises_made_while_it_had_the_ticket(world, billing, technical):
    teams = by_name(report(THIRTY_DAYS, zone=UTC_ZONE).teams)

    assert (teams["Billing"].made, teams["Billing"].kept, teams["Billing"].broken) == (8, 3, 3)
    assert (teams["Technical"].made, teams["Technical"].kept, teams["Technical"].broken) == (1, 1, 0)
    assert teams["Billing"].slack_seconds == pytest.approx(0.25 * 3600)
    # D was answered first by Technical, after the escalation; A and B by Billing.
    assert (teams["Billing"].first_response, teams["Billing"].first_response_seconds) == (2, pytest.approx(1200))
    assert (teams["Technical"].first_response, teams["Technical"].first_response_seconds) == (1, 8 * 3600)
    assert (teams["Billing"].rating_average, teams["Technical"].rating_average) == (3.5, 4.0)


def test_everyone(world):
    total = report(THIRTY_DAYS, zone=UTC_ZONE).total

    assert (total.made, total.kept, total.broken, total.changed, total.pending) == (9, 4, 3, 1, 1)
    assert (total.kept_rate, total.changed_rate) == (4 / 7, 1 / 9)
    # Slack (h): -4, -1, -1, +1.5, +3, +3, +5 -> +1.5.
    assert total.slack_seconds == pytest.approx(1.5 * 3600)
    assert (total.first_response, total.first_response_seconds) == (3, pytest.approx(30 * 60))
    assert (total.rating, total.rating_average) == (3, pytest.approx(11 / 3))


def test_the_period_decides_what_counts(world):
    assert report(NINETY_DAYS, zone=UTC_ZONE).total.made == 10  # G, 40 days before T, joins
    assert report(NINETY_DAYS, zone=UTC_ZONE).total.kept_rate == 5 / 8


def test_the_weekly_kept_rate_per_team(world, billing, technical):
    weeks = report(NINETY_DAYS, zone=UTC_ZONE).weeks

    assert [week.start for week in weeks] == [
        datetime(2026, 9, 21, tzinfo=UTC),  # G: Friday 25 September, in the week from Monday 21st
        datetime(2026, 11, 2, tzinfo=UTC),
    ]
    assert (weeks[0].kept_rate(billing.pk), weeks[0].kept_rate(technical.pk)) == (1.0, None)
    assert (weeks[1].kept_rate(billing.pk), weeks[1].kept_rate(technical.pk)) == (0.5, 1.0)


def test_weeks_start_on_monday_in_the_viewers_zone(world, billing):
    # In Auckland (UTC+13) G was made on Saturday 26 September; A to F still on Wednesday 4 November.
    weeks = report(NINETY_DAYS, zone=ZoneInfo("Pacific/Auckland")).weeks
    assert [week.start.isoformat() for week in weeks] == ["2026-09-21T00:00:00+12:00", "2026-11-02T00:00:00+13:00"]


def test_a_period_with_no_promises_has_no_rates_and_lists_the_team_members(world, alice, bob):
    empty = report(Period(start=T + timedelta(days=30), end=T + timedelta(days=31), label="later"), zone=UTC_ZONE)

    assert (empty.total.made, empty.total.kept_rate, empty.total.slack_seconds, empty.weeks) == (0, None, None, [])
    assert {row.key for row in empty.agents} == {alice.pk, bob.pk}  # shown with dashes, not left out
    assert not any(row.has_figures for row in empty.agents)


def test_all_broken_is_a_kept_rate_of_zero_not_no_rate(category, alice, dave):
    ticket = TicketFactory(customer=dave, category=category, now=T)
    promise(ticket, alice, at=T, hours=6)
    sweep(now=T + 7 * H)
    services.make_promise(ticket, due_at=T + 9 * H, by=alice, words="Sorry: by 18:00.", now=T + 8 * H, reason="Late.")
    sweep(now=T + 10 * H)

    total = report(THIRTY_DAYS, zone=UTC_ZONE).total
    assert (total.made, total.broken, total.kept_rate) == (2, 2, 0.0)
    assert total.slack_seconds is None  # never resolved: nothing to measure slack against


@pytest.mark.parametrize("figure", FIGURES)
def test_every_figure_is_the_count_of_the_rows_behind_it(world, figure, billing, technical, alice, bob):
    figures = report(THIRTY_DAYS, zone=UTC_ZONE)
    assert rows_behind(figure, THIRTY_DAYS).count() == getattr(figures.total, figure)
    for row in figures.teams:
        assert rows_behind(figure, THIRTY_DAYS, team=row.key).count() == getattr(row, figure)
    for row in figures.agents:
        assert rows_behind(figure, THIRTY_DAYS, agent=row.key).count() == getattr(row, figure)


def test_the_figures_cost_the_same_queries_for_few_and_many_rows(
    world, category, alice, dave, django_assert_num_queries
):
    # Teams; promise and rating counts (a pass each); promise and first-response medians (everyone, teams,
    # agents each); weeks; people; the guard's calibration.
    with django_assert_num_queries(12):
        report(THIRTY_DAYS, zone=UTC_ZONE)
    for hours in range(1, 20):
        promise(TicketFactory(customer=dave, category=category, now=T), alice, at=T, hours=hours + 4)
    with django_assert_num_queries(12):
        assert report(THIRTY_DAYS, zone=UTC_ZONE).total.made == 28


def test_a_date_range_runs_from_the_first_days_start_to_the_last_days_end_in_the_viewers_zone():
    period = Period.dates(date(2026, 3, 28), date(2026, 3, 29), zone=ZoneInfo("Europe/London"))
    # The clocks go forward on 29 March: the 29th is 23 hours long.
    assert period.start == datetime(2026, 3, 28, 0, 0, tzinfo=UTC)
    assert period.end == datetime(2026, 3, 29, 23, 0, tzinfo=UTC)
    assert period.end - period.start == 47 * H
