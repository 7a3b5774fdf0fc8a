"""Teams, escalation paths, categories and calendars (``/api/v1/teams/``, ``escalation-paths/``,
``categories/``, ``calendars/``): staff read them, supervisors change them.

The rules about them are ``tickets.services.configuration``'s and ``tickets.services.calendars``', and each
value is judged by the desk's form for its row (``tickets.configuration``, ``tickets.calendar_forms``), so the
API and the pages refuse in the same words. This module serves them; ``tickets.api.configuration_serializers``
and ``tickets.api.calendar_serializers`` type the JSON and hand each row's values to its form. A deletion
refused because the row is in use is a 409 ``in_use``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, NoReturn, cast

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Prefetch, QuerySet
from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.exceptions import MethodNotAllowed, NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api.base import ApiView
from helpdesk.api.errors import Conflict
from helpdesk.api.pagination import NumberedPages
from tickets.api.access import SupervisorWrites
from tickets.api.calendar_serializers import CalendarDetailSerializer, CalendarSerializer, CalendarWriteSerializer
from tickets.api.configuration_serializers import (
    CategorySerializer,
    CategoryWriteSerializer,
    EscalationPathSerializer,
    EscalationPathWriteSerializer,
    FormInput,
    TeamSerializer,
    TeamWriteSerializer,
)
from tickets.models import Calendar, Category, EscalationLevel, EscalationPath, Team
from tickets.services.calendars import delete_calendar
from tickets.services.configuration import delete_path, delete_team

# --- Reads: each row with everything its JSON shows, in a fixed number of queries ----------------------


def teams() -> QuerySet[Team]:
    """Teams with their leads and calendars (one query), their members (one)."""
    members = Prefetch("members", queryset=User.objects.order_by("username"))
    return Team.objects.select_related("lead", "calendar").prefetch_related(members)


def escalation_paths() -> QuerySet[EscalationPath]:
    """Paths (one query), their levels in order with their teams (one), the people each notifies (one)."""
    notify = Prefetch("notify", queryset=User.objects.order_by("username"))
    levels = EscalationLevel.objects.select_related("team").prefetch_related(notify).order_by("position")
    return EscalationPath.objects.prefetch_related(Prefetch("levels", queryset=levels))


def categories() -> QuerySet[Category]:
    """Categories with their paths (one query)."""
    return Category.objects.select_related("escalation_path")


def calendars() -> QuerySet[Calendar]:
    """Calendars (one query), their closed days (one), the names of their teams (one)."""
    return Calendar.objects.prefetch_related(
        "closed_days", Prefetch("teams", queryset=Team.objects.order_by("name").only("name", "calendar"))
    )


# --- Views ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """One kind of configuration row, as its endpoints serve it: either ``delete`` (refusing while the row
    is in use) or ``never_deleted``, what a DELETE is told instead. ``detail`` is one row's JSON where it says
    more than a list's."""

    noun: str
    plural: str
    rows: Callable[[], QuerySet[Any]]
    output: type[serializers.Serializer]
    input: type[FormInput]
    delete: Callable[[Any], None] | None = None
    never_deleted: str = ""
    detail: type[serializers.Serializer] | None = None

    @property
    def one_output(self) -> type[serializers.Serializer]:
        return self.detail or self.output

    @property
    def a(self) -> str:
        """The noun with its article, for the schema's summaries."""
        return f"{'an' if self.noun[0] in 'aeiou' else 'a'} {self.noun}"

    def one(self, pk: int) -> Any:
        row = self.rows().filter(pk=pk).first()
        if row is None:
            raise NotFound(f"There is no {self.noun} with id {pk}.")
        return row

    def new(self) -> models.Model:
        return cast(models.Model, self.rows().model())

    def show(self, pk: int) -> Any:
        """One row's JSON, read afresh (what a write left), as of now."""
        return self.one_output(self.one(pk), context={"now": timezone.now()}).data


class ConfigurationList(ApiView):
    """A page of the rows (staff), or a new one (supervisors)."""

    kind: ClassVar[Kind]
    permission_classes = [SupervisorWrites]
    pagination_class = NumberedPages

    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.kind.rows())
        return self.get_paginated_response(self.kind.output(page, many=True).data)

    def post(self, request: Request) -> Response:
        row = self.valid(self.kind.input, request.data).perform(self.kind.new())
        return Response(self.kind.show(row.pk), status=status.HTTP_201_CREATED)


