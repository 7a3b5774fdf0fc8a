"""Business calendars: when a team works, in its own time zone, with its public holidays and days off.

A calendar is stored as plain values (a zone name, seven weekdays of "HH:MM-HH:MM" spans, a country and
subdivision for the ``holidays`` package, and its own closed days); ``Calendar.hours`` turns it into the
``tickets.business_time.Hours`` that does the arithmetic. A category whose targets run in business time
uses the calendar of its path's first team (``Category.calendar``); every other ticket runs around the clock.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from helpdesk.text import validate_time_zone
from tickets.business_time import ALWAYS, Hours, NeverOpen, Span

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SHORT_DAYS = tuple(day[:3] for day in WEEKDAYS)
AROUND_THE_CLOCK = "Around the clock"
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*[-\u2013]\s*(\d{1,2}):(\d{2})\s*$")


# --- Spans as people write them -----------------------------------------------------------------------------


def parse_spans(text: str, *, day: str = "That day") -> tuple[Span, ...]:
    """'09:00-12:30, 13:30-17:00' -> its spans; '' or 'closed' -> none. 24:00 is midnight at the day's end,
    and a span ending at or before its start runs past midnight (22:00-06:00)."""
    text = text.strip()
    if text.lower() in ("", "closed"):
        return ()
    spans = []
    for part in text.split(","):
        found = _SPAN.match(part)
        if not found:
            raise ValidationError(f"{day}: write open hours as 09:00-17:00, several separated by commas.")
        h1, m1, h2, m2 = (int(group) for group in found.groups())
        if h1 > 24 or h2 > 24 or m1 > 59 or m2 > 59 or (h1 == 24 and m1) or (h2 == 24 and m2):
            raise ValidationError(f"{day}: {part.strip()} is not a time of day (00:00 to 24:00).")
        spans.append((time(h1 % 24, m1), time(h2 % 24, m2)))
    spans.sort()
    for (_, first_closes), (second_opens, _) in pairwise(spans):
        if first_closes > second_opens:  # a span running past midnight comes last: its closing is earlier
            raise ValidationError(f"{day}: the spans overlap; write each open stretch once (09:00-17:00).")
    return tuple(spans)


def spans_text(spans: tuple[Span, ...] | list[Any]) -> str:
    """The inverse of ``parse_spans``: '09:00-12:30, 13:30-17:00', 'closed'."""
    if not spans:
        return "closed"
    return ", ".join(f"{_hhmm(opens)}-{_hhmm(closes, end=True)}" for opens, closes in _as_spans(spans))


def _hhmm(at: time, *, end: bool = False) -> str:
    return "24:00" if end and at == time(0) else f"{at:%H:%M}"


def _as_spans(stored: Any) -> tuple[Span, ...]:
    """Spans from their stored form ([["09:00", "17:00"], ...]) or as they are."""
    return tuple(
        (time.fromisoformat(opens) if isinstance(opens, str) else opens,
         time.fromisoformat(closes) if isinstance(closes, str) else closes)
        for opens, closes in stored
    )  # fmt: skip


def _span_length(span: Span) -> timedelta:
    opens, closes = (datetime.combine(date.min, at) for at in span)
    return closes - opens if closes > opens else closes + timedelta(days=1) - opens


def stored_spans(spans: tuple[Span, ...]) -> list[list[str]]:
    return [[f"{opens:%H:%M}", f"{closes:%H:%M}"] for opens, closes in spans]


def _clock_words(at: time, *, end: bool = False) -> str:
    """9:00 -> '9', 12:30 -> '12:30', midnight at a span's end -> '24'."""
    if end and at == time(0):
        return "24"
    return f"{at.hour}" if not at.minute else f"{at.hour}:{at.minute:02d}"


def weekday_runs(weekdays: Sequence[tuple[Span, ...]]) -> list[tuple[int, int, tuple[Span, ...]]]:
    """The week as runs of consecutive days with the same hours: (first, last, spans), Monday being 0."""
    runs: list[tuple[int, int, tuple[Span, ...]]] = []
    for index, spans in enumerate(weekdays):
        if runs and runs[-1][2] == spans:
            runs[-1] = (runs[-1][0], index, spans)
        else:
            runs.append((index, index, spans))
    return runs


def hours_in_words(weekdays: tuple[tuple[Span, ...], ...], *, short: bool = False) -> str:
    """When a calendar is open, as people say it: 'Monday to Friday, 9 to 17' ('Mon-Fri 9-17' when ``short``);
    weekdays with the same hours one after another are said together; 'around the clock' when always open."""
    if all(day == ALWAYS for day in weekdays):
        return "around the clock"
    names = SHORT_DAYS if short else WEEKDAYS
    runs = [run for run in weekday_runs(weekdays) if run[2]]
    said = []
    for first, last, spans in runs:
        to, joined = ("-", " ") if short else (" to ", ", ")
        days = names[first] if first == last else f"{names[first]}{to}{names[last]}"
        times = " and ".join(
            f"{_clock_words(opens)}{to}{_clock_words(closes, end=True)}" if (opens, closes) != ALWAYS[0] else "all day"
            for opens, closes in spans
        )
        said.append(f"{days}{joined}{times}")
    return ", ".join(said) if short else "; ".join(said)


