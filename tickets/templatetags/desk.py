"""Template helpers for the desk: promise countdowns and risk badges, as people read them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import forms, template
from django.utils import timezone
from django.utils.timesince import timesince

from tickets.models import display_name
from tickets.promise_rules import humanize_duration

register = template.Library()

BADGES = {
    "none": ("secondary", "No promise"),
    "on_track": ("success", "On track"),
    "at_risk": ("warning", "At risk"),
    "breached": ("danger", "Breached"),
    "kept": ("primary", "Kept"),
    "broken": ("dark", "Broken"),
}


@register.filter
def countdown(due_at: datetime | None) -> str:
    """'due in 42 min' or 'overdue by 1 h 5 min'."""
    if due_at is None:
        return ""
    remaining = due_at - timezone.now()
    if remaining.total_seconds() >= 0:
        return f"due in {humanize_duration(remaining)}"
    return f"overdue by {humanize_duration(-remaining)}"


@register.inclusion_tag("desk/_badge.html")
def promise_badge(state: str) -> dict[str, str]:
    colour, label = BADGES.get(state, BADGES["none"])
    return {"colour": colour, "label": label, "state": state}


@register.filter
def control(field: Any) -> str:
    """Render a form field's widget with Bootstrap's classes, marked invalid when it has errors."""
    is_select = isinstance(field.field.widget, forms.Select)
    classes = "form-select form-select-sm" if is_select else "form-control form-control-sm"
    if field.errors:
        classes += " is-invalid"
    return field.as_widget(attrs={"class": classes})


@register.filter
def get(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key)


@register.filter
def person(user: Any) -> str:
    """A staff member as people call them: full name, else username; nobody is a dash."""
    return display_name(user)


@register.filter
def ago(moment: datetime | None) -> str:
    """'just now', '5 minutes ago', '2 days, 3 hours ago'."""
    if moment is None:
        return ""
    if timezone.now() - moment < timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment)} ago"


@register.filter
def iso_time(value: str) -> datetime | None:
    """An ISO 8601 time stored in an interaction's data, back as a datetime (shown in the viewer's zone)."""
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
