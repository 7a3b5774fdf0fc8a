"""The promise engine's rules, as pure functions: windows, states, next looks, local times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from tickets.aggregates import percentile_cont
from tickets.models import Category, PromiseState
from tickets.promise_rules import (
    aware_from_local,
    humanize_duration,
    next_check_at,
    state_at,
    warning_window,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
NOON = datetime(2027, 6, 1, 12, 0, tzinfo=ZoneInfo("UTC"))
H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("span", "expected"),
    [
        (timedelta(hours=10), timedelta(hours=2)),  # 20 % of 10 h beats 30 min
        (timedelta(hours=1), timedelta(minutes=30)),  # 30 min beats 20 % of 1 h
        (timedelta(minutes=10), timedelta(minutes=10)),  # never longer than the promise itself
    ],
)
def test_the_warning_window_is_the_larger_of_the_minimum_and_the_fraction(span, expected):
    assert warning_window(Category(), span) == expected


def test_a_category_may_override_the_window(settings):
    urgent = Category(warn_min=timedelta(minutes=5), warn_fraction=0.5)

    assert warning_window(urgent, timedelta(hours=2)) == timedelta(hours=1)
    assert warning_window(Category(warn_fraction=0.0), timedelta(hours=10)) == settings.PROMISE_WARN_MIN


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (NOON - 3 * H, PromiseState.ON_TRACK),
        (NOON - H, PromiseState.AT_RISK),  # the warning starts exactly here
        (NOON - timedelta(seconds=1), PromiseState.AT_RISK),
        (NOON, PromiseState.BREACHED),  # due means due
        (NOON + H, PromiseState.BREACHED),
    ],
)
def test_a_running_promise_is_on_track_then_at_risk_then_breached(now, state):
    assert state_at(due_at=NOON, warn_at=NOON - H, now=now) == state


@pytest.mark.parametrize(
    ("state", "paused", "expected"),
    [
        (PromiseState.ON_TRACK, False, NOON - H),
        (PromiseState.AT_RISK, False, NOON),
        (PromiseState.BREACHED, False, None),
        (PromiseState.KEPT, False, None),
        (PromiseState.ON_TRACK, True, None),
        (PromiseState.AT_RISK, True, None),
    ],
)
def test_the_sweep_looks_at_the_warning_then_the_due_time_then_never(state, paused, expected):
    assert next_check_at(state=state, due_at=NOON, warn_at=NOON - H, paused=paused) == expected


def test_a_local_time_becomes_the_right_instant():
    assert aware_from_local(datetime(2027, 7, 1, 9, 0), LONDON) == datetime(2027, 7, 1, 8, 0, tzinfo=UTC)
    assert aware_from_local(datetime(2027, 1, 1, 9, 0), LONDON) == datetime(2027, 1, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "local", "gap_from"),
    [
        (LONDON, datetime(2027, 3, 28, 1, 30), "01:00 or from 02:00"),
        (NEW_YORK, datetime(2027, 3, 14, 2, 30), "02:00 or from 03:00"),
    ],
)
def test_a_time_skipped_by_the_spring_change_is_refused_with_the_times_around_it(zone, local, gap_from):
    with pytest.raises(ValidationError, match=f"does not exist in {zone.key}.*before {gap_from}"):
        aware_from_local(local, zone)


@pytest.mark.parametrize(
    ("zone", "local"), [(LONDON, datetime(2027, 10, 31, 1, 30)), (NEW_YORK, datetime(2027, 11, 7, 1, 30))]
)
def test_a_time_that_happens_twice_in_autumn_needs_a_choice(zone, local):
    with pytest.raises(ValidationError, match="happens twice"):
        aware_from_local(local, zone)

    first, second = aware_from_local(local, zone, fold=0), aware_from_local(local, zone, fold=1)
    assert second - first == H  # the same wall time, an hour apart in reality


def test_an_aware_time_is_taken_as_it_is():
    assert aware_from_local(NOON, LONDON) is NOON


@pytest.mark.parametrize(
    ("duration", "words"),
    [
        (timedelta(seconds=20), "less than a minute"),
        (timedelta(minutes=42), "42 min"),
        (timedelta(hours=1, minutes=5), "1 h 5 min"),
        (timedelta(days=1), "1 day"),
        (timedelta(days=3, hours=4, minutes=10), "3 days 4 h"),
    ],
)
def test_durations_read_as_people_say_them(duration, words):
    assert humanize_duration(duration) == words


@pytest.mark.parametrize(
    ("values", "fraction", "expected"),
    [([10.0], 0.8, 10.0), ([1.0, 2.0, 3.0, 4.0, 5.0], 0.8, 4.2), ([5.0, 1.0, 3.0], 0.5, 3.0), ([1.0, 2.0], 1.0, 2.0)],
)
def test_the_sqlite_percentile_interpolates_like_postgresql(values, fraction, expected):
    assert percentile_cont(values, fraction) == pytest.approx(expected)
