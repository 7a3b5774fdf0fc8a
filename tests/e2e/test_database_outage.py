"""A database that is briefly unreachable, with real processes: gunicorn with the production settings, whose
database is the machine's PostgreSQL through a proxy of the test's own (tests.processes.DatabaseProxy). The
proxy is cut, as a fast restart cuts every connection and refuses new ones, never the server itself.

While it is cut, the request form, a status page and an API list each answer 503 with ``Retry-After`` at once
(never a 500, never a wait), and so does a request cut off while it waits on the database; as soon as it is
back they answer 200, the first request after it included, whether the worker's kept connection died during
a request or between two.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import psycopg2
import pytest
import requests

from tests.processes import PROXIED, DatabaseProxy, production_server, wait_until
from tickets.api.access import issue_token

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PATIENCE = 3.0  # seconds: no answer, during the outage or after it, may take longer
OUTAGE = 2.0  # seconds the database is away


@dataclass(frozen=True)
class Answer:
    page: str
    status: int
    retry_after: str | None
    content_type: str
    took: float
    error_code: str | None  # the API's error code, for a JSON error


def test_a_fast_database_restart_is_a_503_with_retry_after_then_200_again(tmp_path, ticket, alice):
    _, secret = issue_token(user=alice, name="outage", days=None)
    pages = {
        "request form": ("/", {}),
        "status page": (f"/status/{ticket.token}/", {}),
        "API list": ("/api/v1/tickets/", {"Authorization": f"Bearer {secret}"}),
    }
    limits = {"STATUS_VIEWS_PER_IP_PER_MINUTE": "100000"}  # the test asks for the status page often
    with DatabaseProxy() as database, production_server(tmp_path, DATABASE_URL=database.url, **limits) as server:

        def ask(page: str) -> Answer:
            path, headers = pages[page]
            started = time.monotonic()
            response = requests.get(server.url + path, headers={**PROXIED, **headers}, timeout=PATIENCE * 2)
            json = response.headers.get("Content-Type") == "application/json" and response.status_code >= 400
            return Answer(
                page,
                response.status_code,
                response.headers.get("Retry-After"),
                response.headers.get("Content-Type", ""),
                time.monotonic() - started,
                response.json()["error"]["code"] if json else None,
            )

        # given: every page answers, from a connection the worker keeps between requests
        assert [ask(page).status for page in pages] == [200] * len(pages)

        # when: the database restarts; the pages are asked for all the while
        database.cut()
        during: list[Answer] = []
        until = time.monotonic() + OUTAGE
        while time.monotonic() < until:
            during += [ask(page) for page in pages]
        database.resume()
        after = [ask(page) for page in pages]

        # and: it restarts while a request waits on it (a slow round trip holds the request in flight)
        database.latency = 1.0
        with ThreadPoolExecutor(1) as pool:
            in_flight = pool.submit(ask, "API list")
            wait_until(lambda: database.held, timeout=PATIENCE, message="the request never reached the database")
            database.cut()
            cut_off = in_flight.result()
        database.latency = 0
        database.resume()
        after_a_cut_off = [ask(page) for page in pages]

        # and: it restarts between two requests (the kept connection dies unused)
        database.cut()
        database.resume()
        after_a_quiet_restart = [ask(page) for page in pages]

    log = server.log.read_text()
    # then: every answer during the outage was a 503 with a retry hint, at once, in each page's own format
    assert len(during) >= 2 * len(pages), during
    wrong = [a for a in during if a.status != 503 or not a.retry_after or a.took > PATIENCE]
    assert not wrong, (wrong, log[-3000:])
    assert all(1 <= int(a.retry_after or 0) <= 10 for a in during)
    assert {a.content_type for a in during if a.page != "API list"} == {"text/html; charset=utf-8"}
    assert {a.error_code for a in during if a.page == "API list"} == {"unavailable"}
    # and: the request cut off in flight was a 503 too
    assert (cut_off.status, cut_off.error_code) == (503, "unavailable") and cut_off.retry_after, cut_off
    # and: the first requests once it was back were answered, every time
    for answer in after + after_a_cut_off + after_a_quiet_restart:
        assert answer.status == 200 and answer.took < PATIENCE, (answer, log[-3000:])
    assert "Internal Server Error" not in log


def test_the_proxy_adds_its_latency_to_every_round_trip(db):
    with DatabaseProxy(latency=0.2) as database:
        connection = psycopg2.connect(database.url.replace("postgres://", "postgresql://", 1))
        try:

            def select_one() -> float:
                started = time.monotonic()
                with connection.cursor() as cursor:
                    cursor.execute("SELECT 1")
                    assert cursor.fetchone() == (1,)
                return time.monotonic() - started

            assert select_one() >= 0.2
            database.latency = 0
            assert select_one() < 0.2
        finally:
            connection.close()
