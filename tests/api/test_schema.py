"""The OpenAPI schema is valid, and the API keeps it: schemathesis generates requests from the live schema
(valid and invalid ones) and checks every answer is documented, in the documented shape, and never a 5xx.

The app runs in-process through its WSGI entry point (the whole middleware stack, the real PostgreSQL), as a
supervisor's token (who may call everything) over a small world of tickets, most requests aimed at rows that
exist; each operation's examples run in one transaction that is rolled back afterwards.
"""

from __future__ import annotations

import zlib

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.specs.openapi import checks as openapi_checks

from helpdesk.wsgi import application
from tests.factories import TicketFactory
from tickets.api.access import issue_token
from tickets.models import Calendar, ClosedDay, Notification

EXAMPLES_PER_OPERATION = 25
CHECKS = [
    checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.response_headers_conformance,
]


def test_the_schema_validates(tmp_path):
    # drf-spectacular's own validation against the OpenAPI 3 meta-schema; --fail-on-warn keeps it precise
    call_command("spectacular", "--file", str(tmp_path / "schema.yaml"), "--validate", "--fail-on-warn")


def test_the_schema_is_served_and_the_docs_page_uses_vendored_assets(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    docs = client.get("/api/docs/").content.decode()
    assert "/static/vendor/swagger-ui-5.35.0/swagger-ui-bundle.js" in docs
    assert "cdn" not in docs.lower() and "//unpkg" not in docs


@pytest.fixture
def supervisor_token(carol):
    _, secret = issue_token(user=carol, name="schemathesis", days=None)
    return secret


@pytest.fixture
def real_ids(ticket, carol, alice):
    """Ids of rows that exist, so generated requests reach the business rules and not only the 404s."""
    TicketFactory(category=ticket.category)
    notice = Notification.objects.create(
        recipient=carol, ticket=ticket, event="assignment", dedupe_key="schema", message="Yours.",
        created_at=ticket.created_at,
    )  # fmt: skip
    office = Calendar.objects.create(
        name="Berlin office", time_zone="Europe/Berlin", weekly=[[["09:00", "17:00"]]] * 5 + [[]] * 2, country="DE"
    )
    ClosedDay.objects.create(calendar=office, date=ticket.created_at.date(), spans=[["09:00", "12:00"]])
    return {
        "reference": ticket.reference,
        "token": ticket.token,
        "customers": ticket.customer_id,
        "teams": ticket.team_id,
        "escalation-paths": ticket.escalation_level.path_id,
        "categories": ticket.category_id,
        "notifications": notice.pk,
        "calendars": office.pk,
    }


@pytest.fixture
def whole_requests(db):
    """As Django's test client does: a request must not close the test's connection (its transaction) when it
    ends, which the WSGI handler would otherwise do."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


# Read from the running app, as a client would (generating it needs no database).
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_answer_is_documented_and_never_a_server_error(case, supervisor_token, real_ids, whole_requests):
    # most examples aim at rows that exist (the rest keep what was generated: mostly 404s)
    parameters = case.path_parameters or {}
    if parameters and zlib.crc32(repr(case.body).encode()) % 4:
        for name in parameters:
            area = case.path.split("/")[3]  # /api/v1/<area>/...
            parameters[name] = real_ids.get(name, real_ids.get(area, parameters[name]))
    case.call_and_validate(headers={"Authorization": f"Bearer {supervisor_token}"}, checks=CHECKS)
