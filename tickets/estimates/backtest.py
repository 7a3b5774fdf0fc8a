"""Replay a history through the estimate code in time order, and count how often its promises were kept.

At each moment a promise is made (a ticket's opening, and +1 hour and +1 day for tickets still open), the
estimate is the one production would have had: computed by ``Estimator.best`` at the last refresh before
that moment (``every`` seconds apart, as the periodic task runs), from what was known then (a ticket
resolved later was still open; its waiting not yet known). A promise is kept when the ticket was resolved
within it, waiting on the customer left out (the desk moves a promise on by the time it waits).

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

from tickets.estimates.estimator import DAY, HOUR, Estimator, History, Policy
from tickets.estimates.models import EstimateBasis

MOMENTS = (("at_opening", 0.0), ("at_1_hour", HOUR), ("at_1_day", DAY))
PREVIOUS_RULE = "previous_rule"  # the first version: the percentile of whole durations resolved in 90 days


@dataclass(frozen=True)
class Promised:
    """One promise of the replay, and whether it was kept."""

    moment: str
    made_at: float  # epoch seconds
    promised: float  # seconds from ``made_at``
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
    default_target: float = 8 * HOUR,
    warmup_days: float = 0.0,
    counted_from: datetime | None = None,
    previous_rule: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> Replay:
    """Replay ``rows``; promises before ``counted_from`` (or the first ``warmup_days`` of the log) only feed
    the history."""
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

    names = {code: name for name, code in priorities.items()}, {code: name for name, code in categories.items()}
    for done, refreshed_at in enumerate(sorted(by_refresh)):
        estimator = Estimator(history, refreshed_at, policy)
        previous = _previous_rule(history, refreshed_at, policy.fraction) if previous_rule else None
        for i, moment, after in by_refresh[refreshed_at]:
            category, priority = int(history.category[i]), int(history.priority[i])
            curve = estimator.best(category, priority)
            if curve is None:
                promised, basis = default_target, EstimateBasis.DEFAULT.value
            else:
                promised, basis = curve.at(after).remaining, curve.basis
            made_at = float(history.opened[i] + after)
            labels = (names[0][priority], names[1][category])
            result.promises.append(_judged(history, i, moment, made_at, promised, basis, end, labels))
            if previous_rule:
                took = previous if previous is not None else default_target
                result.previous.append(_judged(history, i, moment, made_at, took, PREVIOUS_RULE, end, labels))
        if progress is not None:
            progress(done + 1, len(by_refresh))
    return result


def _judged(
    history: History,
    i: int,
    moment: str,
    made_at: float,
    promised: float,
    basis: str,
    end: float,
    labels: tuple[str, str],
) -> Promised:
    due = made_at + promised
    resolved = history.resolved[i]
    # Resolved within the promise, its waiting on the customer added to it (the desk moves a promise on by
    # the time it waits). Still open at the log's end: broken if the promise fell due inside the log, else
    # the log can't tell.
    kept: bool | None = bool(resolved - history.waited[i] <= due)
    if not np.isfinite(resolved) and due > end:
        kept = None
    return Promised(moment, made_at, promised, kept, basis, labels[0], labels[1])


def counted(promises: Iterable[Promised]) -> list[Promised]:
    """The promises whose outcome the log tells (a ticket still open at its end, due after it, doesn't)."""
    return [p for p in promises if p.kept is not None]


def _previous_rule(history: History, now: float, fraction: float, days: float = 90) -> float | None:
    """The first version of the guard: the percentile of whole durations of tickets resolved in 90 days."""
    done = (history.resolved <= now) & (history.resolved > now - days * DAY)
    if not done.any():
        return None
    return float(np.quantile(history.resolved[done] - history.opened[done], fraction))


def _codes(values: Iterable[str]) -> dict[str, int]:
    """Each distinct value a group number from 1 (0 is "any" to the estimator)."""
    return {value: code for code, value in enumerate(sorted(set(values)), start=1)}


def as_datetime(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)
