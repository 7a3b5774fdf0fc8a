"""Unsaved rows built cheaply, for writes of many at once (the sweep's log entries and notifications).

``Model(**values)`` looks every field of the model up among the keywords and asks each one left out for its
default, row after row: for the sweep's thousands of notifications that was a third of their cost in Python.
A ``RowMaker`` works the defaults out once and builds each row as ``Model(*values)``, Django's positional
path (the one it takes for rows read from the database), with the same fields set to the same values.

A choice's default is kept as its plain value (``"pending"``, not ``EmailState.PENDING``, which equals it):
psycopg2 quotes a subclass of ``str`` three times slower than a ``str``, and the bulk writes pass thousands.
Callers pass plain values too (``plain``).
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Generic, TypeVar

from django.db import models

M = TypeVar("M", bound=models.Model)


class RowMaker(Generic[M]):
    """``RowMaker(Model, "a_id", "b")(1, "x")`` is ``Model(a_id=1, b="x")``, every other field at its default.

    The fields left out must have constant defaults (or none): a callable default (``dict``) would be shared by
    every row, so such a field must be named.
    """

    def __init__(self, model: type[M], *names: str) -> None:
        fields = model._meta.concrete_fields
        position = {field.attname: i for i, field in enumerate(fields)}
        self.model = model
        self.slots = [position[name] for name in names]
        # the usual case: the fields named are neighbours, in the model's order, and take their values in one slice
        first = self.slots[0] if self.slots else 0
        self.span = slice(first, first + len(names)) if self.slots == list(range(first, first + len(names))) else None
        self.defaults: list[Any] = []
        for field in fields:
            if field.attname not in names and field.has_default() and callable(field.default):
                raise ValueError(f"{model.__name__}.{field.name} has a callable default: name it")
            self.defaults.append(None if field.attname in names else plain(field.get_default()))

    def __call__(self, *values: Any) -> M:
        row = self.defaults.copy()
        if self.span is not None and len(values) == len(self.slots):
            row[self.span] = values
        else:
            for slot, value in zip(self.slots, values, strict=True):
                row[slot] = value
        return self.model(*row)


def plain(value: Any) -> Any:
    """A choice (``InteractionKind.BREACH``) as its value (``"breach"``); any other value as it is."""
    return value.value if isinstance(value, Enum) else value
