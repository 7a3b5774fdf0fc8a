"""Template helpers for the supervisor pages: rates, durations and slack as people read them, and links
from a figure to the rows behind it."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

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


@register.simple_tag(takes_context=True)
def drill_url(context: Any, figure: str, period_query: str, scope: str = "", key: int | None = None) -> str:
    """The drill-down behind a figure: for everyone, or one team or agent (``scope`` "team" or "agent").
    The page's ``drill_base`` saves a reverse() per figure (there are hundreds on a busy page)."""
    query = f"{period_query}&{urlencode({'figure': figure})}"
    if scope in ("team", "agent") and key is not None:
        query += f"&{urlencode({scope: key})}"
    return f"{context.get('drill_base') or reverse('desk:drill-down')}?{query}"


@register.filter
def can_escalate(ticket: object, danger: object) -> bool:
    """Whether the ticket has a level above it (the dashboard hides "Escalate" at the top)."""
    return bool(danger.can_escalate(ticket))  # type: ignore[attr-defined]


@register.simple_tag
def reassign_select(ticket: Any, danger: Any) -> str:
    """The dashboard's reassign list for one ticket, built in Python: a template loop per row made the
    page cost 1.8 ms a row (docs/benchmarks.md)."""
    chosen = str(ticket.assignee_id or "")
    return format_html(
        '<select class="form-select form-select-sm" id="assign-{}" name="assignee">{}</select>',
        ticket.pk,
        format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            ((value, mark_safe(" selected") if value == chosen else "", label)
             for value, label in danger.reassign_choices(ticket)),
        ),
    )  # fmt: skip