def zone_in_words(zone: str) -> str:
    """'Europe/Berlin' -> 'Berlin time', 'America/New_York' -> 'New York time', 'UTC' -> 'UTC'."""
    if "/" not in zone:
        return zone
    return f"{zone.rsplit('/', 1)[1].replace('_', ' ')} time"


@lru_cache(maxsize=64)
def public_holidays(country: str, subdivision: str) -> holidays.HolidayBase:
    """The ``holidays`` package's calendar for a country (and subdivision), shared by the process: it fills
    in each year the first time a date of that year is asked about. Named in English where the package can."""
    known = holidays.country_holidays(country, subdiv=subdivision or None)
    if "en_US" in known.supported_languages:
        return holidays.country_holidays(country, subdiv=subdivision or None, language="en_US")
    return known


def validate_region(country: str, subdivision: str) -> None:
    if not country:
        if subdivision:
            raise ValidationError({"subdivision": "Choose the country first."})
        return
    if country not in holidays.list_supported_countries():
        raise ValidationError({"country": f"We have no public holidays for {country!r}: use a code such as DE."})
    try:
        public_holidays(country, subdivision)
    except NotImplementedError:
        choices = ", ".join(holidays.list_supported_countries()[country])
        raise ValidationError(
            {"subdivision": f"{country} has no subdivision {subdivision!r}; it has: {choices}."}
        ) from None


# --- The models ------------------------------------------------------------------------------------------------


class Calendar(models.Model):
    name = models.CharField(max_length=100, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    weekly = models.JSONField(
        default=list, help_text='Seven lists of [opens, closes] spans, Monday first: [["09:00", "17:00"]].'
    )
    country = models.CharField(
        max_length=3, blank=True, help_text="Public holidays of this country (ISO code, e.g. DE); empty for none."
    )
    subdivision = models.CharField(max_length=10, blank=True, help_text="And of this state or region, e.g. BY.")

    class Meta:
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=~Q(name=""), name="calendar_name_not_empty")]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def default_id(cls) -> int:
        """The around-the-clock calendar every team starts with (made by migration 0024; made again if gone)."""
        calendar, _ = cls.objects.get_or_create(name=AROUND_THE_CLOCK, defaults={"weekly": [stored_spans(ALWAYS)] * 7})
        return calendar.pk

    @property
    def weekdays(self) -> tuple[tuple[Span, ...], ...]:
        spans = [_as_spans(day) for day in self.weekly] if self.weekly else []
        return tuple(spans + [()] * (7 - len(spans)))[:7]

    @property
    def zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo("UTC")

    @property
    def is_around_the_clock(self) -> bool:
        return all(day == ALWAYS for day in self.weekdays) and not self.country and not self._closed_days()

    def in_words(self, *, short: bool = False) -> str:
        """'Monday to Friday, 9 to 17, Berlin time' (the customer's words); 'Mon-Fri 9-17' (the guard's)."""
        said = hours_in_words(self.weekdays, short=short)
        if short or said == "around the clock":
            return said
        return f"{said}, {zone_in_words(self.time_zone)}"

    def usual_day(self) -> timedelta:
        """The open time of a usual open weekday (the median), for saying durations in business days."""
        lengths = sorted(
            sum(((_span_length(span)) for span in spans), timedelta(0)) for spans in self.weekdays if spans
        )
        return lengths[len(lengths) // 2] if lengths else timedelta(days=1)

    def hours(self) -> Hours:
        """This calendar as business-time arithmetic: its weekdays, public holidays and closed days."""
        return Hours(self.zone, self.weekdays, _Days(self._closed_days(), self.country, self.subdivision))

    def _closed_days(self) -> dict[date, tuple[Span, ...]]:
        if self.pk is None:
            return {}
        cache = getattr(self, "_prefetched_objects_cache", {})
        days = cache["closed_days"] if "closed_days" in cache else self.closed_days.all()
        return {day.date: _as_spans(day.spans) for day in days}

    def clean(self) -> None:
        validate_region(self.country, self.subdivision)
        try:
            Hours(self.zone, self.weekdays)
        except NeverOpen:
            raise ValidationError("This calendar is never open: give at least one weekday some open hours.") from None


class ClosedDay(models.Model):
    """A date the calendar keeps other hours on: closed (no spans) or a half day (its own spans)."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="closed_days")
    date = models.DateField()
    spans = models.JSONField(default=list, blank=True, help_text="Its open spans; none: closed all day.")
    reason = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="closed_day_once_a_date")]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} ({spans_text(_as_spans(self.spans))})"


class _Days(Mapping[date, tuple[Span, ...]]):
    """The dates whose hours differ from the week's: the calendar's own closed days, then public holidays."""

    def __init__(self, own: dict[date, tuple[Span, ...]], country: str, subdivision: str) -> None:
        self.own = own
        self.public = public_holidays(country, subdivision) if country else None

    def __getitem__(self, day: date) -> tuple[Span, ...]:
        if day in self.own:
            return self.own[day]
        if self.public is not None and day in self.public:
            return ()
        raise KeyError(day)

    def __iter__(self) -> Iterator[date]:
        return iter(self.own)

    def __len__(self) -> int:
        return len(self.own)
