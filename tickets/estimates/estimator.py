"""The one estimate code: from a history (what was known at a moment) to the curve the guard reads.

The periodic refresh (``refresh``) and the backtest (``backtest``) both call ``Estimator.best``, so a
replayed log measures exactly what production promises.

1. **Groups.** A ticket's category and priority, then coarser: its category, its priority, the whole desk.
2. **A recent window that widens.** A group's tickets seen in the last ``first_window_days``, doubled
   until the window holds ``min_sample`` resolved tickets (at most ``longest_window_days``). A ticket is
   seen if it was open at some moment of the window: one opened earlier enters at the age it had when the
   window began (late entry), so old slow tickets still count, at the ages the window saw them.
3. **Survival.** Kaplan-Meier over the window's spells of active time (waiting on the customer left out),
   open tickets censored at their age; at each age of ``AGES``, the ``fraction`` percentile of the time
   still to run for a ticket still open at that age.
4. **Fallbacks by calibration.** Where the group holds fewer than ``min_sample`` resolved tickets even at
   its longest window (it is *thin*), the coarser curve whose promise at opening its own tickets would
   have kept closest to ``fraction`` serves (finer first on a tie); with too few of its own to measure
   that, the finest coarser one. On a young desk where every group is thin, the one with most history.
5. **Past the tickets seen.** Where the curve never falls low enough within the ages the window saw, it
   goes on at the rate it fell over the second half of them (``Survival.remaining``).

Durations are in the history's time: elapsed seconds, or business seconds for a history read on a
calendar's clock (``History.in_business_time``). The windows are calendar days either way (the last 28 days
are recent whatever the desk's hours), so such an estimator is told where they start on that clock.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from tickets.business_time import Hours, open_seconds
from tickets.estimates.models import EstimateBasis
from tickets.estimates.survival import Floats, Survival, kaplan_meier

HOUR = 3600.0
DAY = 24 * HOUR
# The ages at which the curve says how long is still to run: finer where promises are usually made.
AGES = tuple(
    h * HOUR for h in (0, 0.25, 0.5, 1, 2, 4, 8, 12, 24, 36, 48, 72, 96, 120, 168, 240, 336, 504, 720, 1080, 1440)
)
# A point of the curve needs this many tickets seen open at its age (fewer, and the curve stops there).
MIN_SEEN = 10
# A group's own tickets measure a coarser curve's calibration from this many seen.
MIN_TO_MEASURE = 10

ANY = 0  # "any category" or "any priority" in a group's key


@dataclass(frozen=True)
class Policy:
    """The estimate's settings (``Policy.from_settings`` reads them)."""

    fraction: float = 0.8
    first_window_days: int = 28
    longest_window_days: int = 365
    min_sample: int = 30

    @classmethod
    def from_settings(cls) -> Policy:
        from django.conf import settings

        return cls(
            fraction=settings.PROMISE_ESTIMATE_PERCENTILE,
            first_window_days=settings.PROMISE_ESTIMATE_WINDOW_DAYS,
            longest_window_days=settings.PROMISE_ESTIMATE_LOOKBACK_DAYS,
            min_sample=settings.PROMISE_ESTIMATE_MIN_SAMPLE,
        )

    def windows(self) -> Iterator[float]:
        """The window's widths in seconds: the first, doubled, up to the longest."""
        days = min(self.first_window_days, self.longest_window_days)
        while days < self.longest_window_days:
            yield days * DAY
            days *= 2
        yield self.longest_window_days * DAY

    def window_starts(self, now: float) -> list[float]:
        """Where each window begins for an estimate at ``now`` (epoch seconds), narrowest first."""
        return [now - width for width in self.windows()]


@dataclass(frozen=True)
class Point:
    age: float  # seconds of active time the ticket has lasted
    remaining: float  # the percentile of the time still to run, in seconds
    seen: int  # tickets the window saw open at that age


@dataclass(frozen=True)
class Curve:
    """What a group's history says, age by age: the row the guard reads."""

    basis: str  # an EstimateBasis value
    points: tuple[Point, ...]
    sample_size: int  # tickets in the window
    window_days: int
    resolved: int = 0  # of them, resolved
    thin: bool = False  # fewer resolved than the policy's min_sample: used only where nothing better is

    def at(self, age: float) -> Point:
        """The point for a ticket of ``age`` seconds: interpolated between the curve's ages (from the fewer
        tickets of the two); past its last age (older than the history saw enough tickets), the last point,
        whose ``age`` says so."""
        age = max(age, 0.0)
        ages = [p.age for p in self.points]
        i = bisect.bisect_right(ages, age) - 1
        here = self.points[i]
        if i + 1 == len(self.points) or age == here.age:
            return here
        there = self.points[i + 1]
        share = (age - here.age) / (there.age - here.age)
        remaining = here.remaining + share * (there.remaining - here.remaining)
        return Point(age=age, remaining=remaining, seen=min(here.seen, there.seen))

    def to_json(self) -> list[list[float | int]]:
        return [[round(p.age), round(p.remaining), p.seen] for p in self.points]

    @classmethod
    def from_json(cls, basis: str, points: list[list[float]], *, sample_size: int, window_days: int) -> Curve:
        return cls(
            basis=basis,
            points=tuple(Point(age=a, remaining=r, seen=int(s)) for a, r, s in points),
            sample_size=sample_size,
            window_days=window_days,
        )


