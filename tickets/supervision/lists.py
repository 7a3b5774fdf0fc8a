"""The rows behind a figure, as the drill-down page and its CSV show them: one column list per source."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db.models import QuerySet

from tickets.models import Ticket, display_name
from tickets.supervision.figures import FIGURES


def _person(user: User | None) -> str:
    return display_name(user, nobody="")


def _seconds(duration: timedelta | None, less: timedelta | None = timedelta(0)) -> float | None:
    return None if duration is None or less is None else (duration - less).total_seconds()


HOURS = ("duration", "slack")


def hours(seconds: float | None) -> float | None:
    return round(seconds / 3600, 2) if seconds is not None else None


@dataclass(frozen=True)
class Column:
    """``kind`` says how to show the value: ticket (a link), text, time, duration, slack (signed), number."""

    label: str
    value: Callable[[Any], Any]
    kind: str = "text"


@dataclass(frozen=True)
class Listing:
    columns: tuple[Column, ...]
    related: tuple[str, ...]

    def csv_header(self) -> list[str]:
        return [f"{column.label} (hours)" if column.kind in HOURS else column.label for column in self.columns]

    def csv_lines(self, objects: Iterable[Any]) -> Iterator[list[Any]]:
        """The table as CSV values: durations in hours (a number a spreadsheet can sum), the rest as is."""
        for line in self.table(objects):
            yield [hours(value) if column.kind in HOURS else value for column, value in line]

    def table(self, objects: Iterable[Any]) -> Iterator[list[tuple[Column, Any]]]:
        """Each object as (column, value) pairs (the names it shows come with it, through ``related``)."""
        for obj in objects:
            yield [(column, column.value(obj)) for column in self.columns]


def _ticket_columns(ticket: Callable[[Any], Ticket]) -> tuple[Column, ...]:
    return (
        Column("Ticket", lambda o: ticket(o).reference, "ticket"),
        Column("Customer", lambda o: ticket(o).customer.name),
        Column("Subject", lambda o: ticket(o).subject),
    )


PROMISE_LIST = Listing(
    columns=(
        *_ticket_columns(lambda promise: promise.ticket),
        Column("Made by", lambda p: _person(p.made_by)),
        Column("Team", lambda p: p.team.name),
        Column("Made", lambda p: p.made_at, "time"),
        Column("Due", lambda p: p.due_at, "time"),
        Column("Outcome", lambda p: p.get_outcome_display()),
        Column("Resolved", lambda p: p.resolved_at, "time"),
        Column("Slack", lambda p: _seconds(p.promised_for, p.took), "slack"),
        Column("Sooner than the estimate because", lambda p: p.override_reason),
        Column("Category", lambda p: p.ticket.category.name),
        Column("Guard's estimate", lambda p: p.estimate.total_seconds() if p.estimate else None, "duration"),
    ),
    related=("ticket__customer", "ticket__category", "made_by", "team"),
)

RESPONSE_LIST = Listing(
    columns=(
        *_ticket_columns(lambda ticket: ticket),
        Column("Answered by", lambda t: _person(t.first_response_by)),
        Column("Team", lambda t: t.first_response_team.name if t.first_response_team else ""),
        Column("Opened", lambda t: t.created_at, "time"),
        Column("First reply", lambda t: t.first_response_at, "time"),
        Column("Took", lambda t: _seconds(t.first_response_after), "duration"),
    ),
    related=("customer", "first_response_by", "first_response_team"),
)


RATING_LIST = Listing(
    columns=(
        *_ticket_columns(lambda rating: rating.ticket),
        Column("Resolved by", lambda r: _person(r.agent)),
        Column("Team", lambda r: r.team.name),
        Column("Rated", lambda r: r.rated_at, "time"),
        Column("Rating", lambda r: r.stars, "number"),
        Column("Comment", lambda r: r.comment),
    ),
    related=("ticket__customer", "agent", "team"),
)

LISTINGS = {"promises": PROMISE_LIST, "responses": RESPONSE_LIST, "ratings": RATING_LIST}


def listing_for(figure: str) -> Listing:
    return LISTINGS[FIGURES[figure].source.name]


def ordered(rows: QuerySet[Any], figure: str) -> QuerySet[Any]:
    """Newest first, by the moment that put each row in the period."""
    return rows.order_by(f"-{FIGURES[figure].source.when}", "-pk")
