"""Time the desk is open: adding open time to an instant, measuring it between two, the next open moment.

A ``Hours`` is a time zone, the open spans of each weekday in that zone's wall-clock time, and days whose
spans differ (a public holiday or a company day off: none; a half day: its own spans). A span belongs to the
day it starts on; one that ends at or before its start runs past midnight into the next day (22:00-06:00),
and 00:00-00:00 is the whole day.

Instants go in and come out aware, and every answer is in real elapsed time: a span that a daylight-saving
change shortens (02:00-04:00 on the night the clocks go forward) is open one hour, not two. A wall-clock time
that does not exist that night is read as the clocks before the change read it (``fold=0``), as ``zoneinfo``
does; one that happens twice, as its first occurrence.

Nothing here reads the clock or the database: callers pass the instants (the database's clock, as everywhere).

``open_seconds`` reads many instants at once on a clock that runs only while the desk is open, for code that
measures thousands of durations (the estimates); everything else takes one instant at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

Span = tuple[time, time]

# Days closed one after another (holidays, days off) past this many are hours that never open again: refused
# with a message rather than searched forever. (The search itself goes as far as an answer needs.)
LOOKAHEAD_DAYS = 366 * 2
ALWAYS: tuple[Span, ...] = ((time(0), time(0)),)
Floats = npt.NDArray[np.float64]


class NeverOpen(ValueError):
    """The hours have no open time at all (or none within ``LOOKAHEAD_DAYS``)."""


@dataclass(frozen=True)
class Hours:
    """When the desk is open. ``weekly[0]`` is Monday's spans, ``weekly[6]`` Sunday's; ``days`` overrides
    dates (an empty tuple closes the day)."""

    zone: ZoneInfo
    weekly: tuple[tuple[Span, ...], ...]
    days: Mapping[date, tuple[Span, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise ValueError("Give the open hours of each of the seven weekdays, Monday first.")
        if not any(self.weekly):
            raise NeverOpen("These hours are never open: give at least one weekday some open hours.")

    @classmethod
    def around_the_clock(cls, zone: ZoneInfo | None = None) -> Hours:
        """Open every hour of every day: business time is elapsed time."""
        return cls(zone or ZoneInfo("UTC"), (ALWAYS,) * 7)

    # --- The open intervals ------------------------------------------------------------------------------

    def spans_of(self, day: date) -> tuple[Span, ...]:
        return self.days.get(day, self.weekly[day.weekday()])

    def intervals(self, after: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The open intervals that end after ``after``, in order and not overlapping, as aware UTC instants
        (the first clipped to start at ``after``). Spans that meet (17:00-24:00, 00:00-08:00) come as two."""
        after = _aware(after).astimezone(UTC)
        day = after.astimezone(self.zone).date() - timedelta(days=1)  # yesterday's span may run into today
        reached, closed_run = after, 0
        while closed_run < LOOKAHEAD_DAYS:
            found = False
            for start, end in self._day_intervals(day):
                start = max(start, reached)  # a span overlapping the one before starts where that one ended
                if end > start:
                    yield start, end
                    reached, found = end, True
            closed_run = 0 if found else closed_run + 1
            day += timedelta(days=1)
        raise NeverOpen(f"These hours have no open time in {LOOKAHEAD_DAYS} days in a row after {day:%Y-%m-%d}.")

    def _day_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's spans as instants, in the order of the instants (a wall-clock time skipped by the clocks
        going forward reads as one after the change, so the order of the wall-clock times may not be it)."""
        found = []
        for opens, closes in self.spans_of(day):
            start = _instant(day, opens, self.zone)
            end = _instant(day + timedelta(days=1) if closes <= opens else day, closes, self.zone)
            if end > start:
                found.append((start, end))
        return sorted(found)

    # --- Arithmetic ----------------------------------------------------------------------------------------

    def is_open(self, at: datetime) -> bool:
        start, _ = next(self.intervals(at))
        return start <= _aware(at)

    def next_open(self, at: datetime) -> datetime:
        """``at`` if the desk is open then, else the moment it next opens."""
        start, _ = next(self.intervals(at))
        return max(start, _aware(at).astimezone(UTC))

    def end_of_next_open_day(self, at: datetime) -> datetime:
        """When the first day after ``at``'s business day that has open time closes: "by the end of the next
        business day". A span belongs to the day it starts on, so at 01:00 inside Monday's night shift the
        business day is still Monday."""
        at = _aware(at).astimezone(UTC)
        local = at.astimezone(self.zone).date()
        yesterday = local - timedelta(days=1)
        today = yesterday if any(start <= at < end for start, end in self._day_intervals(yesterday)) else local
        day = today + timedelta(days=1)
        for _ in range(LOOKAHEAD_DAYS):
            ends = [end for _, end in self._day_intervals(day) if end > at]  # not one the day before covered
            if ends:
                return max(ends)
            day += timedelta(days=1)
        raise NeverOpen(f"These hours have no open time in {LOOKAHEAD_DAYS} days in a row after {today:%Y-%m-%d}.")

    def add(self, at: datetime, duration: timedelta) -> datetime:
        """The earliest instant by which ``duration`` of open time has passed since ``at``."""
        if duration < timedelta(0):
            raise ValueError("Add a duration of zero or more.")
        if not duration:
            return _aware(at).astimezone(UTC)
        left = duration
        for start, end in self.intervals(at):
            if end - start >= left:
                return start + left
            left -= end - start
        raise AssertionError("intervals() ends only by raising NeverOpen")  # pragma: no cover

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Open time from ``start`` to ``end`` (zero when ``end`` is not after ``start``)."""
        end = _aware(end).astimezone(UTC)
        total = timedelta(0)
        if end <= _aware(start):
            return total
        for opens, closes in self.intervals(start):
            if opens >= end:
                break
            total += min(closes, end) - opens
        return total


