"""Who may call which endpoint, for every endpoint and method in the schema, as six callers:

- anonymous: no credentials;
- a customer holding their status link, who sends its token as if it were an API token;
- eve, signed in to the site (a session) but not staff;
- alice, an agent of Billing, the team of Dave's ticket;
- bob, an agent of Technical (another team);
- carol, a supervisor.

Each call is valid for the caller allowed to make it, so "allowed" means it worked (2xx), and a refusal is
checked to have written nothing. A new endpoint fails ``test_the_matrix_covers_every_operation`` until it is
added here, with who may call it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from customers.models import Customer
from tests.api.conftest import error_of
from tests.customers.test_pages import request_data
from tests.desk.helpers import notice, write_as_david
from tests.factories import EscalationPathFactory, TeamFactory
from tickets import services
from tickets.api.access import issue_token
from tickets.attachments import check_uploads
from tickets.models import ApiToken, Calendar, ClosedDay, Interaction, Notification, Promise, Team, Ticket

CALLERS = ["anonymous", "customer", "eve", "alice", "bob", "carol"]
OK = "ok"

# Who gets what, by kind of endpoint.
TICKET = {"anonymous": 401, "customer": 401, "eve": 403, "alice": OK, "bob": 404, "carol": OK}
STAFF = {"anonymous": 401, "customer": 401, "eve": 403, "alice": OK, "bob": OK, "carol": OK}
SUPERVISOR = {"anonymous": 401, "customer": 401, "eve": 403, "alice": 403, "bob": 403, "carol": OK}
OWN = {"anonymous": 401, "customer": 401, "eve": 403, "alice": OK, "bob": 404, "carol": 404}  # alice's notice
PUBLIC = dict.fromkeys(CALLERS, OK)


@dataclass(frozen=True)
class Call:
    who: dict[str, Any]
    path: Callable[[dict[str, Any]], str]
    body: Callable[[dict[str, Any]], Any] | None = None
    prepare: Callable[[dict[str, Any]], None] = field(default=lambda world: None)


def ticket_path(tail: str = "") -> Callable[[dict[str, Any]], str]:
    return lambda w: f"/api/v1/tickets/{w['ticket'].reference}/{tail}"


def resolved(world: dict[str, Any]) -> None:
    services.resolve(world["ticket"], by=world["carol"], summary="Refunded.")


NINE_TO_FIVE = [[["09:00", "17:00"]]] * 5 + [[]] * 2
TOMORROW = lambda w: (timezone.now() + timedelta(days=1)).isoformat()  # noqa: E731

MATRIX: dict[tuple[str, str], Call] = {
    # tickets
    ("GET", "/api/v1/tickets/"): Call(STAFF, lambda w: "/api/v1/tickets/"),
    ("POST", "/api/v1/tickets/"): Call(STAFF, lambda w: "/api/v1/tickets/", lambda w: {
        "name": "Erin Walsh", "email": "erin@example.com", "subject": "Invoice", "body": "Wrong address.",
        "category": w["category"].pk}),
    ("GET", "/api/v1/tickets/{reference}/"): Call(TICKET, ticket_path()),
    ("PATCH", "/api/v1/tickets/{reference}/"): Call(TICKET, ticket_path(), lambda w: {"priority": "high"}),
    ("GET", "/api/v1/tickets/{reference}/interactions/"): Call(TICKET, ticket_path("interactions/")),
    ("POST", "/api/v1/tickets/{reference}/interactions/"): Call(
        TICKET, ticket_path("interactions/"), lambda w: {"kind": "note", "body": "Checked."}),
    ("GET", "/api/v1/tickets/{reference}/promise/"): Call(TICKET, ticket_path("promise/")),
    ("POST", "/api/v1/tickets/{reference}/reply-check/"): Call(
        TICKET, ticket_path("reply-check/"), lambda w: {"body": "I'll call you back within 3 days."}),
    ("GET", "/api/v1/tickets/{reference}/files/{id}/"): Call(
        TICKET, lambda w: f"/api/v1/tickets/{w['ticket'].reference}/files/{w['file'].pk}/"),
    ("POST", "/api/v1/tickets/{reference}/promise/"): Call(
        TICKET, ticket_path("promise/"), lambda w: {"due_at": TOMORROW(w), "words": "By tomorrow."}),
    ("POST", "/api/v1/tickets/{reference}/assign/"): Call(
        TICKET, ticket_path("assign/"), lambda w: {"assignee": w["alice"].pk}),
    ("POST", "/api/v1/tickets/{reference}/transfer/"): Call(
        TICKET, ticket_path("transfer/"), lambda w: {"team": w["technical"].pk, "note": "Gateway bug."}),
    ("POST", "/api/v1/tickets/{reference}/escalate/"): Call(
        TICKET, ticket_path("escalate/"), lambda w: {"note": "Above my limit."}),
    ("POST", "/api/v1/tickets/{reference}/resolve/"): Call(
        TICKET, ticket_path("resolve/"), lambda w: {"summary": "Refunded."}),
    ("POST", "/api/v1/tickets/{reference}/reopen/"): Call(
        TICKET, ticket_path("reopen/"), lambda w: {"reason": "It bounced."}, prepare=resolved),
    ("POST", "/api/v1/tickets/{reference}/status/"): Call(
        TICKET, ticket_path("status/"), lambda w: {"to": "waiting"}),
    ("POST", "/api/v1/tickets/{reference}/use-sender-details/"): Call(
        TICKET, ticket_path("use-sender-details/"), lambda w: {}, prepare=lambda w: write_as_david(w["ticket"])),
    ("POST", "/api/v1/tickets/{reference}/new-link/"): Call(
        TICKET, ticket_path("new-link/"), lambda w: {"note": "Leaked."}),
    # customers
    ("GET", "/api/v1/customers/"): Call(STAFF, lambda w: "/api/v1/customers/"),
    ("POST", "/api/v1/customers/"): Call(
        STAFF, lambda w: "/api/v1/customers/", lambda w: {"name": "Erin Walsh", "email": "erin@example.com"}),
    ("GET", "/api/v1/customers/{id}/"): Call(STAFF, lambda w: f"/api/v1/customers/{w['dave'].pk}/"),
    ("PATCH", "/api/v1/customers/{id}/"): Call(
        STAFF, lambda w: f"/api/v1/customers/{w['dave'].pk}/", lambda w: {"organisation": "Jones & Co"}),
    ("GET", "/api/v1/customers/{id}/tickets/"): Call(STAFF, lambda w: f"/api/v1/customers/{w['dave'].pk}/tickets/"),
    # configuration
    ("GET", "/api/v1/teams/"): Call(STAFF, lambda w: "/api/v1/teams/"),
    ("POST", "/api/v1/teams/"): Call(SUPERVISOR, lambda w: "/api/v1/teams/", lambda w: {"name": "Returns"}),
    ("GET", "/api/v1/teams/{id}/"): Call(STAFF, lambda w: f"/api/v1/teams/{w['billing'].pk}/"),
    ("PATCH", "/api/v1/teams/{id}/"): Call(
        SUPERVISOR, lambda w: f"/api/v1/teams/{w['billing'].pk}/", lambda w: {"name": "Payments"}),
    ("DELETE", "/api/v1/teams/{id}/"): Call(SUPERVISOR, lambda w: f"/api/v1/teams/{w['spare_team'].pk}/"),
    ("GET", "/api/v1/escalation-paths/"): Call(STAFF, lambda w: "/api/v1/escalation-paths/"),
    ("POST", "/api/v1/escalation-paths/"): Call(SUPERVISOR, lambda w: "/api/v1/escalation-paths/", lambda w: {
        "name": "Urgent", "levels": [{"name": "Engineers", "team": w["technical"].pk}]}),
    ("GET", "/api/v1/escalation-paths/{id}/"): Call(
        STAFF, lambda w: f"/api/v1/escalation-paths/{w['standard_path'].pk}/"),
    ("PATCH", "/api/v1/escalation-paths/{id}/"): Call(
        SUPERVISOR, lambda w: f"/api/v1/escalation-paths/{w['standard_path'].pk}/", lambda w: {"description": "Most."}),
    ("DELETE", "/api/v1/escalation-paths/{id}/"): Call(
        SUPERVISOR, lambda w: f"/api/v1/escalation-paths/{w['spare_path'].pk}/"),
    ("GET", "/api/v1/categories/"): Call(STAFF, lambda w: "/api/v1/categories/"),
    ("POST", "/api/v1/categories/"): Call(SUPERVISOR, lambda w: "/api/v1/categories/", lambda w: {
        "name": "Refunds", "escalation_path": w["standard_path"].pk}),
    ("GET", "/api/v1/categories/{id}/"): Call(STAFF, lambda w: f"/api/v1/categories/{w['category'].pk}/"),
    ("PATCH", "/api/v1/categories/{id}/"): Call(
        SUPERVISOR, lambda w: f"/api/v1/categories/{w['category'].pk}/", lambda w: {"description": "Money."}),
    ("GET", "/api/v1/calendars/"): Call(STAFF, lambda w: "/api/v1/calendars/"),
    ("POST", "/api/v1/calendars/"): Call(SUPERVISOR, lambda w: "/api/v1/calendars/", lambda w: {
        "name": "Berlin office", "time_zone": "Europe/Berlin", "country": "DE"}),
    ("GET", "/api/v1/calendars/{id}/"): Call(STAFF, lambda w: f"/api/v1/calendars/{w['office'].pk}/"),
    ("PATCH", "/api/v1/calendars/{id}/"): Call(
        SUPERVISOR, lambda w: f"/api/v1/calendars/{w['office'].pk}/", lambda w: {"weekly": {"sunday": "10:00-14:00"}}),
    ("DELETE", "/api/v1/calendars/{id}/"): Call(SUPERVISOR, lambda w: f"/api/v1/calendars/{w['office'].pk}/"),
    # supervision
    ("GET", "/api/v1/metrics/promises/"): Call(SUPERVISOR, lambda w: "/api/v1/metrics/promises/?days=7"),
    # notifications (alice's)
    ("GET", "/api/v1/notifications/"): Call(STAFF, lambda w: "/api/v1/notifications/"),
    ("POST", "/api/v1/notifications/{id}/read/"): Call(
        OWN, lambda w: f"/api/v1/notifications/{w['notice'].pk}/read/", lambda w: {}),
    ("POST", "/api/v1/notifications/read-all/"): Call(STAFF, lambda w: "/api/v1/notifications/read-all/", lambda w: {}),
    # public
    ("GET", "/api/v1/requests/"): Call(PUBLIC, lambda w: "/api/v1/requests/"),
    ("POST", "/api/v1/requests/"): Call(PUBLIC, lambda w: "/api/v1/requests/", lambda w: request_data(w["category"])),
    ("GET", "/api/v1/status/{token}/"): Call(PUBLIC, lambda w: f"/api/v1/status/{w['ticket'].token}/"),
}  # fmt: skip


def test_the_matrix_covers_every_operation():
    schema = the_schema()
    operations = {(method.upper(), path) for path, item in schema["paths"].items() for method in item}
    assert operations == set(MATRIX)


@pytest.fixture
def world(settings, tmp_path, ticket, dave, category, standard_path, billing, technical, alice, bob, carol, eve):
    settings.MEDIA_ROOT = tmp_path
    return {
        "ticket": ticket, "dave": dave, "category": category, "standard_path": standard_path,
        "billing": billing, "technical": technical, "alice": alice, "bob": bob, "carol": carol, "eve": eve,
        "spare_team": TeamFactory(name="Spare"),
        "spare_path": EscalationPathFactory(name="Spare path", teams=[TeamFactory(name="Spare path team")]),
        "office": Calendar.objects.create(name="Lisbon office", time_zone="Europe/Lisbon", weekly=NINE_TO_FIVE),
        "notice": notice(alice, ticket),
        "file": services.receive_customer_message(ticket, body="Here it is.", attachments=check_uploads(
            [SimpleUploadedFile("receipt.pdf", b"%PDF-1.4 receipt", content_type="application/pdf")])
        ).attachments.get(),
    }  # fmt: skip


def client_of(caller: str, world: dict[str, Any]) -> APIClient:
    client = APIClient()
    if caller == "customer":
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {world['ticket'].token}")
    elif caller == "eve":
        client.force_login(world["eve"])  # a real session: she is signed in, just not staff
    elif caller != "anonymous":
        _, secret = issue_token(user=world[caller], name="matrix", days=None)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def snapshot() -> tuple[Any, ...]:
    """Every row an API call could write (the callers' own tokens aside: the test makes those)."""
    return (
        list(
            Ticket.objects.order_by("pk").values_list(
                "pk", "status", "team", "assignee", "priority", "subject", "token"
            )
        ),
        Interaction.objects.count(),
        Promise.objects.count(),
        list(Customer.objects.order_by("pk").values_list("pk", "organisation", "name", "phone")),
        list(Team.objects.order_by("pk").values_list("pk", "name", "calendar")),
        list(Calendar.objects.order_by("pk").values_list("pk", "name", "weekly", "country")),
        list(ClosedDay.objects.order_by("pk").values_list("pk", "date")),
        list(Notification.objects.order_by("pk").values_list("pk", "read_at")),
    )


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("operation", list(MATRIX), ids=[f"{m} {p}" for m, p in MATRIX])
def test_each_caller_gets_what_the_matrix_says(operation, caller, world):
    call = MATRIX[operation]
    call.prepare(world)
    client = client_of(caller, world)
    method, path, body = operation[0].lower(), call.path(world), call.body(world) if call.body else None
    before = snapshot()
    response = getattr(client, method)(path, body, format="json")
    expected = call.who[caller]
    if expected == OK:
        assert 200 <= response.status_code < 300, (response.status_code, response.content[:300])
        return
    assert response.status_code == expected, (response.status_code, response.content[:300])
    error_of(response)
    assert snapshot() == before, "a refused call wrote nothing"


def test_a_customers_status_token_opens_no_staff_endpoint(api, ticket):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {ticket.token}")
    response = client.get("/api/v1/tickets/")
    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"


def test_a_guessed_token_is_refused_like_any_wrong_one(alice):
    issue_token(user=alice, name="real", days=None)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer pd_" + "A" * 43)
    response = client.get("/api/v1/tickets/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert ApiToken.objects.filter(last_used_at__isnull=False).count() == 0


def test_a_session_write_without_the_csrf_token_is_refused(carol, ticket):
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(carol)
    assert browser.get(f"/api/v1/tickets/{ticket.reference}/").status_code == 200
    response = browser.post(f"/api/v1/tickets/{ticket.reference}/interactions/", {"kind": "note", "body": "x"},
                            format="json")  # fmt: skip
    assert response.status_code == 403
    assert "CSRF" in error_of(response)["message"]
    assert not ticket.interactions.filter(kind="note").exists()


def test_a_session_write_with_the_csrf_token_works(carol, ticket):
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(carol)
    browser.get("/desk/")  # the desk sets the CSRF cookie, as the browser would have it
    token = browser.cookies["csrftoken"].value
    response = browser.post(f"/api/v1/tickets/{ticket.reference}/interactions/", {"kind": "note", "body": "x"},
                            format="json", HTTP_X_CSRFTOKEN=token)  # fmt: skip
    assert response.status_code == 201


# --- Mass assignment: every writable endpoint, with fields nobody may set through it ----------------------

SMUGGLED = {
    "id": 424242,
    "status": "closed",
    "team": 1,
    "assignee": 1,
    "token": "chosen-by-me",
    "created_at": "2020-01-01T00:00:00Z",
    "is_staff": True,
    "author": 1,
    "outcome": "kept",
}
WRITES = [operation for operation, call in MATRIX.items() if call.body is not None and operation[0] != "GET"]


@pytest.mark.parametrize("operation", WRITES, ids=[f"{m} {p}" for m, p in WRITES])
def test_every_write_refuses_fields_it_does_not_take_and_writes_nothing(operation, world):
    call = MATRIX[operation]
    call.prepare(world)
    caller = "carol" if call.who["carol"] == OK else "alice"
    body = call.body(world)
    assert isinstance(body, dict)
    # the fields this endpoint does not take (some take one of them: it is not smuggled there)
    smuggled = {name: value for name, value in SMUGGLED.items() if name not in body and not takes(operation, name)}
    before = snapshot()
    response = getattr(client_of(caller, world), operation[0].lower())(call.path(world), {**body, **smuggled},
                                                                        format="json")  # fmt: skip
    if not body and response.status_code < 300:  # an action with no input (mark read): it just happens
        return
    assert response.status_code == 400, response.content[:300]
    assert set(smuggled) <= set(error_of(response)["fields"])
    assert snapshot() == before


@functools.cache
def the_schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def takes(operation: tuple[str, str], name: str) -> bool:
    """Whether the endpoint's request body has this field (the schema says)."""
    schema = the_schema()
    body = schema["paths"][operation[1]][operation[0].lower()].get("requestBody", {})
    ref = body.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
    component = schema["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {})
    return name in component.get("properties", {})
