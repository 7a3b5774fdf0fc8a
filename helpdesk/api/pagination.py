"""Pages of results. Every list is paged, and no page is larger than ``MAX_PAGE_SIZE``.

Tickets page by cursor (keyset): the cursor holds the last row's sort values and its id, and the next page
is ``WHERE (sort values, id) come after the cursor ORDER BY ... LIMIT n``, read off an index that ends
with the id. Unlike an offset, a row that is added or removed before the cursor shifts nothing: no ticket
whose sort value stays put is shown twice or skipped (one whose sort value changes, say ``updated_at``, moves
in the order, and may be met again). Deep pages of the orders led by a column (``created_at``, ...) cost
what page 1 costs; see ``after_all``. The other lists are small
(customers, teams, notifications) and page by number, with a count.

Every page has the same shape: ``{"results": [...], "next": url|null, "previous": url|null}``, plus
``count`` for numbered pages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core import signing
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import OrderBy
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from helpdesk.input import whole_number

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
CURSOR_SALT = "tickets.api.cursor"
MAX_CURSOR_LENGTH = 1000  # ours are under 300 characters
PAGE_SIZE_HELP = f"Results per page, 1 to {MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE})."


def page_size(request: Request) -> int:
    raw = request.query_params.get("page_size", "")
    if not raw:
        return DEFAULT_PAGE_SIZE
    size = whole_number(raw, at_most=MAX_PAGE_SIZE)
    if not size:
        raise ValidationError({"page_size": [f"Ask for 1 to {MAX_PAGE_SIZE} results per page."]})
    return size


class NumberedPages(pagination.PageNumberPagination):
    """``?page=2&page_size=50`` with a ``count``: for the lists that stay small."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int:
        return page_size(request)

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any] | None:
        if "cursor" in request.query_params:
            raise ValidationError({"cursor": ["This list pages by number (page=2), not by cursor."]})
        page = request.query_params.get("page", "1")
        if not whole_number(page):
            raise ValidationError({"page": ["Pages are numbered from 1."]})
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound:
            last = self.django_paginator_class(queryset, self.get_page_size(request)).num_pages
            raise ValidationError({"page": [f"There is no page {page}: this list has {last}."]}) from None

    def get_paginated_response(self, data: Any) -> Response:
        return Response(
            {"count": self.page.paginator.count, "next": self.get_next_link(), "previous": self.get_previous_link(),
             "results": data}
        )  # fmt: skip

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return _page_schema(schema, count=True)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1},
             "description": "Which page, from 1."},
            _page_size_parameter(),
        ]  # fmt: skip


# --- Keyset (cursor) pages -------------------------------------------------------------------------


def parse_int(value: Any) -> int:
    """An integer that fits the database's columns (a crafted cursor must not overflow a bigint)."""
    if not isinstance(value, int) or isinstance(value, bool) or not -(2**63) <= value < 2**63:
        raise ValueError("not a 64-bit integer")
    return value


@dataclass(frozen=True)
class Key:
    """One sort key. Nulls sort as if greater than every value: last going up, first going down."""

    field: str
    descending: bool = False
    nullable: bool = False
    parse: Callable[[Any], Any] = parse_int

    def reversed(self) -> Key:
        return Key(self.field, not self.descending, self.nullable, self.parse)

    def order_by(self) -> OrderBy:
        column = F(self.field)
        return column.desc(nulls_first=True) if self.descending else column.asc(nulls_last=True)

    def equal(self, value: Any) -> Q:
        return Q(**{f"{self.field}__isnull": True}) if value is None else Q(**{self.field: value})

    def after(self, value: Any) -> Q | None:
        """Rows strictly after ``value`` in this key's order; None when nothing can be."""
        if self.descending:
            return Q(**{f"{self.field}__isnull": False}) if value is None else Q(**{f"{self.field}__lt": value})
        if value is None:
            return None
        later = Q(**{f"{self.field}__gt": value})
        return later | Q(**{f"{self.field}__isnull": True}) if self.nullable else later

    def from_cursor(self, value: Any) -> Any:
        return None if value is None else self.parse(value)


