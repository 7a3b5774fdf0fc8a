"""Replay a history through the estimate code in time order, and count how often its promises were kept.

At each moment a promise is made (a ticket's opening, and +1 hour and +1 day for tickets still open), the
estimate is the one production would have had: computed by ``Estimator.best`` at the last refresh before
that moment (``every`` seconds apart, as the periodic task runs), from what was known then (a ticket
resolved later was still open; its waiting not yet known). A promise is kept when the ticket was resolved
within it, waiting on the customer left out (the desk moves a promise on by the time it waits).

With ``hours`` (a business calendar) the whole replay runs in its business time, as a category that runs
in business time does in production: the history is read on the calendar's clock (``History.in_business_time``,
waiting at each ticket's share of open time), the curve is read at the ticket's age in open time, and a
promise of D business seconds made at t is due when D open seconds have passed (``Hours.add(t, D)``, the due
time moved on by the open share of its waiting); it is kept when the ticket was resolved by then. Promises are
still made at real moments (at opening, an hour and a day later) and the refreshes run every ``every`` real
seconds: only the durations are business time.

No database: the rows come from ``files.read_history``; categories and priorities group as written.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

import numpy as np

from tickets.business_time import Hours
from tickets.estimates.estimator import DAY, HOUR, Estimator, History, Policy
from tickets.estimates.models import EstimateBasis

MOMENTS = (("at_opening", 0.0), ("at_1_hour", HOUR), ("at_1_day", DAY))
PREVIOUS_RULE = "previous_rule"  # the first version: the percentile of whole durations resolved in 90 days
PREVIOUS_RULE_DAYS = 90


@dataclass(frozen=True)
class Promised:
    """One promise of the replay, and whether it was kept."""

    moment: str
    made_at: float  # epoch seconds
    promised: float  # seconds from ``made_at`` (business seconds in a replay in business time)
    kept: bool | None  # None: still open at the log's end, due after it
    basis: str
    priority: str
    category: str


@dataclass
class Replay:
    """What a replay promised (after the warm-up), under the estimate and, for comparison, the first rule."""

    promises: list[Promised] = field(default_factory=list)
    previous: list[Promised] = field(default_factory=list)
    tickets: int = 0
    first_counted: float = 0.0


class Past(Protocol):
    """What the replay reads of a history row (``files.HistoryRow`` and ``Source`` have it)."""

    @property
    def opened_at(self) -> datetime: ...
    @property
    def resolved_at(self) -> datetime | None: ...
    @property
    def priority(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def waited(self) -> timedelta: ...


@dataclass(frozen=True)
class Source:
    """A history row made up for a replay (tests, benchmarks)."""

    opened_at: datetime
    resolved_at: datetime | None
    priority: str
    category: str
    waited: timedelta


def replay(
    rows: Sequence[Past],
    *,
    policy: Policy,
    every: float,
    hours: Hours | None = None,
    default_target: float = 8 * HOUR,
    warmup_days: float = 0.0,
    counted_from: datetime | None = None,
    previous_rule: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> Replay:
    """Replay ``rows`` (in business time where ``hours`` are given: see the module); promises before
    ``counted_from`` (or the first ``warmup_days`` of the log) only feed the history."""
    priorities = _codes(row.priority for row in rows)
    categories = _codes(row.category for row in rows)
    history = History.from_rows(
        [
            (
                row.opened_at.timestamp(),
                row.resolved_at.timestamp() if row.resolved_at else None,
                row.waited.total_seconds(),
                categories[row.category],
                priorities[row.priority],
            )
            for row in rows
        ]
    )
    end = float(np.nanmax(np.concatenate([history.opened, history.resolved[np.isfinite(history.resolved)]])))
    start = float(history.opened.min()) + warmup_days * DAY
    if counted_from is not None:
        start = max(start, counted_from.timestamp())
    result = Replay(tickets=len(rows), first_counted=start)

    # Every promise to make, by the refresh it would have read.
    by_refresh: dict[float, list[tuple[int, str, float]]] = defaultdict(list)
    for i in range(len(rows)):
        for moment, after in MOMENTS:
            made_at = history.opened[i] + after
            if made_at < start or made_at >= end or history.resolved[i] <= made_at:
                continue  # warm-up, after the log's end, or no longer open then
            by_refresh[math.floor(made_at / every) * every].append((i, moment, after))
    clock = _Clock(history, sorted(by_refresh), by_refresh, end=end, policy=policy, hours=hours)

    names = {code: name for name, code in priorities.items()}, {code: name for name, code in categories.items()}
    promise = 0
    for done, refreshed_at in enumerate(clock.refreshes):
        estimator = Estimator(clock.history, clock.now[done], policy, window_starts=clock.window_starts[done])
        previous = (
            _previous_rule(clock.history, clock.now[done], clock.previous_since[done], policy.fraction)
            if previous_rule
            else None
        )
        for i, moment, _ in by_refresh[refreshed_at]:
            category, priority = int(history.category[i]), int(history.priority[i])
            curve = estimator.best(category, priority)
            if curve is None:
                promised, basis = default_target, EstimateBasis.DEFAULT.value
            else:
                promised, basis = curve.at(clock.age[promise]).remaining, curve.basis
            made = (float(clock.made_at[promise]), float(clock.made_read[promise]))
            labels = (names[0][priority], names[1][category])
            result.promises.append(_judged(clock, i, moment, made, promised, basis, labels))
            if previous_rule:
                took = previous if previous is not None else default_target
                result.previous.append(_judged(clock, i, moment, made, took, PREVIOUS_RULE, labels))
            promise += 1
        if progress is not None:
            progress(done + 1, len(clock.refreshes))
    return result


class _Clock:
    """The replay's moments in the time its promises run in: elapsed time as it is, or with ``hours`` the
    history, the log's end, each refresh's ``now`` and windows' starts and each promise's moment read on
    the calendar's clock in one reading (``History.in_business_time``)."""

    def __init__(
        self,
        history: History,
        refreshes: list[float],
        by_refresh: dict[float, list[tuple[int, str, float]]],
        *,
        end: float,
        policy: Policy,
        hours: Hours | None,
    ) -> None:
        self.refreshes, self.hours, self.resolved_at = refreshes, hours, history.resolved
        made = [(i, after) for refreshed_at in refreshes for i, _, after in by_refresh[refreshed_at]]
        rows = np.array([i for i, _ in made], dtype=np.int64)
        after = np.array([after for _, after in made], dtype=np.float64)
        self.made_at = history.opened[rows] + after
        now = np.array(refreshes, dtype=np.float64)
        starts = now[:, None] - np.array(list(policy.windows()))
        real = np.concatenate([[end], now, starts.ravel(), now - PREVIOUS_RULE_DAYS * DAY, self.made_at])
        self.history, read = (history, real) if hours is None else history.in_business_time(hours, moments=real)
        end_read, now_read, starts_read, since_read, self.made_read = np.split(
            read, np.cumsum([1, now.size, starts.size, now.size])
        )
        self.end = float(end_read[0])
        self.now = now_read.tolist()
        self.window_starts = starts_read.reshape(starts.shape).tolist()
        self.previous_since = since_read.tolist()
        # A ticket's age when promised: in elapsed time exactly the moment's offset; else its open time.
        self.age = after if hours is None else self.made_read - self.history.opened[rows]

    def open_before_resolution(self, i: int) -> bool:
        """Whether the desk was open just before ticket ``i`` was resolved: where its resolution reads the
        same on the clock as its due time, it was resolved in the instant the promise fell due (kept), or
        while the desk was closed after it (late: the clock stands still then, the due time had passed)."""
        if self.hours is None:
            return True
        resolved = datetime.fromtimestamp(float(self.resolved_at[i]), UTC)
        return self.hours.is_open(resolved - timedelta(microseconds=1))


