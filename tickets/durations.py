"""Durations typed the way people say them ("8h", "1h 30m", "2 days") and shown back the same way: the
configuration forms' targets and warning windows."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from helpdesk.forms import QuickInput

DURATION_EXAMPLES = "8h, 90 min, 1h 30m, 2 days, 1d 4h or 1:30 (hours:minutes)"

_SECONDS_PER_UNIT = {
    **dict.fromkeys(("d", "day", "days"), 24 * 3600),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
}
_CLOCK = re.compile(r"(\d{1,4}):([0-5]\d)")
_AMOUNTS = re.compile(r"(?:\d{1,6}\s*[a-z]+\s*)+")
_AMOUNT = re.compile(r"(\d{1,6})\s*([a-z]+)")
_SEPARATORS = re.compile(r",|\band\b")


def parse_duration(text: str) -> timedelta:
    """A duration as people type it. Raises ``ValueError`` on anything else.

    1. "1:30" reads like a clock: hours and minutes.
    2. Otherwise whole amounts with units, separated by spaces, commas or "and", units spelt short or
       long: "8h", "90 min", "1h30m", "2 days", "1 hour and 30 minutes".
    3. A bare "0" is zero: nothing needs no unit. Any other bare number is refused, since "30" could be
       minutes or hours.
    """
    words = text.strip().lower()
    if clock := _CLOCK.fullmatch(words):
        return timedelta(hours=int(clock[1]), minutes=int(clock[2]))
    if words == "0":
        return timedelta(0)
    words = _SEPARATORS.sub(" ", words).strip()
    if not _AMOUNTS.fullmatch(words):
        raise ValueError(text)
    seconds = 0
    for amount, unit in _AMOUNT.findall(words):
        if unit not in _SECONDS_PER_UNIT:
            raise ValueError(text)
        seconds += int(amount) * _SECONDS_PER_UNIT[unit]
    return timedelta(seconds=seconds)


def spoken_duration(duration: timedelta) -> str:
    """The short form people type back: "8h", "1h 30m", "1d 4h", "0m". Whole seconds only."""
    rest = round(duration.total_seconds())
    days, rest = divmod(rest, 24 * 3600)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [
        f"{amount}{unit}" for amount, unit in ((days, "d"), (hours, "h"), (minutes, "m"), (seconds, "s")) if amount
    ]
    return " ".join(parts) or "0m"


class SpokenDurationField(forms.Field):
    """A duration typed the way people say it and shown back the same way, so "8h" stays "8h".

    At most the promise horizon (``PROMISE_MAX_HORIZON_DAYS``): a target or warning window longer than
    any promise may run would be one nobody can keep.
    """

    default_error_messages = {
        "invalid": f"Type a duration such as {DURATION_EXAMPLES}.",
        "not_positive": "Type a duration longer than zero, such as 8h or 45m.",
        "too_long": "Type at most %(days)s days: no promise is made further ahead than that.",
    }

    def __init__(self, *, allow_zero: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("widget", QuickInput(attrs={"placeholder": "e.g. 8h, 1h 30m, 2 days", "size": 16}))
        super().__init__(**kwargs)
        self.allow_zero = allow_zero

    def prepare_value(self, value: Any) -> Any:
        return spoken_duration(value) if isinstance(value, timedelta) else value

    def to_python(self, value: Any) -> timedelta | None:
        if value in self.empty_values:
            return None
        if isinstance(value, timedelta):
            return value
        try:
            return parse_duration(str(value))
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None

    def validate(self, value: timedelta | None) -> None:
        super().validate(value)
        if value is None:
            return
        if value > timedelta(days=settings.PROMISE_MAX_HORIZON_DAYS):
            days = settings.PROMISE_MAX_HORIZON_DAYS
            raise ValidationError(self.error_messages["too_long"], code="too_long", params={"days": days})
        if value < timedelta(0) or (value == timedelta(0) and not self.allow_zero):
            raise ValidationError(self.error_messages["not_positive"], code="not_positive")
