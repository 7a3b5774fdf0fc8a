"""Helpers for the configuration pages' tests: sign in, post what the pages' forms send, read what they say.

The pages' forms are posted as a browser would fill them in, starting from what is saved
(``team_data``, ``path_data``, ``category_data``, ``calendar_data``), so each test changes only what it is about.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from tickets import services
from tickets.calendar_forms import posted_values
from tickets.durations import spoken_duration
from tickets.models import Calendar, Category, ClosedDay, EscalationLevel, EscalationPath, Team, Ticket
from tickets.models.calendar import spans_text

INDEX = "desk:config:index"

BERLIN = ZoneInfo("Europe/Berlin")
NINE_TO_FIVE = [[["09:00", "17:00"]]] * 5 + [[]] * 2  # Monday to Friday, as a calendar stores its week
# A promise made on Monday 7 December 2026 at nine (Berlin) for Tuesday at five is warned for its last 20 %:
# around the clock, of 32 hours (from 10:36 on Tuesday); in nine-to-five hours, of 16 open hours (from 13:48).
WARNED_AROUND_THE_CLOCK = datetime(2026, 12, 8, 10, 36, tzinfo=BERLIN)
WARNED_IN_OFFICE_HOURS = datetime(2026, 12, 8, 13, 48, tzinfo=BERLIN)


def url(name: str, *args: Any) -> str:
    return reverse(f"desk:config:{name}", args=args)


def signed_in(user: User | None) -> Client:
    """A browser signed in as ``user``; ``None``: an anonymous one."""
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def text(response: HttpResponse) -> str:
    return response.content.decode()


def said(response: HttpResponse) -> list[str]:
    """The flash messages a response carries (read before following the redirect)."""
    return [str(message) for message in get_messages(response.wsgi_request)]


def saved(response: HttpResponse) -> list[str]:
    """A successful save: back to the overview, with the messages it says there."""
    assert response.status_code == 302, text(response)
    assert response["Location"] == reverse(INDEX)
    return said(response)


def refused(response: HttpResponse) -> str:
    """A form shown again (400) with what to correct: its HTML, unescaped, to look for the messages in."""
    assert response.status_code == 400, response.status_code
    return html.unescape(text(response))


def world_as_saved() -> tuple[Any, ...]:
    """Every configuration row and list: compare before and after to prove nothing changed."""
    return (
        list(Team.objects.order_by("pk").values("pk", "name", "lead", "calendar")),
        list(Team.members.through.objects.order_by("pk").values("team", "user")),
        list(EscalationPath.objects.order_by("pk").values()),
        list(EscalationLevel.objects.order_by("pk").values()),
        list(EscalationLevel.notify.through.objects.order_by("pk").values("escalationlevel", "user")),
        list(Category.objects.order_by("pk").values()),
        list(Calendar.objects.order_by("pk").values()),
        list(ClosedDay.objects.order_by("pk").values()),
    )


def promised_on_monday(ticket: Ticket, by: User) -> Ticket:
    """``by`` promises on Monday at nine to solve ``ticket`` by Tuesday at five: the ticket as it then is."""
    ticket.refresh_from_db()
    monday = datetime(2026, 12, 7, 9, tzinfo=BERLIN)
    due = datetime(2026, 12, 8, 17, tzinfo=BERLIN)
    services.make_promise(ticket, due_at=due, by=by, words="By tomorrow evening.", now=monday)
    ticket.refresh_from_db()
    return ticket


# --- What each form sends ----------------------------------------------------------------------


def team_data(team: Team | None = None, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"name": "", "calendar": Calendar.default_id(), "lead": "", "members": []}
    if team is not None:
        data.update(
            name=team.name,
            calendar=team.calendar_id,
            lead=team.lead_id or "",
            members=[user.pk for user in team.members.order_by("pk")],
        )
    data.update(changes)
    return data


def level_row(level: EscalationLevel) -> dict[str, Any]:
    return {
        "id": level.pk,
        "ORDER": level.position,
        "name": level.name,
        "team": level.team_id,
        "notify": [user.pk for user in level.notify.order_by("pk")],
    }


def path_data(path: EscalationPath | None = None, *, rows: list[dict[str, Any]] | None = None, **changes: Any):
    """The path's form as saved (its levels in order), with ``rows`` in place of the levels if given.

    A row is a dict of a level's fields ("id", "ORDER", "name", "team", "notify", "DELETE"); rows with an
    "id" are the page's existing levels, the others its blank rows filled in.
    """
    data: dict[str, Any] = {"name": "", "description": ""}
    existing = list(path.levels.order_by("position")) if path is not None else []
    if path is not None:
        data.update(name=path.name, description=path.description)
    data.update(changes)
    if rows is None:
        rows = [level_row(level) for level in existing]
    data.update({"levels-TOTAL_FORMS": len(rows), "levels-INITIAL_FORMS": len(existing)})
    data.update({"levels-MIN_NUM_FORMS": 0, "levels-MAX_NUM_FORMS": 1000})
    for i, row in enumerate(rows):
        data.update({f"levels-{i}-{field}": value for field, value in row.items()})
    return data


def category_data(category: Category | None = None, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "",
        "slug": "",
        "description": "",
        "default_priority": 2,
        "escalation_path": "",
        "default_target": "8h",
        "warn_min": "",
        "warn_fraction": "",
        "business_hours": "",
        "is_active": "on",
    }
    if category is not None:
        data.update(
            name=category.name,
            slug=category.slug,
            description=category.description,
            default_priority=category.default_priority,
            escalation_path=category.escalation_path_id,
            default_target=spoken_duration(category.default_target),
            warn_min=spoken_duration(category.warn_min) if category.warn_min is not None else "",
            warn_fraction="" if category.warn_fraction is None else category.warn_fraction,
            business_hours="on" if category.business_hours else "",
            is_active="on" if category.is_active else "",
        )
    data.update(changes)
    return {key: value for key, value in data.items() if value != "" or key not in ("business_hours", "is_active")}


def calendar_data(calendar: Calendar | None = None, *, days: list[dict[str, Any]] | None = None, **changes: Any):
    """The calendar's page as it shows it (a new one: Monday to Friday, nine to five), with ``days`` in place
    of its closed days if given: each a dict of "date", "hours", "reason" (and "DELETE" to tick Remove)."""
    shown = Calendar() if calendar is None else calendar
    data: dict[str, Any] = {**posted_values(shown), **changes}
    listed = list(shown.closed_days.all()) if shown.pk else []
    if days is None:
        days = [
            {"date": f"{day.date:%Y-%m-%d}", "hours": spans_text(day.spans), "reason": day.reason} for day in listed
        ]
    data.update({"closed-TOTAL_FORMS": len(days), "closed-INITIAL_FORMS": len(listed)})
    data.update({"closed-MIN_NUM_FORMS": 0, "closed-MAX_NUM_FORMS": 1000})
    for i, day in enumerate(days):
        data.update({f"closed-{i}-{field}": value for field, value in day.items()})
    return data
