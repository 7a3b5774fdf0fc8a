"""Durations are typed the way people say them and shown back the same way."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django import forms

from tickets.durations import SpokenDurationField, parse_duration, spoken_duration

H, M = timedelta(hours=1), timedelta(minutes=1)


@pytest.mark.parametrize(
    ("typed", "duration"),
    [
        ("8h", 8 * H),
        ("8 h", 8 * H),
        ("8 hours", 8 * H),
        ("1 hour", H),
        ("90 min", 90 * M),
        ("90 minutes", 90 * M),
        ("45m", 45 * M),
        ("1h 30m", 90 * M),
        ("1h30m", 90 * M),
        ("1 hour and 30 minutes", 90 * M),
        ("1 h, 30 min", 90 * M),
        ("2 days", timedelta(days=2)),
        ("1 day", timedelta(days=1)),
        ("1d 4h", 28 * H),
        ("  1D 4H  ", 28 * H),
        ("1:30", 90 * M),
        ("0:45", 45 * M),
        ("24:00", 24 * H),
        ("30s", timedelta(seconds=30)),
        ("0", timedelta(0)),
    ],
)
def test_durations_are_read_as_people_say_them(typed, duration):
    assert parse_duration(typed) == duration


@pytest.mark.parametrize(
    "typed", ["", "soon", "30", "1.5h", "-1h", "1h -30m", "8 lightyears", "1:75", "1:3", "h", "8h30", "1 : 30"]
)
def test_anything_else_is_refused(typed):
    with pytest.raises(ValueError):
        parse_duration(typed)


@pytest.mark.parametrize(
    ("duration", "spoken"),
    [
        (8 * H, "8h"),
        (90 * M, "1h 30m"),
        (45 * M, "45m"),
        (timedelta(days=2), "2d"),
        (28 * H, "1d 4h"),
        (timedelta(days=1, minutes=5), "1d 5m"),
        (timedelta(seconds=90), "1m 30s"),
        (timedelta(0), "0m"),
    ],
)
def test_durations_are_shown_back_the_short_way_and_read_again_the_same(duration, spoken):
    assert spoken_duration(duration) == spoken
    assert parse_duration(spoken) == duration


def test_the_field_shows_a_saved_value_and_keeps_a_mistyped_one():
    field = SpokenDurationField()
    assert field.prepare_value(90 * M) == "1h 30m"
    assert field.prepare_value("soon") == "soon"


@pytest.mark.parametrize(
    ("allow_zero", "typed", "error"),
    [
        (False, "0", "Type a duration longer than zero, such as 8h or 45m."),
        (False, "0:00", "Type a duration longer than zero, such as 8h or 45m."),
        (True, "31d", "Type at most 30 days: no promise is made further ahead than that."),
        (True, "lots", "Type a duration such as 8h, 90 min, 1h 30m, 2 days, 1d 4h or 1:30 (hours:minutes)."),
    ],
)
def test_the_field_says_what_is_wrong(allow_zero, typed, error):
    with pytest.raises(forms.ValidationError) as refusal:
        SpokenDurationField(allow_zero=allow_zero).clean(typed)
    assert refusal.value.messages == [error]


def test_zero_is_fine_where_allowed_and_empty_where_optional():
    assert SpokenDurationField(allow_zero=True).clean("0m") == timedelta(0)
    assert SpokenDurationField(required=False).clean("") is None
