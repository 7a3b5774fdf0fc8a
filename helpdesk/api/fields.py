"""Strict input, for every API: a field or query parameter the endpoint does not take is refused, not ignored."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from rest_framework import serializers


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
        changed without touching the others), a cost every list request paid; these are never changed, and
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
