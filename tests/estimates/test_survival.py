"""Kaplan-Meier on samples whose answer is known: the product-limit curve and the time still to run.

Each sample is drawn from a seeded generator, large enough that the tolerance is about three standard errors
of the estimate (the comments give the arithmetic), so a failure means the estimate is wrong, not unlucky.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tickets.estimates.estimator import DAY, HOUR
from tickets.estimates.survival import Floats, Survival, kaplan_meier

P80 = 0.8
LN5 = math.log(5)  # an exponential's P80 is its mean times ln 5 (e^{-t/mean} = 0.2)


def survival(exit: Floats, event: np.ndarray, entry: Floats | None = None) -> Survival:
    exit = np.asarray(exit, dtype=np.float64)
    entry = np.zeros_like(exit) if entry is None else np.asarray(entry, dtype=np.float64)
    return kaplan_meier(entry, exit, np.asarray(event, dtype=bool))


def p80_to_run(curve: Survival, age: float) -> float:
    """The P80 of the time still to run at ``age``, which these samples always tell."""
    value = curve.remaining(age, P80)
    assert value is not None
    return value


def censored(durations: Floats, censor_at: Floats) -> tuple[Floats, np.ndarray]:
    """What the window sees: each ticket until it was resolved or, if sooner, until it stopped being seen."""
    return np.minimum(durations, censor_at), durations <= censor_at


# --- no censoring: the empirical distribution -------------------------------------------------------------

DURATIONS = np.array([2, 3, 3, 5, 8, 13, 21, 34, 55, 89], dtype=np.float64) * HOUR


def test_without_censoring_the_curve_is_the_share_still_open():
    curve = survival(DURATIONS, np.ones(10, dtype=bool))

    for age in (0, 1, 2, 2.5, 3, 4, 8, 20, 21, 88, 89, 100):
        assert curve.at(age * HOUR) == pytest.approx(np.mean(age * HOUR < DURATIONS))


@pytest.mark.parametrize(
    ("fraction", "hours"),
    [(0.1, 2), (0.25, 3), (0.3, 3), (0.5, 8), (0.8, 34), (0.9, 55), (1.0, 89)],
)
def test_without_censoring_the_time_to_run_at_opening_is_the_empirical_quantile(fraction, hours):
    # The smallest duration by which at least ``fraction`` of the ten were resolved.
    curve = survival(DURATIONS, np.ones(10, dtype=bool))

    assert curve.remaining(0.0, fraction) == hours * HOUR


def test_without_censoring_the_time_to_run_at_an_age_is_the_quantile_of_those_still_open():
    curve = survival(DURATIONS, np.ones(10, dtype=bool))

    # Open at 10 h: 13, 21, 34, 55 and 89 h. Half of them are resolved by 34 h, 24 h later; four of the five
    # by 55 h, 45 h later.
    assert curve.remaining(10 * HOUR, 0.5) == 24 * HOUR
    assert curve.remaining(10 * HOUR, P80) == 45 * HOUR
    # Open at 21 h: the one resolved at 21 h no longer is. At least half the three left (two) by 55 h.
    assert curve.remaining(21 * HOUR, 0.5) == 34 * HOUR


# --- censoring ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exponential_censored() -> tuple[Floats, np.ndarray]:
    """4,000 tickets of mean 10 h, each seen for an independent exponential time of mean 15 h: a ticket is
    hidden when its censoring comes first, with probability (1/15) / (1/10 + 1/15) = 40 %."""
    rng = np.random.default_rng(20261207)
    n = 4000
    return censored(rng.exponential(10 * HOUR, n), rng.exponential(15 * HOUR, n))


def test_censoring_leaves_the_p80_of_an_exponential_where_it_is(exponential_censored):
    exit, event = exponential_censored
    truth = 10 * HOUR * LN5
    assert 0.37 < 1 - event.mean() < 0.43

    # Greenwood's variance at the P80 gives a relative standard error of 2.8 % here: 8 % is about 3 of them.
    assert p80_to_run(survival(exit, event), 0.0) == pytest.approx(truth, rel=0.08)


def test_the_p80_of_the_resolved_tickets_alone_is_far_too_short(exponential_censored):
    # The bug the estimator fixes: the tickets resolved before they were hidden are the quick ones (their
    # durations are exponential with mean 6 h), so their P80 is about 60 % of the truth.
    exit, event = exponential_censored
    truth = 10 * HOUR * LN5

    assert np.quantile(exit[event], P80) < 0.85 * truth


def test_an_exponential_has_the_same_time_to_run_at_every_age():
    # Memoryless. At 20 h only e^{-2} * e^{-4/3} = 3.6 % are still seen, so the sample is 100,000 (3,600 at
    # risk, a relative standard error of 3.3 % for the time to run there): 10 % is about 3 of them.
    rng = np.random.default_rng(1)
    n = 100_000
    curve = survival(*censored(rng.exponential(10 * HOUR, n), rng.exponential(15 * HOUR, n)))
    truth = 10 * HOUR * LN5

    at = {age: p80_to_run(curve, age * HOUR) for age in (0, 1, 5, 20)}

    assert at == {age: pytest.approx(truth, rel=0.10) for age in at}
    assert max(at.values()) / min(at.values()) < 1.10


# --- a heavy tail -------------------------------------------------------------------------------------------


def test_a_heavy_tail_has_more_time_to_run_the_older_the_ticket():
    # Pareto, x_m = 1 h, alpha = 1.5: S(t) = (1 h / t)^1.5, so a ticket open at age a >= 1 h has a P80 of
    # a * (5^(1/alpha) - 1) still to run. Seen for an exponential time of mean 50 h (5 % hidden, nearly all in
    # the tail). At 10 h only 3 % are left, so 200,000 tickets: ~5,000 at risk, a relative standard error of
    # 3 % for the time to run: 12 % is 4 of them.
    rng = np.random.default_rng(2)
    n = 200_000
    alpha = 1.5
    durations = HOUR * (1 + rng.pareto(alpha, n))
    curve = survival(*censored(durations, rng.exponential(50 * HOUR, n)))

    def truth(age: float) -> float:
        return age * (5 ** (1 / alpha) - 1)

    at_2h, at_10h = p80_to_run(curve, 2 * HOUR), p80_to_run(curve, 10 * HOUR)

    assert at_2h == pytest.approx(truth(2 * HOUR), rel=0.12)
    assert at_10h == pytest.approx(truth(10 * HOUR), rel=0.12)
    assert p80_to_run(curve, HOUR) < at_2h < p80_to_run(curve, 5 * HOUR) < at_10h


# --- an age-dependent mixture -------------------------------------------------------------------------------


def mixture_p80() -> float:
    """The P80 at opening of 60 % exponential with mean 1 h and 40 % with mean 5 days, by bisection."""

    def still_open(t: float) -> float:
        return 0.6 * math.exp(-t / HOUR) + 0.4 * math.exp(-t / (5 * DAY))

    low, high = 0.0, 100 * DAY
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (middle, high) if still_open(middle) > 0.2 else (low, middle)
    return low


def test_once_the_quick_tickets_are_gone_the_time_to_run_is_the_slow_groups():
    # 60 % quick (mean 1 h), 40 % slow (mean 5 days), seen for an exponential time of mean 50 days. At 12 h the
    # quick ones are gone (0.6 e^{-12} of them left) and ~3,600 slow ones remain: a relative standard error
    # of 2 % for their P80, 5 days * ln 5.
    rng = np.random.default_rng(3)
    n = 10_000
    quick = rng.random(n) < 0.6
    durations = np.where(quick, rng.exponential(HOUR, n), rng.exponential(5 * DAY, n))
    curve = survival(*censored(durations, rng.exponential(50 * DAY, n)))

    at_opening = p80_to_run(curve, 0.0)
    at_12h = p80_to_run(curve, 12 * HOUR)

    # At opening the slow 40 % set the P80 (about 83 h), far beyond the quick group's 1 h * ln 5.
    assert at_opening == pytest.approx(mixture_p80(), rel=0.10)
    assert at_opening > 30 * HOUR * LN5
    assert at_12h == pytest.approx(5 * DAY * LN5, rel=0.10)


# --- late entry ---------------------------------------------------------------------------------------------


def test_tickets_seen_from_a_later_age_give_the_same_curve():
    # Lognormal durations (median 6 h, sigma 1: not memoryless, so an entry age matters). Half the tickets
    # are seen from opening; half only from a random age up to 48 h (opened before the window began), and
    # those resolved before that age are never seen at all (41 % of them). Relative standard errors of the
    # ratios below are under 2 %.
    rng = np.random.default_rng(4)
    n = 20_000
    exit, event = censored(rng.lognormal(math.log(6 * HOUR), 1.0, n), rng.exponential(100 * HOUR, n))
    entry = np.where(rng.random(n) < 0.5, 0.0, rng.uniform(0, 48 * HOUR, n))
    seen = entry < exit
    full = survival(exit, event)

    late = survival(exit[seen], event[seen], entry[seen])
    entry_ignored = survival(exit[seen], event[seen])

    for age in (0, 2 * HOUR, 12 * HOUR, 48 * HOUR):
        assert p80_to_run(late, age) == pytest.approx(p80_to_run(full, age), rel=0.06)
    for age in (2 * HOUR, 6 * HOUR, 24 * HOUR):
        assert late.at(age) == pytest.approx(full.at(age), rel=0.06)
    # Counted as seen from opening, the late ones would make tickets look slower than they are (~20 %).
    assert p80_to_run(entry_ignored, 0.0) > 1.1 * p80_to_run(full, 0.0)


# --- past the last resolution seen --------------------------------------------------------------------------


def test_past_the_last_resolution_the_curve_goes_on_at_a_constant_hazard():
    # Every ticket hidden at 15 h (1.5 times the mean): S(15 h) = e^{-1.5} = 0.22 never reaches 0.2, so the P80
    # lies beyond what was seen. For an exponential the constant hazard is the truth; with 4,000 tickets the
    # extrapolated P80 has a relative standard error of 2 % at opening, 3 % past 15 h.
    rng = np.random.default_rng(5)
    n = 4000
    curve = survival(*censored(rng.exponential(10 * HOUR, n), np.full(n, 15 * HOUR)))
    truth = 10 * HOUR * LN5

    assert curve.at(15 * HOUR) > 0.2
    assert p80_to_run(curve, 0.0) == pytest.approx(truth, rel=0.10)
    assert p80_to_run(curve, 5 * HOUR) == pytest.approx(truth, rel=0.10)
    assert p80_to_run(curve, 20 * HOUR) == pytest.approx(truth, rel=0.10)  # older than any seen


def test_with_no_resolutions_the_curve_cannot_say():
    curve = survival(np.array([1, 2, 3]) * HOUR, np.zeros(3, dtype=bool))

    assert curve.at(10 * HOUR) == 1.0
    assert curve.remaining(0.0, P80) is None
    assert curve.remaining(2 * HOUR, P80) is None


def test_seen_at_counts_the_tickets_entered_and_not_yet_resolved():
    # Spells [0, 3], [0, 8], [5, 12], [10, 20]: a ticket counts at the age it entered and the age it left.
    curve = survival(np.array([3, 8, 12, 20.0]), np.array([True, True, False, True]), np.array([0, 0, 5, 10.0]))

    counts = {age: curve.seen_at(age) for age in (0, 3, 4, 5, 9, 10, 12, 15, 20, 25)}

    assert counts == {0: 2, 3: 2, 4: 1, 5: 2, 9: 1, 10: 2, 12: 2, 15: 1, 20: 1, 25: 0}
