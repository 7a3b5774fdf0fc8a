"""The API's JSON renderer writes what DRF's own writes, byte for byte, only faster."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework import renderers

from tickets.api.renderers import JSONRenderer

PAYLOADS = {
    "times in UTC": {"at": datetime(2026, 11, 23, 1, 2, 3, 456789, tzinfo=UTC), "on": datetime(2026, 1, 1, tzinfo=UTC)},
    "a time with an offset": [datetime(2026, 6, 1, 9, 30, tzinfo=timezone(timedelta(hours=2)))],
    "a date": {"day": date(2026, 11, 23)},
    "unicode, quotes and line separators": {"s": 'Zoë "déjà" 東京 🙂 \\ \n \u2028 \u2029 </script>'},
    "numbers, null, booleans, nesting": {"n": [1, -2, 3.5, 0.1, None, True, False], "d": {"e": {"f": []}}},
    "a lazy translation": {"message": gettext_lazy("This field is required.")},
    "a decimal and a duration": {"amount": Decimal("12.50"), "took": timedelta(minutes=90)},
    "integer keys": {1: "one", 2: "two"},
    "a list at the top": [{"a": 1}, {"b": 2}],
}


@pytest.mark.parametrize("payload", PAYLOADS.values(), ids=PAYLOADS.keys())
def test_it_writes_what_drf_writes(payload):
    assert JSONRenderer().render(payload) == renderers.JSONRenderer().render(payload)


def test_nothing_is_an_empty_body_and_an_indent_asked_for_is_given():
    assert JSONRenderer().render(None) == b""
    pretty = JSONRenderer().render({"a": [1]}, "application/json; indent=2")
    assert pretty == renderers.JSONRenderer().render({"a": [1]}, "application/json; indent=2")
    assert b"\n  " in pretty


def test_floats_are_the_same_numbers_if_not_always_spelt_the_same():
    floats = [5e-05, 1e-07, 0.1 + 0.2, 1e16, 1.2345678901234568e17, -0.0, 3.0]
    assert json.loads(JSONRenderer().render(floats)) == json.loads(renderers.JSONRenderer().render(floats))
