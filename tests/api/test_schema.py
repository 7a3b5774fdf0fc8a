"""The OpenAPI schema is valid, and the API keeps it: schemathesis generates requests from the live schema
(valid and invalid ones) and checks every answer is documented, in the documented shape, and never a 5xx.

The app runs in-process through its WSGI entry point (the whole middleware stack, the real PostgreSQL), as a
supervisor's token (who may call everything) over a small world of tickets; each operation's examples run
in one transaction that is rolled back afterwards.
"""

from __future__ import annotations

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
def supervisor_token(carol, ticket):
    TicketFactory(category=ticket.category)
    _, secret = issue_token(user=carol, name="schemathesis", days=None)
    return secret


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
def test_every_answer_is_documented_and_never_a_server_error(case, supervisor_token, whole_requests):
    case.call_and_validate(headers={"Authorization": f"Bearer {supervisor_token}"}, checks=CHECKS)
