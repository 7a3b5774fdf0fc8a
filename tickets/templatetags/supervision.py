"""Template helpers for the supervisor pages: rates, durations and slack as people read them, and links
from a figure to the rows behind it."""

from __future__ import annotations

import math
from datetime import timedelta
from urllib.parse import urlencode

from django import template
from django.urls import reverse

from tickets.promises import humanize_duration

register = template.Library()

NOTHING = "—"


@register.filter
def percent(rate: float | None) -> str:
    """0.5 -> '50%', 0.625 -> '63%' (halves round up, as people expect); no rate (nothing settled) -> a dash,
    never a misleading 0%."""
    return NOTHING if rate is None else f"{math.floor(rate * 100 + 0.5)}%"


@register.filter
def duration(seconds: float | None) -> str:
    return NOTHING if seconds is None else humanize_duration(timedelta(seconds=abs(seconds)))


@register.filter
def slack(seconds: float | None) -> str:
    """Promised time minus actual resolution: '2 h early', '45 min late', 'on time'."""
    if seconds is None:
        return NOTHING
    if abs(seconds) < 60:
        return "on time"
    return f"{duration(seconds)} {'early' if seconds > 0 else 'late'}"


@register.filter
def stars(average: float | None) -> str:
    return NOTHING if average is None else f"{average:.1f} / 5"


@register.filter
def seconds_ago(seconds: float | None) -> str:
    """'12 s ago', '3 min ago', '2 h ago'."""
    if seconds is None:
        return "never"
    seconds = max(0, round(seconds))
    if seconds < 90:
        return f"{seconds} s ago"
    return f"{humanize_duration(timedelta(seconds=seconds))} ago"


@register.simple_tag
def drill_url(figure: str, period_query: str, scope: str = "", key: int | None = None) -> str:
    """The drill-down behind a figure: for everyone, or one team or agent (``scope`` "team" or "agent")."""
    query = f"{period_query}&{urlencode({'figure': figure})}"
    if scope in ("team", "agent") and key is not None:
        query += f"&{urlencode({scope: key})}"
    return f"{reverse('desk:drill-down')}?{query}"


@register.filter
def can_escalate(ticket: object, danger: object) -> bool:
    """Whether the ticket has a level above it (the dashboard hides "Escalate" at the top)."""
    return bool(danger.can_escalate(ticket))  # type: ignore[attr-defined]