@dataclass
class History:
    """Tickets as arrays: opened and resolved times (epoch seconds; resolved ``inf`` while open), time
    spent waiting on the customer (seconds), category and priority."""

    opened: Floats
    resolved: Floats
    waited: Floats
    category: np.ndarray
    priority: np.ndarray
    # The waiting of tickets still open, as far as it is known (production knows it; a replay doesn't).
    waited_open: Floats | None = None
    # When the history stopped knowing a ticket still open (epoch seconds; inf: it knows it up to now).
    known_until: Floats | None = None
    _groups: dict[tuple[int, int], np.ndarray] = field(default_factory=dict, repr=False)

    @classmethod
    def from_rows(
        cls,
        rows: list[tuple[float, float | None, float, int, int]],
        *,
        waited_open: list[float] | None = None,
        known_until: list[float] | None = None,
    ) -> History:
        """From ``(opened, resolved or None, waited, category, priority)`` rows, what open tickets have
        waited so far and until when they were known (when the caller knows)."""
        data = np.array([(o, np.inf if r is None else r, w, c, p) for o, r, w, c, p in rows], dtype=np.float64)
        data = data.reshape(-1, 5)
        return cls(
            opened=data[:, 0],
            resolved=data[:, 1],
            waited=data[:, 2],
            category=data[:, 3].astype(np.int64),
            priority=data[:, 4].astype(np.int64),
            waited_open=None if waited_open is None else np.array(waited_open, dtype=np.float64),
            known_until=None if known_until is None else np.array(known_until, dtype=np.float64),
        )

    def in_business_time(
        self, hours: Hours, *, moments: Sequence[float] | Floats = (), now: float = math.inf
    ) -> tuple[History, Floats]:
        """This history read on the clock of ``hours`` (``business_time.open_seconds``), and ``moments`` (epoch
        seconds: an estimate's ``now``, its windows' starts) read with it, in one reading: every duration
        between them is then business time.

        Waiting on the customer is known as elapsed seconds, not when it fell, so it counts at the ticket's
        share of open time: waited x business / elapsed duration of the spell it was measured over (opening
        to resolution; for a ticket still open, opening to ``now`` or to when the history stopped knowing it),
        and 0 when that spell lasted no time. This is the one place the rule is applied (the periodic refresh
        and the backtest both come here).
        """
        count = len(self.opened)
        known = np.full(count, np.inf) if self.known_until is None else self.known_until
        ended = np.minimum(np.minimum(self.resolved, known), now)
        read = open_seconds(hours, np.concatenate([self.opened, self.resolved, known, ended, np.asarray(moments)]))
        opened, resolved, known_read, ended_read, moments_read = np.split(read, [count * i for i in range(1, 5)])
        elapsed = ended - self.opened
        share = np.divide(ended_read - opened, elapsed, out=np.zeros(count), where=(elapsed > 0) & np.isfinite(elapsed))
        clocked = replace(
            self,
            opened=opened,
            resolved=resolved,
            waited=self.waited * share,
            waited_open=None if self.waited_open is None else self.waited_open * share,
            known_until=None if self.known_until is None else known_read,
            _groups=self._groups,  # the same tickets: the same members of each group
        )
        return clocked, moments_read

    def members(self, category: int, priority: int) -> np.ndarray:
        """Row numbers of a group (``ANY`` for either key widens it)."""
        key = (category, priority)
        if key not in self._groups:
            mask = np.ones(len(self.opened), dtype=bool)
            if category != ANY:
                mask &= self.category == category
            if priority != ANY:
                mask &= self.priority == priority
            self._groups[key] = np.flatnonzero(mask)
        return self._groups[key]