def open_seconds(hours: Hours, instants: npt.ArrayLike) -> Floats:
    """Each instant (epoch seconds) read on a clock that runs only while ``hours`` are open: the open seconds
    since the earliest of them. The difference of two readings is ``hours.between`` of their instants, so
    every duration between instants read together is business time. The clock stands still while the desk
    is closed and never runs backwards.

    Vectorised, because the estimates measure every ticket of their history at once, where ``between`` per
    ticket would walk the same open intervals thousands of times. Instants read in separate calls share no
    origin: read together the instants whose differences you take.

    1. Around the clock (every weekday 00:00-00:00 and no date with other hours between the instants), open
       time is elapsed time: the instants less the earliest, no intervals built.
    2. Otherwise the open intervals from the earliest instant to the latest, once (``Hours.intervals``), as
       epoch seconds, and the open seconds before each (a cumulative sum).
    3. Each instant finds the last interval that starts at or before it (``numpy.searchsorted``): its
       reading is the open time before that interval plus the part of it already past (all of it once the
       interval has closed). An instant before the first interval reads 0.

    An infinite instant (a ticket not resolved) reads as itself; so does NaN.
    """
    at = np.asarray(instants, dtype=np.float64)
    finite = np.isfinite(at)
    if not finite.any():
        return at.copy()
    earliest, latest = float(at[finite].min()), float(at[finite].max())
    first = datetime.fromtimestamp(earliest, UTC)
    if _always_open(hours, first, datetime.fromtimestamp(latest, UTC)):
        return at - earliest  # 1.
    starts, ends = [], []
    for start, end in hours.intervals(first):  # 2.
        if start.timestamp() >= latest:
            break
        starts.append(start.timestamp())
        ends.append(end.timestamp())
    if not starts:
        return np.where(finite, 0.0, at)  # closed from the first instant to the last
    opens, closes = np.array(starts), np.array(ends)
    before = np.concatenate(([0.0], np.cumsum(closes - opens)[:-1]))
    last = np.searchsorted(opens, np.where(finite, at, earliest), side="right") - 1  # 3.
    inside = np.maximum(last, 0)
    reading = np.where(last >= 0, before[inside] + np.minimum(at, closes[inside]) - opens[inside], 0.0)
    return np.where(finite, reading, at)


def _always_open(hours: Hours, first: datetime, last: datetime) -> bool:
    """Open at every moment from ``first`` to ``last``: every weekday around the clock, and no date between
    them with other hours (asked date by date: a calendar's public holidays are not listed in ``days``)."""
    if any(day != ALWAYS for day in hours.weekly):
        return False
    day, until = first.astimezone(hours.zone).date() - timedelta(days=1), last.astimezone(hours.zone).date()
    while day <= until:
        if hours.spans_of(day) != ALWAYS:
            return False
        day += timedelta(days=1)
    return True


def weekly(spans: Sequence[Span], *, weekdays: Sequence[int] = range(5)) -> tuple[tuple[Span, ...], ...]:
    """The same ``spans`` on ``weekdays`` (0 is Monday; by default Monday to Friday), the other days closed."""
    return tuple(tuple(spans) if day in weekdays else () for day in range(7))


def _instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("Business time works on aware instants: give the time zone.")
    return moment
