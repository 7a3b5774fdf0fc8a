"""Template helpers for the supervisor pages: rates, durations and slack as people read them, and links
from a figure to the rows behind it."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django import template
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from tickets.promise_rules import humanize_duration
from tickets.templatetags.desk import BADGES, countdown, person

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
def drill_url(
    context: Any, figure: str, period_query: str, scope: str = "", key: int | None = None, guard: str = ""
) -> str:
    """The drill-down behind a figure: for everyone, or one team, agent or category (``scope``); with
    ``guard``, of the promises the guard's calibration counts ("followed") or leaves out ("default").
    The page's ``drill_base`` saves a reverse() per figure (there are hundreds on a busy page)."""
    query = f"{period_query}&{urlencode({'figure': figure})}"
    if scope in ("team", "agent", "category") and key is not None:
        query += f"&{urlencode({scope: key})}"
    if guard:
        query += f"&{urlencode({'guard': guard})}"
    return f"{context.get('drill_base') or reverse('desk:drill-down')}?{query}"


# --- One row of the "now" view, built in Python --------------------------------------------------------
# Built here rather than by a template loop, which was most of the page's time on a long list. Everything
# shown goes through format_html, which escapes it.

_SENTINEL = "__reference__"


def _row_urls(context: Any) -> dict[str, str]:
    """The three URLs a row needs, reversed once per page with a stand-in for the reference."""
    urls = context.render_context.get("danger_urls")
    if urls is None:
        urls = {
            "ticket": reverse("desk:ticket", args=[_SENTINEL]),
            "assign": reverse("desk:action", args=[_SENTINEL, "assign"]),
            "escalate": reverse("desk:action", args=[_SENTINEL, "escalate"]),
        }
        context.render_context["danger_urls"] = urls
    return urls


@register.simple_tag(takes_context=True)
def danger_row(context: Any, ticket: Any, danger: Any) -> str:
    urls = {name: url.replace(_SENTINEL, ticket.reference) for name, url in _row_urls(context).items()}
    hidden = format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}"><input type="hidden" name="next" value="{}">',
        str(context.get("csrf_token", "")),
        context.get("here", ""),
    )
    breached = ticket.promise_state == "breached"
    colour, label = BADGES.get(ticket.promise_state, BADGES["none"])
    return format_html(
        '<tr class="{row_class}" data-reference="{reference}">'
        '<td class="text-nowrap"><a class="fw-semibold" href="{ticket_url}">{reference}</a>'
        '<div class="small text-secondary text-truncate subject">{subject}</div></td>'
        "<td>{customer}</td>"
        '<td class="small promise-words">“{words}”</td>'
        '<td class="text-nowrap"><span class="badge rounded-pill text-bg-{colour} promise-{state}">{label}</span> '
        '<span class="small{due_class}" title="{due}">{countdown}</span></td>'
        '<td class="text-nowrap">{position}. {level}</td>'
        "<td>{owner}</td>"
        '<td class="actions">{reassign}{escalate}</td></tr>',
        row_class="table-danger" if breached else "table-warning",
        reference=ticket.reference,
        ticket_url=urls["ticket"],
        subject=ticket.subject,
        customer=ticket.customer.name,
        words=Truncator(ticket.promise_words or "").chars(120),
        colour=colour,
        state=ticket.promise_state,
        label=label,
        due_class=" text-danger fw-semibold" if breached else "",
        due=dateformat.format(timezone.localtime(ticket.promise_due_at), "D j M, H:i T"),
        countdown=countdown(ticket.promise_due_at),
        position=ticket.escalation_level.position,
        level=ticket.escalation_level.name,
        owner=person(ticket.assignee) if danger.group_by == "team" else ticket.team.name,
        reassign=_reassign_form(ticket, danger, urls["assign"], hidden),
        escalate=_escalate_form(ticket, urls["escalate"], hidden) if danger.can_escalate(ticket) else _TOP_LEVEL,
    )


_TOP_LEVEL = mark_safe('<span class="small text-secondary">Top level</span>')


def _reassign_form(ticket: Any, danger: Any, action: str, hidden: str) -> str:
    return format_html(
        '<form class="d-flex gap-1 mb-1" method="post" action="{}">{}'
        '<label class="visually-hidden" for="assign-{}">Reassign {} to</label>'
        '<select class="form-select form-select-sm" id="assign-{}" name="assignee">{}</select>'
        '<button class="btn btn-sm btn-outline-primary" type="submit">Reassign</button></form>',
        action, hidden, ticket.pk, ticket.reference, ticket.pk, danger.reassign_options(ticket),
    )  # fmt: skip


def _escalate_form(ticket: Any, action: str, hidden: str) -> str:
    return format_html(
        '<details><summary class="small">Escalate</summary>'
        '<form class="mt-1" method="post" action="{}">{}'
        '<label class="form-label small mb-0" for="escalate-{}">Hand-off note for the next level</label>'
        '<textarea class="form-control form-control-sm" id="escalate-{}" name="note" rows="3" required></textarea>'
        '<button class="btn btn-sm btn-outline-danger mt-1" type="submit">Escalate</button></form></details>',
        action, hidden, ticket.pk, ticket.pk,
    )  # fmt: skip