class Estimator:
    """The estimates as they were at ``now`` (epoch seconds), from what ``history`` knew then: a ticket
    resolved after ``now`` was still open, and its waiting not yet known.

    ``window_starts``: where each of the policy's windows begins, in the history's time; by default
    ``policy.window_starts(now)``. A history read on a business clock passes ``now`` and the starts read on
    that clock (``History.in_business_time``)."""

    def __init__(
        self, history: History, now: float, policy: Policy, *, window_starts: Sequence[float] | None = None
    ) -> None:
        self.history, self.now, self.policy = history, now, policy
        starts = policy.window_starts(now) if window_starts is None else [float(start) for start in window_starts]
        self.windows = list(zip(policy.windows(), starts, strict=True))
        self._curves: dict[tuple[int, int], tuple[Curve | None, Survival | None]] = {}

    def best(self, category: int, priority: int) -> Curve | None:
        """The curve the guard should use for a ticket of this category and priority (see the module's 4)."""
        own, own_survival = self._curve(category, priority)
        if own is not None and not own.thin:
            return own
        candidates = [self._curve(c, p)[0] for c, p in ((category, ANY), (ANY, priority), (ANY, ANY))]
        coarser = [curve for curve in candidates if curve is not None and not curve.thin]
        if not coarser:
            # A young desk: no group has min_sample resolved tickets yet; the one with most history serves.
            thin = [curve for curve in (own, *candidates) if curve is not None]
            return max(thin, key=lambda curve: curve.resolved, default=None)
        if own_survival is None or own_survival.seen_at(0.0) < MIN_TO_MEASURE:
            return coarser[0]
        # Measured: the share of this group's tickets that each coarser promise at opening would have kept.
        error = [abs((1.0 - own_survival.at(curve.points[0].remaining)) - self.policy.fraction) for curve in coarser]
        return coarser[error.index(min(error))]

    def _curve(self, category: int, priority: int) -> tuple[Curve | None, Survival | None]:
        """A group's curve (``thin`` when even the longest window holds fewer than ``min_sample`` resolved
        tickets; None when it can't answer at all), and its survival at the last window tried."""
        key = (category, priority)
        if key not in self._curves:
            self._curves[key] = self._compute(category, priority)
        return self._curves[key]

    def _compute(self, category: int, priority: int) -> tuple[Curve | None, Survival | None]:
        rows = self.history.members(category, priority)
        found: tuple[Curve | None, Survival | None] = (None, None)
        for width, since in self.windows:
            spells = self._spells(rows, since)
            if spells is None:
                continue
            survival, size, resolved = spells
            points = tuple(self._points(survival)) if resolved >= MIN_SEEN else ()
            curve = (
                Curve(
                    basis=_basis(category, priority),
                    points=points,
                    sample_size=size,
                    window_days=round(width / DAY),
                    resolved=resolved,
                    thin=resolved < self.policy.min_sample,
                )
                if points
                else None
            )
            found = (curve, survival)
            if curve is not None and not curve.thin:
                break
        return found

    def _spells(self, rows: np.ndarray, since: float) -> tuple[Survival, int, int] | None:
        h, now = self.history, self.now
        # Seen until now, or until the history stopped knowing (an imported ticket open when exported).
        seen_until = np.full(len(rows), now) if h.known_until is None else np.minimum(h.known_until[rows], now)
        inside = (h.opened[rows] < seen_until) & (h.resolved[rows] > since) & (seen_until > since)
        rows, seen_until = rows[inside], seen_until[inside]
        if rows.size == 0:
            return None
        opened, resolved = h.opened[rows], h.resolved[rows]
        done = resolved <= seen_until
        wall = np.where(done, resolved, seen_until) - opened
        # A replay knows a ticket's waiting once it is resolved, not earlier; production knows it so far.
        so_far = 0.0 if h.waited_open is None else np.minimum(h.waited_open[rows], wall)
        active = np.maximum(wall - np.where(done, h.waited[rows], so_far), 1.0)
        # The window's start, in the ticket's active time (waiting assumed spread evenly over its life).
        entry = np.maximum(since - opened, 0.0) * np.divide(active, wall, out=np.ones_like(wall), where=wall > 0)
        keep = entry < active
        survival = kaplan_meier(entry[keep], active[keep], done[keep])
        return survival, int(keep.sum()), int(done[keep].sum())

    def _points(self, survival: Survival) -> Iterator[Point]:
        for age in AGES:
            seen = survival.seen_at(age)
            remaining = survival.remaining(age, self.policy.fraction) if seen >= MIN_SEEN else None
            if remaining is None:
                return
            yield Point(age=age, remaining=max(remaining, 60.0), seen=seen)


def _basis(category: int, priority: int) -> str:
    if category != ANY:
        return EstimateBasis.CATEGORY_PRIORITY if priority != ANY else EstimateBasis.CATEGORY
    return EstimateBasis.PRIORITY if priority != ANY else EstimateBasis.DESK