class ConfigurationDetail(ApiView):
    """One row (staff); PATCH changes the fields sent and keeps the rest (supervisors)."""

    kind: ClassVar[Kind]
    permission_classes = [SupervisorWrites]
    error_codes = {"DELETE": ("409",)}  # a team, path or calendar still in use

    def get(self, request: Request, pk: int) -> Response:
        return Response(self.kind.show(pk))

    def patch(self, request: Request, pk: int) -> Response:
        row = self.valid(self.kind.input, request.data, partial=True).perform(self.kind.one(pk))
        return Response(self.kind.show(row.pk))

    def http_method_not_allowed(self, request: Request, *args: Any, **kwargs: Any) -> NoReturn:
        """A DELETE of a row that is never deleted says what to do instead (still a 405)."""
        deleting = request.method == "DELETE" and self.kind.never_deleted
        raise MethodNotAllowed(request.method, detail=self.kind.never_deleted if deleting else None)


class DeletableDetail(ConfigurationDetail):
    def delete(self, request: Request, pk: int) -> Response:
        """Delete the row, unless something uses it: then a 409 ``in_use`` saying what does."""
        remove = self.kind.delete
        assert remove is not None, f"{self.kind.noun}: no delete"
        try:
            remove(self.kind.one(pk))
        except ValidationError as refusal:
            raise Conflict(" ".join(refusal.messages), code="in_use") from None
        return Response(status=status.HTTP_204_NO_CONTENT)


def views(kind: Kind) -> tuple[type[ConfigurationList], type[ConfigurationDetail]]:
    """The kind's list and detail views, each operation described for the schema."""
    detail_base = DeletableDetail if kind.delete is not None else ConfigurationDetail
    name = "".join(word.capitalize() for word in kind.noun.split())
    listing = type(f"{name}List", (ConfigurationList,), {"kind": kind})
    detail = type(f"{name}Detail", (detail_base,), {"kind": kind})
    operations = {
        "get": extend_schema(summary=f"Read {kind.a}", responses=kind.one_output),
        "patch": extend_schema(
            summary=f"Change {kind.a} (what is left out stays)", request=kind.input, responses=kind.one_output
        ),
    }
    if kind.delete is not None:
        operations["delete"] = extend_schema(summary=f"Delete {kind.a} nothing uses", responses={204: None})
    return (
        extend_schema_view(
            get=extend_schema(summary=f"List the {kind.plural}", responses=kind.output(many=True)),
            post=extend_schema(summary=f"Create {kind.a}", request=kind.input, responses={201: kind.one_output}),
        )(listing),
        extend_schema_view(**operations)(detail),
    )


TEAMS = Kind("team", "teams", teams, TeamSerializer, TeamWriteSerializer, delete=delete_team)
PATHS = Kind(
    "escalation path", "escalation paths", escalation_paths, EscalationPathSerializer, EscalationPathWriteSerializer,
    delete=delete_path,
)  # fmt: skip
CATEGORIES = Kind(
    "category", "categories", categories, CategorySerializer, CategoryWriteSerializer,
    never_deleted="Categories are never deleted: set is_active to false to retire one.",
)  # fmt: skip
CALENDARS = Kind(
    "calendar", "calendars", calendars, CalendarSerializer, CalendarWriteSerializer, delete=delete_calendar,
    detail=CalendarDetailSerializer,
)  # fmt: skip
TeamList, TeamDetail = views(TEAMS)
EscalationPathList, EscalationPathDetail = views(PATHS)
CategoryList, CategoryDetail = views(CATEGORIES)
CalendarList, CalendarDetail = views(CALENDARS)

urlpatterns = [
    path("teams/", TeamList.as_view(), name="teams"),
    path("teams/<int:pk>/", TeamDetail.as_view(), name="team"),
    path("escalation-paths/", EscalationPathList.as_view(), name="escalation-paths"),
    path("escalation-paths/<int:pk>/", EscalationPathDetail.as_view(), name="escalation-path"),
    path("categories/", CategoryList.as_view(), name="categories"),
    path("categories/<int:pk>/", CategoryDetail.as_view(), name="category"),
    path("calendars/", CalendarList.as_view(), name="calendars"),
    path("calendars/<int:pk>/", CalendarDetail.as_view(), name="calendar"),
]
