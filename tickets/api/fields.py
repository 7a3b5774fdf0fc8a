"""Fields the ticket API's serializers share: priorities by name, aware times, rows and people, durations,
verdicts. Strict input (``StrictSerializer``) is in ``helpdesk.api.fields``."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.utils.dateparse import parse_datetime
from drf_spectacular.drainage import set_override
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tickets.estimates.models import EstimateBasis
from tickets.models import Priority, display_name
from tickets.promise_rules import Verdict

PRIORITY_NAMES = {name.lower(): value for value, name in ((p.value, p.name) for p in Priority)}
PRIORITY_OF_VALUE = {value: name for name, value in PRIORITY_NAMES.items()}
PRIORITY_CHOICES = list(PRIORITY_NAMES)  # low, normal, high, urgent: one enum in the schema


class PriorityField(serializers.ChoiceField):
    """Priorities by name (low, normal, high, urgent): clearer in a payload than the stored 1 to 4."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", {"invalid_choice": f"Choose one of {', '.join(PRIORITY_NAMES)}."})
        super().__init__(choices=PRIORITY_CHOICES, **kwargs)

    def to_internal_value(self, data: Any) -> int:
        return PRIORITY_NAMES[super().to_internal_value(data)]

    def to_representation(self, value: Any) -> str:
        return PRIORITY_OF_VALUE[int(value)]


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time with its offset. A time without one is refused: guessing a zone breaks promises."""

    default_error_messages = {
        "invalid": "Give an ISO 8601 time with its offset, e.g. 2026-11-23T17:00:00+01:00 or ...Z.",
        "naive": "Give the time with its offset (e.g. +01:00 or Z): without one it could mean any time zone.",
    }

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
        return super().to_internal_value(value)


class RowField(serializers.PrimaryKeyRelatedField):
    """A row by id, refused in words that name what was looked for: ``RowField("team", Team.objects.all())``."""

    def __init__(self, noun: str, queryset: Any, **kwargs: Any) -> None:
        super().__init__(queryset=queryset, **kwargs)
        self.error_messages.update(
            does_not_exist=f"There is no {noun} with id {{pk_value}}.",
            incorrect_type=f"Give the {noun}'s id (a number).",
        )


class StaffField(serializers.PrimaryKeyRelatedField):
    """A staff member by id."""

    default_error_messages = {
        "does_not_exist": "There is no active staff member with id {pk_value}.",
        "incorrect_type": "Give a staff member's id (a number).",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(queryset=User.objects.filter(is_active=True, is_staff=True), **kwargs)


class UtcDateTimeField(serializers.DateTimeField):
    """A time as DRF's ``DateTimeField`` writes it in the API's zone, UTC (``...Z``; ``ApiView`` activates UTC
    for every request), for output. Converted to UTC directly: DRF's own field looks the current zone up
    and checks it again for every value, and a page of tickets has six times a row."""

    def to_representation(self, value: Any) -> str | None:
        if value is None:
            return None
        text = value.astimezone(UTC).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text


class Brief(serializers.Field):
    """A nested object in the shape the serializer ``shape`` declares (the schema shows ``shape`` itself),
    for output, from an object's attributes or a dict's keys. For small objects of ids, names and numbers,
    whose values go out as read: a nested serializer per row ran DRF's field machinery for each of them."""

    def __init__(
        self, shape: type[serializers.Serializer], *, sources: dict[str, str] | None = None, **kwargs: Any
    ) -> None:
        """``sources``: where some keys are read when not from the attribute of their name (with
        ``source="*"``, the row's own columns: ``{"id": "team_id", "name": "team_name"}``)."""
        super().__init__(**kwargs)
        self.shape, self.sources = shape, sources
        set_override(self, "field", shape)  # as ``extend_schema_field(shape)`` does for a class
        # Read once a shape: DRF copies a serializer's fields (running this again) for every serializer made.
        keys = _keys_of(shape)
        self.keys = [(name, (sources or {}).get(name, source), inner) for name, source, inner in keys]

    def to_representation(self, value: Any) -> dict[str, Any]:
        return _brief(self.keys, value)


