"""The estimator on constructed desks whose answer is known: drift, sparse groups, waiting, the future, and
the fallbacks a thin group takes.

Desks are drawn from seeded generators. Durations are exponential, so a group's P80 at opening is its mean
times ln 5; with n resolved tickets its Kaplan-Meier estimate has a relative standard error of about
1.24 / sqrt(n) (5 % for the ~560 a busy group resolves in 28 days), and tolerances are about three of them.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from tickets.estimates.estimator import DAY, HOUR, Curve, Estimator, History, Point, Policy
from tickets.estimates.models import EstimateBasis

Row = tuple[float, float | None, float, int, int]  # opened, resolved or None, waited, category, priority

LN5 = math.log(5)
YEAR = 365 * DAY
WHOLE_YEAR = Policy(first_window_days=365, longest_window_days=365)


def desk(
    rng: np.random.Generator,
    *,
    days: tuple[float, float],
    per_day: float = 0.0,
    count: int | None = None,
    mean_hours: float,
    category: int = 1,
    priority: int = 1,
    waiting: tuple[float, float] = (0.0, 0.0),
) -> list[Row]:
    """Tickets arriving at random (``per_day`` a day between ``days``, or ``count`` of them), each active
    for an exponential time of mean ``mean_hours``; a share ``waiting[0]`` of them also wait on the customer,
    an exponential time of mean ``waiting[1]`` hours. Resolved times may lie after the estimator's ``now``:
    it must not look."""
    start, end = days[0] * DAY, days[1] * DAY
    n = int(rng.poisson(per_day * (days[1] - days[0]))) if count is None else count
    opened = np.sort(rng.uniform(start, end, n))
    active = rng.exponential(mean_hours * HOUR, n)
    waited = np.where(rng.random(n) < waiting[0], rng.exponential(max(waiting[1], 1e-9) * HOUR, n), 0.0)
    return [
        (float(o), float(o + a + w), float(w), category, priority)
        for o, a, w in zip(opened, active, waited, strict=True)
    ]


def best(rows: list[Row], *, now: float, category: int = 1, priority: int = 1, policy: Policy | None = None) -> Curve:
    curve = Estimator(History.from_rows(rows), now, policy or Policy()).best(category, priority)
    assert curve is not None
    return curve


# --- drift: a recent window --------------------------------------------------------------------------------


@pytest.mark.parametrize(("before", "after"), [(20, 5), (5, 20)], ids=["sped_up", "slowed_down"])
def test_after_a_change_of_speed_the_estimate_is_the_new_speeds(before, after):
    # 300 days at one mean, then 60 days at another, ~20 tickets a day.
    rng = np.random.default_rng(before)
    rows = desk(rng, days=(0, 300), per_day=20, mean_hours=before)
    rows += desk(rng, days=(300, 360), per_day=20, mean_hours=after)
    now = 360 * DAY
    new_speed = after * HOUR * LN5

    recent = best(rows, now=now)
    whole_year = best(rows, now=now, policy=WHOLE_YEAR)

    # The first 28 days hold ~560 resolved tickets, all at the new speed: 15 % is 3 standard errors.
    assert recent.window_days == 28
    assert recent.at(0).remaining == pytest.approx(new_speed, rel=0.15)
    # A year's window is mostly the old speed: the drift the recent window fixes.
    if after < before:
        assert whole_year.at(0).remaining > 2 * new_speed
    else:
        assert whole_year.at(0).remaining < 0.5 * new_speed


def test_a_slow_group_is_seen_at_ages_longer_than_its_window():
    # Mean 20 days: the P80, 32 days, is longer than the 28-day window. Tickets opened before the window enter
    # it at the age they had then, so the curve reaches the ticket ages the desk has (60 days, the last of
    # AGES). ~560 resolved: standard errors of 5 % at opening and 7 % at 10 days.
    rng = np.random.default_rng(12)
    rows = desk(rng, days=(0, 730), per_day=20, mean_hours=20 * 24)

    curve = best(rows, now=730 * DAY)

    assert curve.window_days == 28
    assert curve.points[-1].age == 60 * DAY
    assert curve.at(0).remaining == pytest.approx(20 * DAY * LN5, rel=0.18)
    assert curve.at(10 * DAY).remaining == pytest.approx(20 * DAY * LN5, rel=0.20)


def resolved_within(rows: list[Row], *, now: float, days: float, category: int) -> int:
    return sum(1 for o, r, _, c, _ in rows if c == category and r is not None and now - days * DAY < r <= now)


def test_the_window_widens_for_a_sparse_group_and_not_for_a_busy_one():
    # Category 1: 20 tickets a day. Category 2: 0.4 a day, ~11 resolved in 28 days, ~45 in 112.
    rng = np.random.default_rng(7)
    rows = desk(rng, days=(0, 365), per_day=20, mean_hours=4, category=1)
    rows += desk(rng, days=(0, 365), per_day=0.4, mean_hours=4, category=2)
    now = YEAR

    busy, sparse = best(rows, now=now, category=1), best(rows, now=now, category=2)

    assert busy.window_days == 28
    assert busy.basis == EstimateBasis.CATEGORY_PRIORITY
    # The first width (doubling from 28 days) that holds min_sample (30) resolved tickets.
    widths = [28, 56, 112, 224, 365]
    enough = next(days for days in widths if resolved_within(rows, now=now, days=days, category=2) >= 30)
    assert enough > 28
    assert sparse.window_days == enough
    assert sparse.basis == EstimateBasis.CATEGORY_PRIORITY
    assert not sparse.thin
    assert sparse.resolved >= 30


# --- waiting on the customer and the future ----------------------------------------------------------------


def test_waiting_on_the_customer_is_left_out():
    # Active for a mean of 5 h; half the tickets also wait on the customer for a mean of 2 days. The desk
    # stopped taking tickets 10 days before now, so the window's tickets are all resolved and their waiting
    # known (~360 opened in the window, and those opened before it: 8 % standard error).
    rng = np.random.default_rng(8)
    rows = desk(rng, days=(0, 60), per_day=20, mean_hours=5, waiting=(0.5, 48))
    now = 70 * DAY
    assert sum(1 for _, r, _, _, _ in rows if r is not None and r > now) <= 5

    curve = best(rows, now=now)

    assert curve.at(0).remaining == pytest.approx(5 * HOUR * LN5, rel=0.25)
    wall_clock = [(o, r, 0.0, c, p) for o, r, _, c, p in rows]  # the same desk, its waiting not recorded
    assert best(wall_clock, now=now).at(0).remaining > 3 * curve.at(0).remaining


def test_a_ticket_resolved_after_now_is_still_open_and_its_waiting_unknown():
    # Ten tickets resolved 1 h .. 10 h after opening (one waited 30 h on the customer besides), five more
    # opened 20 h before now and resolved after it, with long waits recorded. At now those five are open at
    # 20 h: censored there. The curve falls by 1/15 an hour to 5/15 at 10 h and never reaches 0.2, so the
    # P80 goes on at the hazard of its second half (ln 2 per 5 h): 10 h + 5 h * log2(5/3).
    now = 100 * DAY
    opened = now - 5 * DAY
    rows: list[Row] = [(opened + h * HOUR, opened + h * HOUR + h * HOUR, 0.0, 1, 1) for h in range(1, 11)]
    rows[2] = (opened + 3 * HOUR, opened + 3 * HOUR + 33 * HOUR, 30 * HOUR, 1, 1)
    late: list[Row] = [(now - 20 * HOUR, now + h * HOUR, 19 * HOUR, 1, 1) for h in range(1, 6)]
    policy = Policy(min_sample=10)

    curve = best(rows + late, now=now, policy=policy)

    assert curve.resolved == 10
    assert curve.sample_size == 15
    assert curve.at(0).remaining == pytest.approx((10 + 5 * math.log2(5 / 3)) * HOUR)
    # Without the five, the ten alone give 8 h.
    assert best(rows, now=now, policy=policy).at(0).remaining == 8 * HOUR


def test_the_estimate_at_now_does_not_change_with_what_happened_after_it():
    rng = np.random.default_rng(9)
    rows = desk(rng, days=(0, 120), per_day=15, mean_hours=10, category=1, waiting=(0.3, 24))
    rows += desk(rng, days=(0, 120), per_day=3, mean_hours=30, category=2, waiting=(0.3, 24))
    now = 90 * DAY
    # The future rewritten: tickets resolved after now resolve at other times (or not at all) and waited
    # differently; tickets opened after now are gone.
    rewritten: list[Row] = []
    for i, (o, r, w, c, p) in enumerate(rows):
        if o >= now:
            continue
        if r is not None and r > now:
            r, w = (None, 0.0) if i % 3 == 0 else (r + (i % 7) * DAY, w + (i % 5) * DAY)
        rewritten.append((o, r, w, c, p))
    assert len(rewritten) < len(rows)

    for category in (1, 2):
        assert best(rewritten, now=now, category=category) == best(rows, now=now, category=category)


# --- thin groups and their fallbacks -----------------------------------------------------------------------

THIN = Policy(min_sample=60)  # a group is thin below 60 resolved tickets even over a year


@pytest.fixture(scope="module")
def fallback_desk() -> list[Row]:
    """A year of a desk where speed follows the priority in categories 1, 2 and 4, and the category in 3.

    - (1, 1): 20 a day at 2 h; (1, 2), (2, 2) and (4, 2): 5 a day at 40 h; (3, 2): 5 a day at 100 h.
    - (2, 1): 50 tickets at 2 h, like priority 1 everywhere: thin, measured, and priority 1's curve fits.
    - (3, 1): 50 tickets at 100 h, like category 3: thin, measured, and category 3's curve fits.
    - (4, 1): 6 tickets of 1 h .. 6 h: too few to measure a fit.

    With 50 of its own, a thin group's share kept under a curve that fits has a standard error of 6 points
    around 80 %; under one that doesn't it is near 100 % (or 0 %).
    """
    rng = np.random.default_rng(10)
    year = (0.0, 365.0)
    rows = desk(rng, days=year, per_day=20, mean_hours=2, category=1, priority=1)
    for category, mean in ((1, 40), (2, 40), (3, 100), (4, 40)):
        rows += desk(rng, days=year, per_day=5, mean_hours=mean, category=category, priority=2)
    rows += desk(rng, days=year, count=50, mean_hours=2, category=2, priority=1)
    rows += desk(rng, days=year, count=50, mean_hours=100, category=3, priority=1)
    rows += [(d * DAY, d * DAY + h * HOUR, 0.0, 4, 1) for h, d in enumerate((20, 80, 140, 200, 260, 320), start=1)]
    return rows


def test_a_group_with_enough_tickets_uses_its_own(fallback_desk):
    curve = best(fallback_desk, now=YEAR, category=1, priority=1, policy=THIN)

    assert curve.basis == EstimateBasis.CATEGORY_PRIORITY
    assert curve.at(0).remaining == pytest.approx(2 * HOUR * LN5, rel=0.15)


def test_a_thin_group_like_its_priority_takes_the_prioritys_curve(fallback_desk):
    curve = best(fallback_desk, now=YEAR, category=2, priority=1, policy=THIN)

    assert curve.basis == EstimateBasis.PRIORITY
    assert curve.at(0).remaining < 2 * 2 * HOUR * LN5


def test_a_thin_group_like_its_category_takes_the_categorys_curve(fallback_desk):
    curve = best(fallback_desk, now=YEAR, category=3, priority=1, policy=THIN)

    assert curve.basis == EstimateBasis.CATEGORY
    assert curve.at(0).remaining == pytest.approx(100 * HOUR * LN5, rel=0.25)


def test_a_thin_group_too_small_to_measure_takes_the_first_coarser_curve(fallback_desk):
    # (4, 1) behaves like priority 1, but six tickets can't show it: category 4's curve serves.
    curve = best(fallback_desk, now=YEAR, category=4, priority=1, policy=THIN)

    assert curve.basis == EstimateBasis.CATEGORY
    # A pair with no tickets at all, in a category with none: priority 1 across the desk.
    assert best(fallback_desk, now=YEAR, category=9, priority=1, policy=THIN).basis == EstimateBasis.PRIORITY


def test_on_a_young_desk_the_curve_with_most_resolved_tickets_serves():
    # Three days old, 2 categories x 2 priorities, 6 tickets each: every group is thin, the desk the biggest.
    rng = np.random.default_rng(11)
    rows = [
        row
        for category in (1, 2)
        for priority in (1, 2)
        for row in desk(rng, days=(0, 3), count=6, mean_hours=2, category=category, priority=priority)
    ]
    now = 3 * DAY
    resolved = sum(1 for _, r, _, _, _ in rows if r is not None and r <= now)
    assert 10 <= resolved < 30

    for category in (1, 2):
        for priority in (1, 2):
            curve = best(rows, now=now, category=category, priority=priority)
            assert (curve.basis, curve.thin, curve.resolved) == (EstimateBasis.DESK, True, resolved)


def test_with_no_history_there_is_no_estimate():
    assert Estimator(History.from_rows([]), YEAR, Policy()).best(1, 1) is None
    # Nothing resolved yet: no curve either.
    still_open: list[Row] = [(YEAR - h * HOUR, None, 0.0, 1, 1) for h in range(1, 40)]
    assert Estimator(History.from_rows(still_open), YEAR, Policy()).best(1, 1) is None


# --- the curve the guard reads -----------------------------------------------------------------------------

CURVE = Curve(
    basis=EstimateBasis.CATEGORY,
    points=(Point(0, 10 * HOUR, 50), Point(HOUR, 8 * HOUR, 40), Point(4 * HOUR, 2 * HOUR, 12)),
    sample_size=60,
    window_days=56,
)


def test_the_curve_is_exact_at_its_ages_and_linear_between():
    assert CURVE.at(0) == CURVE.points[0]
    assert CURVE.at(HOUR) == CURVE.points[1]
    assert CURVE.at(4 * HOUR) == CURVE.points[2]
    # between two ages, from the fewer tickets of the two (those seen at the older age)
    assert CURVE.at(0.5 * HOUR) == Point(age=0.5 * HOUR, remaining=9 * HOUR, seen=40)
    assert CURVE.at(2 * HOUR).remaining == pytest.approx(6 * HOUR)
    assert CURVE.at(3.5 * HOUR).remaining == pytest.approx(3 * HOUR)


def test_past_its_last_age_the_curve_keeps_its_last_point():
    assert CURVE.at(5 * HOUR) == CURVE.points[2]
    assert CURVE.at(1000 * HOUR) == CURVE.points[2]


def test_the_curve_round_trips_through_json():
    stored = CURVE.to_json()

    assert stored == [[0, 36000, 50], [3600, 28800, 40], [14400, 7200, 12]]
    again = Curve.from_json(CURVE.basis, stored, sample_size=60, window_days=56)
    assert again == CURVE
    assert again.to_json() == stored
    # Only whole seconds are kept.
    rounded = replace(CURVE, points=(Point(0.4, 100.6, 3),))
    assert rounded.to_json() == [[0, 101, 3]]
