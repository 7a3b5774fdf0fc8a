"""The PostgreSQL backend (``helpdesk.postgresql``): a kept connection in steady use is checked before each
request without a round trip, an idle one with ``SELECT 1`` as well, and one the server has ended is
replaced before the request's first query."""

from __future__ import annotations

import time
from collections.abc import Iterator
from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError, connection, connections

from helpdesk.postgresql.base import RECENTLY, DatabaseWrapper

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL backend")


@pytest.fixture
def kept(db) -> Iterator[DatabaseWrapper]:
    """A second connection to the test database, kept between requests as ``CONN_MAX_AGE`` keeps it (outside
    the test's transaction, so that it can be closed)."""
    kept = connections.create_connection("default")
    assert isinstance(kept, DatabaseWrapper)
    kept.ensure_connection()
    assert kept.health_check_enabled  # CONN_HEALTH_CHECKS, as helpdesk.env sets it
    yield kept
    kept.close()


def backend_pid(kept: DatabaseWrapper) -> int:
    with kept.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def end_backend(kept: DatabaseWrapper) -> int:
    """Have the server end the kept connection's backend (as a restart would); its pid. Waits (up to 10 s)
    for the server's FATAL message to reach the socket."""
    pid = backend_pid(kept)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 10
    while kept.is_quiet() and time.monotonic() < deadline:
        time.sleep(0.01)
    return pid


def next_request(kept: DatabaseWrapper) -> None:
    """What Django does to its connections when a request starts (``close_old_connections``)."""
    kept.close_if_unusable_or_obsolete()


def test_the_settings_use_it():
    assert connection.settings_dict["ENGINE"] == "helpdesk.postgresql"
    assert isinstance(connections["default"], DatabaseWrapper)


def test_a_live_connection_passes_the_check_without_a_query(kept):
    pid = backend_pid(kept)
    next_request(kept)
    assert not kept.health_check_done
    with mock.patch.object(DatabaseWrapper, "is_usable", side_effect=AssertionError("a SELECT 1 round trip")):
        assert backend_pid(kept) == pid  # the same connection, checked without asking the server
    assert kept.health_check_done


def test_a_connection_idle_for_a_while_is_also_asked_select_1(kept):
    """A loss the socket can't show (a failover, a firewall that forgot the connection) is found by sending."""
    pid = backend_pid(kept)
    kept.answered_at -= RECENTLY
    next_request(kept)
    with mock.patch.object(DatabaseWrapper, "is_usable", autospec=True, side_effect=DatabaseWrapper.is_usable) as asked:
        assert backend_pid(kept) == pid
    assert asked.call_count == 1


def test_an_idle_connection_that_fails_select_1_is_replaced(kept):
    pid = backend_pid(kept)
    kept.answered_at -= RECENTLY
    next_request(kept)
    with mock.patch.object(DatabaseWrapper, "is_usable", return_value=False):  # as a reset answers it
        assert backend_pid(kept) != pid


def test_a_connection_the_server_ended_is_replaced_before_the_first_query(kept):
    pid = end_backend(kept)
    assert not kept.is_quiet()

    next_request(kept)
    assert backend_pid(kept) != pid  # no error: a new connection answered


def test_without_the_check_the_ended_connection_fails_the_first_query(kept):
    """What the check spares a request (``CONN_HEALTH_CHECKS`` off)."""
    kept.health_check_enabled = False
    end_backend(kept)

    next_request(kept)
    with pytest.raises((InterfaceError, OperationalError), match=r"terminat|closed"):
        backend_pid(kept)


def test_a_closed_connection_is_not_quiet(kept):
    kept.connection.close()
    assert not kept.is_quiet()
    next_request(kept)
    assert backend_pid(kept)  # reopened