def _judged(
    clock: _Clock,
    i: int,
    moment: str,
    made: tuple[float, float],
    promised: float,
    basis: str,
    labels: tuple[str, str],
) -> Promised:
    """A promise made at ``made`` (epoch seconds, and as read on the replay's clock) for ``promised``."""
    made_at, made_read = made
    due = made_read + promised
    resolved = clock.history.resolved[i]
    # Resolved within the promise, its waiting on the customer added to it (the desk moves a promise on by
    # the time it waits). Still open at the log's end: broken if the promise fell due inside the log, else
    # the log can't tell.
    late = resolved - clock.history.waited[i] - due
    kept: bool | None = bool(late < 0 or (late == 0 and clock.open_before_resolution(i)))
    if not np.isfinite(resolved) and due > clock.end:
        kept = None
    return Promised(moment, made_at, promised, kept, basis, labels[0], labels[1])


def counted(promises: Iterable[Promised]) -> list[Promised]:
    """The promises whose outcome the log tells (a ticket still open at its end, due after it, doesn't)."""
    return [p for p in promises if p.kept is not None]


def _previous_rule(history: History, now: float, since: float, fraction: float) -> float | None:
    """The first version of the guard: the percentile of whole durations of tickets resolved in the last 90
    days (``since`` to ``now``)."""
    done = (history.resolved <= now) & (history.resolved > since)
    if not done.any():
        return None
    return float(np.quantile(history.resolved[done] - history.opened[done], fraction))


def _codes(values: Iterable[str]) -> dict[str, int]:
    """Each distinct value a group number from 1 (0 is "any" to the estimator)."""
    return {value: code for code, value in enumerate(sorted(set(values)), start=1)}


def as_datetime(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)
