"""Pieces every API serializer shares: strict input, priorities by name, aware times, people, verdicts."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from tickets.estimates.models import EstimateBasis
from tickets.models import Priority, display_name
from tickets.promise_rules import Verdict

PRIORITY_NAMES = {name.lower(): value for value, name in ((p.value, p.name) for p in Priority)}
PRIORITY_OF_VALUE = {value: name for name, value in PRIORITY_NAMES.items()}
PRIORITY_CHOICES = list(PRIORITY_NAMES)  # low, normal, high, urgent: one enum in the schema


class StrictSerializer(serializers.Serializer):
    """Input with a field it does not take is refused, naming the field (and where it can be changed):
    a typo or a field the caller may not set never vanishes silently."""

    elsewhere: dict[str, str] = {}  # field -> where it is changed instead
    also_accepts: tuple[str, ...] = ()  # names read elsewhere (a list's paging parameters)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            unknown = sorted(set(data) - writable - set(self.also_accepts))
            if unknown:
                raise serializers.ValidationError({name: [self._refusal(name)] for name in unknown})
        return super().to_internal_value(data)

    def _refusal(self, name: str) -> str:
        where = self.elsewhere.get(name)
        if where:
            return f"{name} can't be set here: {where}."
        if name in self.fields:
            return f"{name} is read-only."
        accepted = ", ".join(sorted(n for n, f in self.fields.items() if not f.read_only))
        return f"{name} is not a field this takes (it takes {accepted})."


class QueryParameters(StrictSerializer):
    """The query string of a GET, checked: an unknown parameter is refused rather than ignored (``?state=at_risk``
    for ``promise_state`` would otherwise return every ticket), and so is one given twice (only one value
    would count). This base takes only the paging parameters; lists with filters subclass it."""

    also_accepts: tuple[str, ...] = ("cursor", "page", "page_size")

    def get_fields(self) -> dict[str, serializers.Field]:
        """The declared fields, copied shallowly: DRF deep-copies them for every serializer (so that one may be
        changed without touching the others), which took a list request 0.6 ms; these are never changed, and
        a copy of its own per serializer is still what each binds to. (A field holding another field, a
        ``ListField``'s child, would share it: deep-copy such a field here if one is ever added.)"""
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "getlist"):
            twice = sorted(name for name in data if len(data.getlist(name)) > 1)
            if twice:
                raise serializers.ValidationError({name: [f"Give {name} once."] for name in twice})
        return super().to_internal_value(data)

    def _refusal(self, name: str) -> str:
        accepted = ", ".join(sorted([*self.fields, *self.also_accepts]))
        return f"{name} is not a parameter here (this takes {accepted})."


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
        "load": verdict.load,
        "earliest_realistic": serializers.DateTimeField().to_representation(verdict.earliest_realistic),
        "sooner_than_estimate": verdict.sooner_than_estimate,
        "explanation": verdict.explain(),
    }
