"""A database that cannot be reached just now (``helpdesk.api.errors.server_error``): 503 with ``Retry-After``, a
short page for the site and ``{"error": {"code": "unavailable", ...}}`` under /api/, whether a view or a
middleware met it. A bug is still a 500. tests/e2e/test_database_outage.py restarts a real one under gunicorn."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import psycopg2
import pytest
from django.db import InterfaceError, OperationalError, ProgrammingError
from django.db.backends.utils import CursorWrapper
from django.http import HttpRequest, HttpResponse
from django.test import Client

from helpdesk.api.errors import RETRY_AFTER, database_unavailable
from tests.api.conftest import error_of
from tests.security.test_headers import assert_strict


def closed_by_the_server() -> OperationalError:
    """What Django raises when PostgreSQL went away: its OperationalError, caused by psycopg's."""
    try:
        try:
            raise psycopg2.OperationalError("server closed the connection unexpectedly")
        except psycopg2.Error as error:
            raise OperationalError(str(error)) from error
    except OperationalError as wrapped:
        return wrapped


@pytest.fixture
def database_away(monkeypatch) -> Callable[..., contextlib.AbstractContextManager[None]]:
    """``with database_away():`` every query fails as it does while the server restarts (or with ``error``)."""

    @contextlib.contextmanager
    def away(error: Callable[[], Exception] = closed_by_the_server) -> Iterator[None]:
        def fail(*args: Any, **kwargs: Any) -> None:
            raise error()

        with monkeypatch.context() as patched:
            patched.setattr(CursorWrapper, "execute", fail)
            patched.setattr(CursorWrapper, "executemany", fail)
            yield

    return away


def assert_unavailable_page(response: Any) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER)
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert "try again in a few seconds" in response.content.decode()
    assert_strict(response.headers)  # the security headers, as on every page


def test_the_sites_pages_answer_503_with_a_retry_hint(database_away, ticket, alice):
    agent, customer = Client(raise_request_exception=False), Client(raise_request_exception=False)
    agent.force_login(alice)
    with database_away():
        for response in (customer.get("/"), customer.get(f"/status/{ticket.token}/"), agent.get("/desk/")):
            assert_unavailable_page(response)
        posted = customer.post("/", {"name": "Ann", "email": "ann@example.com"})
        assert_unavailable_page(posted)


def test_the_api_answers_503_unavailable_in_its_error_format(database_away, api, alice, ticket):
    staff, public = api(alice), api()
    staff.raise_request_exception = public.raise_request_exception = False
    with database_away():
        for response in (staff.get("/api/v1/tickets/"), public.get(f"/api/v1/status/{ticket.token}/")):
            assert response.status_code == 503
            assert response["Retry-After"] == str(RETRY_AFTER)
            assert error_of(response)["code"] == "unavailable"


class DatabaseGoneMiddleware:
    """Meets the outage in a middleware, as the session's or the user's does: before any view, where no
    middleware's ``process_exception`` sees it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raise closed_by_the_server()


def test_an_outage_met_in_a_middleware_is_a_503_too(settings, db):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, f"{__name__}.DatabaseGoneMiddleware"]
    visitor = Client(raise_request_exception=False)
    assert_unavailable_page(visitor.get("/"))
    api = visitor.get("/api/v1/tickets/")
    assert api.status_code == 503 and error_of(api)["code"] == "unavailable"


def test_a_closed_connection_is_unavailable_too(database_away, db):
    with database_away(lambda: InterfaceError("connection already closed")):
        assert_unavailable_page(Client(raise_request_exception=False).get("/"))


def test_a_bug_is_still_a_500(database_away, db):
    with database_away(lambda: ProgrammingError('relation "tickets_category" does not exist')):
        response = Client(raise_request_exception=False).get("/")
    assert response.status_code == 500 and "Retry-After" not in response


def sqlite_error(message: str) -> OperationalError:
    try:
        try:
            raise sqlite3.OperationalError(message)
        except sqlite3.Error as error:
            raise OperationalError(message) from error
    except OperationalError as wrapped:
        return wrapped


def test_which_errors_mean_the_database_is_away():
    assert database_unavailable(closed_by_the_server())
    assert database_unavailable(InterfaceError("connection already closed"))
    assert database_unavailable(sqlite_error("database is locked"))
    assert not database_unavailable(sqlite_error("no such table: tickets_ticket"))  # a bug, as on PostgreSQL
    assert not database_unavailable(ProgrammingError("syntax error"))
    assert not database_unavailable(ValueError("A string literal cannot contain NUL (0x00) characters."))
    assert not database_unavailable(None)
