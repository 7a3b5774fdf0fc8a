"""Helpers for the configuration pages' tests: sign in, post what the pages' forms send, read what they say.

The pages' forms are posted as a browser would fill them in, starting from what is saved
(``team_data``, ``path_data``, ``category_data``), so each test changes only what it is about.
"""

from __future__ import annotations

import html
from typing import Any

from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from tickets.durations import spoken_duration
from tickets.models import Category, EscalationLevel, EscalationPath, Team

INDEX = "desk:config:index"


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
        list(Team.objects.order_by("pk").values("pk", "name", "lead")),
        list(Team.members.through.objects.order_by("pk").values("team", "user")),
        list(EscalationPath.objects.order_by("pk").values()),
        list(EscalationLevel.objects.order_by("pk").values()),
        list(EscalationLevel.notify.through.objects.order_by("pk").values("escalationlevel", "user")),
        list(Category.objects.order_by("pk").values()),
    )


# --- What each form sends ----------------------------------------------------------------------


def team_data(team: Team | None = None, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"name": "", "lead": "", "members": []}
    if team is not None:
        data.update(name=team.name, lead=team.lead_id or "", members=[user.pk for user in team.members.order_by("pk")])
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
            is_active="on" if category.is_active else "",
        )
    data.update(changes)
    return {key: value for key, value in data.items() if value != "" or key != "is_active"}
