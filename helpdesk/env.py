"""Typed readers for environment variables.

Every deployment difference is an environment variable. Each reader returns a
typed value or raises ``ImproperlyConfigured`` naming the variable and saying
what was expected, so a typo fails at start-up instead of at 3 a.m.
"""

from __future__ import annotations

import os
import zoneinfo
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class Env:
    """Reads variables from a mapping (``os.environ`` by default) so tests can pass their own."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    def _raw(self, name: str) -> str | None:
        value = self.environ.get(name)
        return None if value is None else value.strip()

    def is_set(self, name: str) -> bool:
        return self._raw(name) not in (None, "")

    def string(self, name: str, default: str = "") -> str:
        value = self._raw(name)
        return default if value in (None, "") else value

    def boolean(self, name: str, default: bool) -> bool:
        value = self._raw(name)
        if value in (None, ""):  # like every other reader: empty means "use the default"
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise ImproperlyConfigured(f"{name} must be true or false (1/0, yes/no, on/off), not {value!r}.")

    def integer(self, name: str, default: int, *, min_value: int | None = None, max_value: int | None = None) -> int:
        value = self._raw(name)
        if value in (None, ""):
            return default
        try:
            number = int(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None
        self._check_range(name, number, min_value, max_value)
        return number

    def number(
        self, name: str, default: float, *, min_value: float | None = None, max_value: float | None = None
    ) -> float:
        value = self._raw(name)
        if value in (None, ""):
            return default
        try:
            number = float(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name} must be a number, not {value!r}.") from None
        self._check_range(name, number, min_value, max_value)
        return number

    def minutes(self, name: str, default: int, *, min_value: int = 0) -> timedelta:
        return timedelta(minutes=self.integer(name, default, min_value=min_value))

    def comma_list(self, name: str, default: list[str]) -> list[str]:
        value = self._raw(name)
        if value in (None, ""):
            return list(default)
        return [item.strip() for item in value.split(",") if item.strip()]

    def choice(self, name: str, default: str, choices: set[str]) -> str:
        value = self.string(name, default)
        if value not in choices:
            raise ImproperlyConfigured(f"{name} must be one of {', '.join(sorted(choices))}, not {value!r}.")
        return value

    def time_zone(self, name: str, default: str) -> str:
        value = self.string(name, default)
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ImproperlyConfigured(
                f"{name} must be an IANA time zone such as Europe/Paris, not {value!r}."
            ) from None
        return value

    def database(self, name: str, default: str) -> dict[str, Any]:
        url = self.string(name, default)
        try:
            config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
        except (ValueError, KeyError) as error:
            raise ImproperlyConfigured(
                f"{name} is not a database URL we understand ({error}): use "
                "postgres://user:password@host:5432/name or sqlite:///path"
            ) from None
        if config.get("ENGINE") not in ("django.db.backends.postgresql", "django.db.backends.sqlite3"):
            raise ImproperlyConfigured(f"{name} must point at PostgreSQL or SQLite, not {config.get('ENGINE')}.")
        return dict(config)

    def url(self, name: str, default: str, *, schemes: set[str]) -> str:
        value = self.string(name, default)
        scheme = value.split("://", 1)[0] if "://" in value else ""
        if scheme not in schemes:
            raise ImproperlyConfigured(
                f"{name} must be a URL starting with {' or '.join(s + '://' for s in sorted(schemes))}, not {value!r}."
            )
        return value

    @staticmethod
    def _check_range(name: str, number: float, min_value: float | None, max_value: float | None) -> None:
        if min_value is not None and number < min_value:
            raise ImproperlyConfigured(f"{name} must be at least {min_value}, not {number}.")
        if max_value is not None and number > max_value:
            raise ImproperlyConfigured(f"{name} must be at most {max_value}, not {number}.")
