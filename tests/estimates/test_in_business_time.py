"""A history read on a calendar's clock (``History.in_business_time``): durations in open seconds, waiting at
the ticket's share of open time, windows still in calendar days, and nothing changed around the clock."""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from tickets.business_time import Hours, weekly
from tickets.estimates.estimator import DAY, HOUR, Estimator, History, Policy

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = Hours(BERLIN, weekly([(time(9), time(17))]))  # Monday to Friday, nine to five


def berlin(*args: int) -> float:
    return datetime(*args, tzinfo=BERLIN).timestamp()


def test_durations_are_open_seconds_and_waiting_counts_at_the_tickets_share_of_open_time():
    history = History.from_rows(
        [
            # Monday 09:00 to Tuesday 17:00: 32 h, 16 of them open; of its 16 h waiting, half counts.
            (berlin(2026, 12, 7, 9), berlin(2026, 12, 8, 17), 16 * HOUR, 1, 1),
            # Saturday to Sunday: no open time, so none of its waiting either.
            (berlin(2026, 12, 5, 10), berlin(2026, 12, 6, 10), 3 * HOUR, 1, 1),
            # Opened and resolved in the same instant: it lasted no time, and waited none of it.
            (berlin(2026, 12, 9, 10), berlin(2026, 12, 9, 10), 60.0, 1, 1),
            # Still open.
            (berlin(2026, 12, 9, 12), None, 0.0, 1, 1),
        ]
    )

    clocked, moments = history.in_business_time(OFFICE, moments=[berlin(2026, 12, 10, 9)])

    assert (clocked.resolved - clocked.opened)[:3].tolist() == [16 * HOUR, 0.0, 0.0]
    assert clocked.waited.tolist() == [8 * HOUR, 0.0, 0.0, 0.0]
    assert clocked.resolved[3] == math.inf
    assert moments[0] - clocked.opened[3] == 5 * HOUR  # Wednesday 12:00 to 17:00, nothing before 09:00
    assert history.opened[0] == berlin(2026, 12, 7, 9)  # the history read is a new one


def test_an_open_tickets_waiting_so_far_counts_at_its_share_of_open_time_until_now_or_the_export():
    monday, now = berlin(2026, 12, 7, 9), berlin(2026, 12, 9, 9)
    history = History.from_rows(
        [(monday, None, 0.0, 1, 1), (monday, None, 0.0, 1, 1)],
        waited_open=[24 * HOUR, 12 * HOUR],
        # The first is the desk's own (known up to now); the second was imported on Tuesday at 09:00.
        known_until=[math.inf, berlin(2026, 12, 8, 9)],
    )

    clocked, _ = history.in_business_time(OFFICE, now=now)

    # 48 h to now, 16 open: a third of 24 h; 24 h to the export, 8 open: a third of 12 h.
    assert clocked.waited_open is not None and clocked.known_until is not None
    assert clocked.waited_open.tolist() == pytest.approx([8 * HOUR, 4 * HOUR])
    assert clocked.known_until[0] == math.inf
    assert clocked.known_until[1] - clocked.opened[1] == 8 * HOUR


def test_on_a_business_clock_the_windows_are_still_the_last_calendar_days():
    # Two tickets each weekday for 200 days, each two open hours long (opened 15:00, resolved 17:00).
    now = datetime(2026, 12, 9, 12, tzinfo=BERLIN)
    days = [now.date() - timedelta(days=n) for n in range(1, 200)]
    rows: list[tuple[float, float | None, float, int, int]] = [
        (berlin(d.year, d.month, d.day, 15), berlin(d.year, d.month, d.day, 17), 0.0, 1, 1)
        for d in days
        for _ in range(2)
        if d.weekday() < 5
    ]
    policy = Policy(min_sample=30)
    starts = policy.window_starts(now.timestamp())

    clocked, read = History.from_rows(rows).in_business_time(OFFICE, moments=[now.timestamp(), *starts])
    curve = Estimator(clocked, float(read[0]), policy, window_starts=read[1:].tolist()).best(1, 1)

    # The 28 calendar days from Wednesday 11 November hold 20 weekdays: 40 tickets (28 x 24 open hours would
    # reach back 84 weekdays).
    assert curve is not None
    assert (curve.window_days, curve.sample_size, curve.points[0].remaining) == (28, 40, 2 * HOUR)


def test_around_the_clock_a_history_read_on_the_clock_gives_the_same_curve():
    rng = np.random.default_rng(4)
    opened = np.sort(rng.uniform(0, 120 * DAY, 600)) + berlin(2026, 1, 5)
    took, waited = rng.exponential(20 * HOUR, 600), np.where(rng.random(600) < 0.3, rng.exponential(HOUR, 600), 0)
    rows = [(float(o), float(o + t + w), float(w), 1, 1) for o, t, w in zip(opened, took, waited, strict=True)]
    history, now, policy = History.from_rows(rows), float(opened[-1]), Policy()

    clocked, read = history.in_business_time(Hours.around_the_clock(BERLIN), moments=[now, *policy.window_starts(now)])
    on_clock = Estimator(clocked, float(read[0]), policy, window_starts=read[1:].tolist()).best(1, 1)

    assert on_clock == Estimator(history, now, policy).best(1, 1)