def parse_datetime(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError("naive")
    return parsed.astimezone(UTC)


def _to_cursor(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def after_all(keys: Sequence[Key], values: Sequence[Any]) -> Q:
    """Rows after the cursor in the order of ``keys``: after on the first key, or equal on it and after the
    cursor on the rest (the last key is unique, so no row is equal on all of them). Nested from the last key
    out, each key's comparisons are written once: (a > x) OR (a = x AND ((b > y) OR (b = y AND ...))).

    The first key's bound is said once more on its own (``created_at >= cursor's``): PostgreSQL starts the
    index scan there instead of filtering every row before the cursor, so a deep page costs what page 1
    costs. (Not for a nullable first key, whose bound would need an OR.)
    """
    condition: Q | None = None
    for key, value in reversed(list(zip(keys, values, strict=True))):
        later, rest = key.after(value), None if condition is None else key.equal(value) & condition
        condition = rest if later is None else later if rest is None else later | rest
    condition = condition if condition is not None else Q(pk__in=[])
    first, value = keys[0], values[0]
    if value is not None and not first.nullable:
        condition &= Q(**{f"{first.field}__{'lte' if first.descending else 'gte'}": value})
    return condition


@dataclass(frozen=True)
class Window:
    """The rows a cursor page reads: the first ``limit`` in the order of ``keys`` (reversed when going
    back) after the cursor's ``values`` (None on the first page)."""

    keys: tuple[Key, ...]
    values: list[Any] | None
    backwards: bool
    limit: int

    def applied_to(self, rows: QuerySet[Any]) -> QuerySet[Any]:
        return self.first_of(rows if self.values is None else rows.filter(after_all(self.keys, self.values)))

    def first_of(self, rows: QuerySet[Any]) -> QuerySet[Any]:
        """The first ``limit`` of ``rows`` in the window's order (rows already after the cursor)."""
        return rows.order_by(*(key.order_by() for key in self.keys))[: self.limit]


class CursorPages(pagination.BasePagination):
    """Keyset pages in one of the view's named orders. The view sets ``keys`` (the sort, ending with a unique
    key) and ``annotations`` (sort values computed in SQL) before paginating."""

    cursor_query_param = "cursor"

    def __init__(self) -> None:
        self.keys: Sequence[Key] = ()
        self.ordering = ""

    def use(self, ordering: str, keys: Sequence[Key]) -> None:
        self.ordering, self.keys = ordering, keys

    def paginate_queryset(self, queryset: QuerySet[Any], request: Request, view: Any = None) -> list[Any]:
        return self.paginate(request, lambda window: list(window.applied_to(queryset)))

    def paginate(self, request: Request, read: Callable[[Window], list[Any]]) -> list[Any]:
        """The page the request asks for, read by ``read`` (the rows of a ``Window``, in its order)."""
        self.request = request
        if "page" in request.query_params:
            raise ValidationError({"page": ["Tickets page by cursor: follow a page's next link (cursor=...)."]})
        size = page_size(request)
        direction, values = self._decode(request.query_params.get(self.cursor_query_param))
        backwards = direction == "previous"
        keys = tuple(key.reversed() for key in self.keys) if backwards else tuple(self.keys)
        found = read(Window(keys, values, backwards, size + 1))
        more = len(found) > size
        found = found[:size]
        if backwards:
            found.reverse()
        self.has_next = more if not backwards else True
        self.has_previous = values is not None and (more if backwards else True)
        self.page = found
        return found

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"next": self._link("next"), "previous": self._link("previous"), "results": data})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return _page_schema(schema, count=False)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "Where the page starts: copy it from a page's next or previous link."},
            _page_size_parameter(),
        ]  # fmt: skip

    # --- The cursor: {"d": direction, "o": ordering, "v": the sort values}, signed ------------------------
    # Signed (with SECRET_KEY), so a cursor is only ever one this API made: a crafted one is refused before
    # any of it is read, whatever values it holds.

    def _link(self, direction: str) -> str | None:
        if not (self.has_next if direction == "next" else self.has_previous) or not self.page:
            return None
        row = self.page[-1] if direction == "next" else self.page[0]
        values = [_to_cursor(_value_of(row, key.field)) for key in self.keys]
        cursor = signing.dumps({"d": direction, "o": self.ordering, "v": values}, salt=CURSOR_SALT, compress=True)
        return replace_query_param(self.request.build_absolute_uri(), self.cursor_query_param, cursor)

    def _decode(self, cursor: str | None) -> tuple[str, list[Any] | None]:
        if not cursor:
            return "next", None
        try:
            if len(cursor) > MAX_CURSOR_LENGTH:
                raise ValueError("longer than any cursor this API makes")
            payload = signing.loads(cursor, salt=CURSOR_SALT)
            direction, ordering, raw = payload["d"], payload["o"], payload["v"]
            if direction not in ("next", "previous") or ordering != self.ordering or len(raw) != len(self.keys):
                raise ValueError("another list's cursor")
            return direction, [key.from_cursor(value) for key, value in zip(self.keys, raw, strict=True)]
        except (signing.BadSignature, ValueError, TypeError, KeyError, OverflowError) as error:
            raise ValidationError(
                {"cursor": ["That cursor is not one of this list's (or the ordering changed): start from the first "
                            "page, without a cursor."]}
            ) from error  # fmt: skip


def _value_of(row: Any, field: str) -> Any:
    return row[field] if isinstance(row, dict) else getattr(row, field)


def _page_size_parameter() -> dict[str, Any]:
    return {
        "name": "page_size",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
        "description": PAGE_SIZE_HELP,
    }


def _page_schema(schema: dict[str, Any], *, count: bool) -> dict[str, Any]:
    link = {"type": "string", "format": "uri", "nullable": True}
    properties: dict[str, Any] = {"next": link, "previous": link, "results": schema}
    if count:
        properties = {"count": {"type": "integer"}, **properties}
    return {"type": "object", "required": list(properties), "properties": properties}
