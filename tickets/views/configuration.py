"""Configuration pages for supervisors: teams and members, escalation paths and levels, categories, business
calendars; and the imported history, whose pages live in ``tickets.views.history``.

Thin: each page reads its row, hands the POST to a form from ``tickets.configuration`` (calendars:
``tickets.calendar_forms``) and, once the form has saved, goes back to the overview (``overview``, read here)
with a message. Supervisors and superusers only; agents get a 403.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, Prefetch
from django.forms import ModelForm
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from helpdesk.forms import add_service_errors
from tickets.calendar_forms import CalendarForm, region_in_words, week_in_short
from tickets.configuration import CategoryForm, PathForm, TeamForm
from tickets.durations import spoken_duration
from tickets.models import AROUND_THE_CLOCK, Calendar, Category, EscalationLevel, EscalationPath, Team
from tickets.services.calendars import delete_calendar, preview
from tickets.services.configuration import delete_path, delete_team
from tickets.views import history
from tickets.views.access import StaffRequest, supervisor_only

GET_OR_POST = require_http_methods(["GET", "POST"])


@supervisor_only
@require_GET
def index(request: StaffRequest) -> HttpResponse:
    return render(request, "configuration/index.html", overview())


@supervisor_only
@GET_OR_POST
def team(request: StaffRequest, pk: int | None = None) -> HttpResponse:
    instance = get_object_or_404(Team.objects.select_related("lead"), pk=pk) if pk else Team()
    return edit(request, TeamForm(posted(request), instance=instance), "configuration/team.html")


@supervisor_only
@GET_OR_POST
def escalation_path(request: StaffRequest, pk: int | None = None) -> HttpResponse:
    instance = get_object_or_404(EscalationPath, pk=pk) if pk else EscalationPath()
    form = PathForm(posted(request), instance=instance)
    return edit(request, form, "configuration/path.html", again="desk:config:path-edit")


@supervisor_only
@GET_OR_POST
def category(request: StaffRequest, pk: int | None = None) -> HttpResponse:
    instance = get_object_or_404(Category.objects.select_related("escalation_path"), pk=pk) if pk else Category()
    return edit(request, CategoryForm(posted(request), instance=instance), "configuration/category.html")


@supervisor_only
@GET_OR_POST
def calendar(request: StaffRequest, pk: int | None = None) -> HttpResponse:
    """A calendar's page, with the next two weeks' open hours beside the form: read before the form takes
    the POST, so they are the hours as saved."""
    instance = (
        get_object_or_404(with_teams(Calendar.objects.prefetch_related("closed_days")), pk=pk) if pk else Calendar()
    )
    shown = {
        "preview": preview(instance, start=timezone.now()) if pk else [],
        "teams": [team.name for team in instance.teams.all()] if pk else [],
        "region": region_in_words(instance),
        "fixed": instance.name == AROUND_THE_CLOCK,
    }
    form = CalendarForm(posted(request), instance=instance)
    return edit(request, form, "configuration/calendar.html", again="desk:config:calendar-edit", context=shown)


@supervisor_only
@require_POST
def calendar_delete(request: StaffRequest, pk: int) -> HttpResponse:
    return delete(request, get_object_or_404(Calendar, pk=pk), delete_calendar, back="desk:config:calendar-edit")


@supervisor_only
@require_POST
def team_delete(request: StaffRequest, pk: int) -> HttpResponse:
    return delete(request, get_object_or_404(Team, pk=pk), delete_team, back="desk:config:team-edit")


@supervisor_only
@require_POST
def path_delete(request: StaffRequest, pk: int) -> HttpResponse:
    return delete(request, get_object_or_404(EscalationPath, pk=pk), delete_path, back="desk:config:path-edit")


# --- The steps every page shares -----------------------------------------------------------------


def posted(request: StaffRequest) -> QueryDict | None:
    """The POST to bind a form to, even an empty one (``request.POST or None`` would show it unbound)."""
    return request.POST if request.method == "POST" else None


def edit(
    request: StaffRequest,
    form: ModelForm[Any],
    template: str,
    *,
    again: str = "",
    context: dict[str, Any] | None = None,
) -> HttpResponse:
    """Show the form (with ``context``); on a valid POST save it and go back to the overview (or, for "Save
    and add another", to the ``again`` page of the row saved), else show it again with what to correct."""
    noun = form._meta.model._meta.verbose_name
    adding = form.instance._state.adding
    if form.is_bound and form.is_valid():
        try:
            saved = form.save()
        except ValidationError as refusal:
            add_service_errors(form, refusal)
        else:
            messages.success(request, f"{'Created' if adding else 'Saved'} {noun} “{saved}”.")
            if again and "again" in request.POST:
                return redirect(again, pk=saved.pk)
            return redirect("desk:config:index")
    shown = {"form": form, "adding": adding, **(context or {})}
    return render(request, template, shown, status=400 if form.is_bound else 200)


def delete(request: StaffRequest, obj: models.Model, remove: Callable[[Any], None], *, back: str) -> HttpResponse:
    """Delete, or go back to the row's page saying what still uses it."""
    try:
        remove(obj)
    except ValidationError as refusal:
        messages.error(request, " ".join(refusal.messages))
        return redirect(back, pk=obj.pk)
    messages.success(request, f"Deleted {obj._meta.verbose_name} “{obj}”.")
    return redirect("desk:config:index")


# --- The overview --------------------------------------------------------------------------------


def spoken_fraction(fraction: float) -> str:
    return f"{fraction * 100:g} %"


@dataclass(frozen=True)
class CategoryRow:
    """A category with its durations and fraction as people read them ("" where the site default holds)."""

    category: Category
    target: str
    warn_min: str
    warn_fraction: str

    @classmethod
    def of(cls, category: Category) -> CategoryRow:
        return cls(
            category=category,
            target=spoken_duration(category.default_target),
            warn_min="" if category.warn_min is None else spoken_duration(category.warn_min),
            warn_fraction="" if category.warn_fraction is None else spoken_fraction(category.warn_fraction),
        )


@dataclass(frozen=True)
class CalendarRow:
    """A calendar as the overview lists it: its week in one line, whose holidays, the teams working to it."""

    calendar: Calendar
    week: str
    region: str
    teams: list[str]

    @classmethod
    def of(cls, calendar: Calendar) -> CalendarRow:
        teams = [team.name for team in calendar.teams.all()]
        return cls(calendar, week_in_short(calendar.weekdays), region_in_words(calendar), teams)


def with_teams(calendars: models.QuerySet[Calendar]) -> models.QuerySet[Calendar]:
    return calendars.prefetch_related(
        Prefetch("teams", queryset=Team.objects.order_by("name").only("name", "calendar"))
    )


def overview() -> dict[str, Any]:
    """The index page: six queries whatever the sizes. Teams with their lead, calendar and member count (1),
    paths (1) with their levels and the levels' teams (1), categories with their path (1), calendars (1)
    with the names of their teams (1)."""
    levels = EscalationLevel.objects.select_related("team").order_by("position")
    return {
        "teams": Team.objects.select_related("lead", "calendar").annotate(member_count=Count("members")),
        "paths": EscalationPath.objects.prefetch_related(Prefetch("levels", queryset=levels)),
        "categories": [CategoryRow.of(c) for c in Category.objects.select_related("escalation_path")],
        "calendars": [CalendarRow.of(calendar) for calendar in with_teams(Calendar.objects.all())],
        "around_the_clock": AROUND_THE_CLOCK,
        "site_warn_min": spoken_duration(settings.PROMISE_WARN_MIN),
        "site_warn_fraction": spoken_fraction(settings.PROMISE_WARN_FRACTION),
    }


app_name = "config"

urlpatterns = [
    path("", index, name="index"),
    path("teams/new/", team, name="team-new"),
    path("teams/<int:pk>/", team, name="team-edit"),
    path("teams/<int:pk>/delete/", team_delete, name="team-delete"),
    path("paths/new/", escalation_path, name="path-new"),
    path("paths/<int:pk>/", escalation_path, name="path-edit"),
    path("paths/<int:pk>/delete/", path_delete, name="path-delete"),
    path("categories/new/", category, name="category-new"),
    path("categories/<int:pk>/", category, name="category-edit"),
    path("calendars/new/", calendar, name="calendar-new"),
    path("calendars/<int:pk>/", calendar, name="calendar-edit"),
    path("calendars/<int:pk>/delete/", calendar_delete, name="calendar-delete"),
    path("history/", history.history, name="history"),
    path("history/<int:pk>/", history.history_import, name="history-import"),
    path("history/<int:pk>/cancel/", history.history_cancel, name="history-cancel"),
    path("history/<int:pk>/problems.txt", history.history_problems, name="history-problems"),
]