def _keys_of(shape: type[serializers.Serializer]) -> list[tuple[str, str, Any]]:
    """(key, source, the keys of a nested object or None) for each field of ``shape``, read once a shape."""
    if shape not in _KEYS:
        _KEYS[shape] = [
            (name, field.source or name, _keys_of(type(field)) if isinstance(field, serializers.Serializer) else None)
            for name, field in shape().fields.items()
        ]
    return _KEYS[shape]


_KEYS: dict[type[serializers.Serializer], list[tuple[str, str, Any]]] = {}


def _brief(keys: list[tuple[str, str, Any]], value: Any) -> dict[str, Any]:
    read = value.__getitem__ if isinstance(value, dict) else value.__getattribute__
    return {name: read(source) if inner is None else _brief(inner, read(source)) for name, source, inner in keys}


class Person(serializers.Serializer):
    """A staff member as the API shows them."""

    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()


@extend_schema_field(Person)
class PersonOut(serializers.Field):
    """A staff member in the API's one shape for people (``person_json``); null for nobody."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, user: User) -> dict[str, Any] | None:
        return person_json(user)


def person_json(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": user.pk, "username": user.username, "name": display_name(user)}


def seconds(duration: timedelta | None) -> int | None:
    return None if duration is None else int(duration.total_seconds())


# A duration in seconds must fit a timedelta before a form can judge it (positive, within the promise
# horizon, far below this): the bound only keeps an absurd number from failing as a server error.
MAX_SECONDS = 2**31 - 1


class Seconds(serializers.IntegerField):
    """A duration as whole seconds in JSON, a ``timedelta`` inside (which the form's duration fields take
    as it is, and judge: longer than zero where they must be, within the promise horizon)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_value=0, max_value=MAX_SECONDS, **kwargs)

    def run_validation(self, data: Any = serializers.empty) -> timedelta | None:
        seconds = super().run_validation(data)  # checked against the bounds first: no overflow
        return None if seconds is None else timedelta(seconds=seconds)

    def to_representation(self, value: timedelta) -> int:
        return int(value.total_seconds())


class VerdictSerializer(serializers.Serializer):
    """What history says about a due time: the same numbers the desk's guard box shows."""

    estimate_seconds = serializers.IntegerField(
        help_text="The time still to run that the guard suggests: the percentile of it for similar tickets at "
        "this ticket's age."
    )
    sample_size = serializers.IntegerField(
        help_text="Similar tickets the history saw open at this age (0: too little history, the default target)."
    )
    basis = serializers.ChoiceField(choices=EstimateBasis.choices, help_text="Which tickets the estimate came from.")
    percentile = serializers.FloatField(help_text="The share of similar tickets solved within the estimate.")
    age_seconds = serializers.IntegerField(help_text="The ticket's age (waiting on the customer left out).")
    working_hours = serializers.CharField(
        help_text="The hours the durations above count, where the category runs in business time ('Mon-Fri "
        "9-17'; estimate_seconds and age_seconds are then open seconds); empty: around the clock."
    )
    load = serializers.IntegerField(help_text="The rep's pending promises due before this one.")
    earliest_realistic = serializers.DateTimeField()
    sooner_than_estimate = serializers.BooleanField()
    explanation = serializers.CharField()


def verdict_json(verdict: Verdict) -> dict[str, Any]:
    return {
        "estimate_seconds": seconds(verdict.estimate),
        "sample_size": verdict.sample_size,
        "basis": verdict.basis,
        "percentile": verdict.estimated.percentile,
        "age_seconds": seconds(verdict.estimated.age),
        "working_hours": verdict.estimated.clock.words,
        "load": verdict.load,
        "earliest_realistic": serializers.DateTimeField().to_representation(verdict.earliest_realistic),
        "sooner_than_estimate": verdict.sooner_than_estimate,
        "explanation": verdict.explain(),
    }
