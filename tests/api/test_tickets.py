"""The ticket endpoints: what an integration of alice's (Billing) can read and do, and what it is refused.

Every write goes through the desk's services (so the log tells the same story: see test_parity.py); every
refusal is in the one error format with a message saying what to do.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from customers.models import Customer
from tests.api.conftest import error_of
from tests.desk.helpers import force, promised, written
from tests.factories import CategoryFactory, CustomerFactory, TicketFactory
from tickets import services
from tickets.api.listing import listed
from tickets.api.serializers import TicketSerializer
from tickets.attachments import check_uploads
from tickets.models import Interaction, Promise, Ticket
from tickets.promise_rules import humanize_duration


def url(ticket: Ticket, tail: str = "") -> str:
    return f"/api/v1/tickets/{ticket.reference}/{tail}"


def refs(response) -> list[str]:
    return [row["reference"] for row in response.json()["results"]]


def later(**delta: float) -> str:
    return (timezone.now() + timedelta(**delta)).isoformat()


# --- Reading ------------------------------------------------------------------------------------


def test_alice_lists_her_teams_tickets_and_not_the_others(api, ticket, alice, bob, technical):
    # given a ticket of Technical's
    other = TicketFactory(category=CategoryFactory(name="Outage", escalation_path=ticket.escalation_level.path))
    services.transfer(other, by=bob, team=technical, note="Ours.")
    # when alice lists tickets
    response = api(alice).get("/api/v1/tickets/")
    # then she sees Billing's, not Technical's; carol (supervisor) sees both
    assert response.status_code == 200
    assert refs(response) == [ticket.reference]
    assert set(refs(api(bob).get("/api/v1/tickets/"))) == {other.reference}


def test_a_ticket_reads_with_its_customer_team_level_and_promise(api, ticket, alice):
    services.make_promise(ticket, due_at=timezone.now() + timedelta(days=1), by=alice, words="Tomorrow.")
    body = api(alice).get(url(ticket)).json()
    assert body["reference"] == ticket.reference
    assert body["customer"] == {"id": ticket.customer_id, "name": "Dave Jones", "email": "dave@example.com"}
    assert (body["team"]["name"], body["escalation"]["level"], body["priority"]) == ("Billing", 1, "normal")
    assert body["promise"]["words"] == "Tomorrow."
    assert body["promise"]["made_by"]["username"] == "alice"
    assert body["promise_state"] == "on_track"
    assert body["promise_due_at"].endswith("Z")  # ISO 8601 with its offset (UTC)
    assert body["allowed_statuses"] == ["open", "waiting", "resolved"]
    assert body["desk_url"] == f"/desk/tickets/{ticket.reference}/"


@pytest.mark.parametrize("reference", ["PD-9999", "PD-abc", "1001", "'; drop table", "PD-" + "9" * 40])
def test_a_ticket_that_does_not_exist_is_a_404_in_the_error_format(api, alice, ticket, reference):
    response = api(alice).get(f"/api/v1/tickets/{reference}/")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_another_teams_ticket_is_the_same_404_as_none(api, ticket, bob):
    response = api(bob).get(url(ticket))
    assert response.status_code == 404
    assert error_of(response)["message"] == f"There is no ticket {ticket.reference} that you can see."
    assert ticket.subject not in response.content.decode()


# --- Filters and orderings -------------------------------------------------------------------------


@pytest.fixture
def several(ticket, alice, category):
    """Four Billing tickets: one at risk and assigned to alice, one breached, one urgent, one resolved."""
    at_risk = promised(
        TicketFactory(category=category, subject="At risk one"), due_in=timedelta(minutes=20), state="at_risk"
    )
    services.assign(at_risk, assignee=alice, by=alice)
    breached = promised(
        TicketFactory(category=category, subject="Breached one"), due_in=-timedelta(hours=1), state="breached"
    )
    urgent = TicketFactory(category=category, subject="Urgent one", priority=4)
    done = TicketFactory(category=category, subject="Done one")
    services.resolve(done, by=alice, summary="Fixed.")
    return {"plain": ticket, "at_risk": at_risk, "breached": breached, "urgent": urgent, "done": done}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("promise_state=at_risk", ["at_risk"]),
        ("promise_state=breached", ["breached"]),
        ("status=resolved", ["done"]),
        ("priority=urgent", ["urgent"]),
        ("assignee=me", ["at_risk"]),
        ("assignee=none&status=new", ["breached", "urgent", "plain"]),
        ("q=urgent", ["urgent"]),
        ("q=dave@example", ["plain"]),
    ],
)
def test_filters_narrow_the_list(api, alice, several, query, expected):
    response = api(alice).get(f"/api/v1/tickets/?{query}")
    assert response.status_code == 200, response.json()
    assert refs(response) == [several[name].reference for name in expected]


def test_filtering_by_due_time_keeps_promises_in_the_window(api, alice, several):
    query = {"due_after": later(minutes=10), "due_before": later(minutes=30)}
    assert refs(api(alice).get("/api/v1/tickets/", query)) == [several["at_risk"].reference]


def test_the_default_order_is_the_queues_open_first_nearest_promise_first(api, alice, several):
    # breached (due an hour ago), at risk (due in 20 min), then unpromised by priority, then settled
    names = ["breached", "at_risk", "urgent", "plain", "done"]
    assert refs(api(alice).get("/api/v1/tickets/")) == [several[name].reference for name in names]


def test_q_finds_a_ticket_by_its_reference(api, alice, several):
    assert refs(api(alice).get("/api/v1/tickets/", {"q": several["done"].reference.lower()})) == [
        several["done"].reference
    ]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("ordering=subject", "ordering", '"subject" is not a valid choice.'),
        ("ordering=-customer__email", "ordering", "is not a valid choice."),
        ("status=pending", "status", '"pending" is not a valid choice.'),
        ("priority=7", "priority", "Choose one of low, normal, high, urgent."),
        ("team=99999", "team", "There is no team with id 99999."),
        ("assignee=alice", "assignee", "Give a staff member's id, `me`, or `none`."),
        ("assignee=3000000000", "assignee", "Give a staff member's id, `me`, or `none`."),  # past any user id
        ("assignee=%C2%B2", "assignee", "Give a staff member's id, `me`, or `none`."),  # a superscript 2
        ("team=3000000000", "team", "There is no team with id 3000000000."),
        ("due_before=tomorrow", "due_before", "Give an ISO 8601 time with its offset"),
        ("due_before=2026-12-01T10:00:00", "due_before", "Give the time with its offset"),
        ("state=at_risk", "state", "state is not a parameter here"),
        ("page_size=0", "page_size", "Ask for 1 to 100 results per page."),
        ("page_size=101", "page_size", "Ask for 1 to 100 results per page."),
        ("cursor=garbage", "cursor", "That cursor is not one of this list's"),
        ("q=" + "x" * 201, "q", "Ensure this field has no more than 200 characters."),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_parameter(api, alice, ticket, query, field, message):
    response = api(alice).get(f"/api/v1/tickets/?{query}")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert message in " ".join(error["fields"][field])


# --- Opening a ticket for a customer -------------------------------------------------------------------

PHONED = {
    "name": "Erin Walsh",
    "email": "Erin@Example.com",
    "phone": "+44 20 7946 0000",
    "subject": "Invoice address wrong",
    "body": "Called: the invoice shows her old address.",
}


def test_alice_opens_a_ticket_for_a_caller(api, alice, category):
    response = api(alice).post("/api/v1/tickets/", {**PHONED, "category": category.pk}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    ticket = Ticket.objects.get()
    assert body["reference"] == ticket.reference
    assert (body["channel"], body["team"]["name"], body["customer"]["email"]) == (
        "phone",
        "Billing",
        "erin@example.com",
    )
    first = ticket.interactions.get()
    # taken down by alice, in the customer's words, under the name she gave
    assert (first.kind, first.author_kind, first.author, first.customer_name) == (
        "customer_message",
        "staff",
        alice,
        "Erin Walsh",
    )


def test_a_returning_customer_is_recognised_by_email(api, alice, category, dave):
    api(alice).post("/api/v1/tickets/", {**PHONED, "email": "DAVE@example.com", "category": category.pk}, format="json")
    assert Customer.objects.count() == 1
    assert Ticket.objects.get().customer == dave


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": ""}, "name", "This field may not be blank."),
        ({"email": "not an email"}, "email", "Enter a valid email address."),
        ({"phone": "call me maybe"}, "phone", "Use digits, spaces and + - ( ) only"),
        ({"subject": "Bell\x07"}, "subject", "invisible control characters"),
        ({"category": 99999}, "category", "There is no active category with id 99999."),
        ({"channel": "pigeon"}, "channel", '"pigeon" is not a valid choice.'),
        ({"priority": 3}, "priority", "Choose one of low, normal, high, urgent."),
        ({"status": "resolved"}, "status", "status is not a field this takes"),
        ({"assignee": 1}, "assignee", "assignee is not a field this takes"),
        ({"token": "mine"}, "token", "token is not a field this takes"),
    ],
)
def test_a_bad_new_ticket_is_refused_and_nothing_is_stored(api, alice, category, change, field, message):
    response = api(alice).post("/api/v1/tickets/", {**PHONED, "category": category.pk, **change}, format="json")
    assert response.status_code == 400
    assert message in " ".join(error_of(response)["fields"][field])
    assert not Ticket.objects.exists() and not Customer.objects.exists()


def test_a_retired_category_is_refused_for_a_new_ticket(api, alice, category):
    Category = type(category)
    Category.objects.filter(pk=category.pk).update(is_active=False)
    response = api(alice).post("/api/v1/tickets/", {**PHONED, "category": category.pk}, format="json")
    assert "category" in error_of(response)["fields"]


def test_a_body_that_is_not_json_is_a_clear_400(api, alice):
    response = api(alice).generic("POST", "/api/v1/tickets/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"


# --- Correcting the details -----------------------------------------------------------------------------


def test_alice_corrects_the_subject_and_priority_and_the_log_says_so(api, alice, ticket):
    response = api(alice).patch(
        url(ticket), {"subject": "Charged twice in November", "priority": "high"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["subject"], response.json()["priority"]) == ("Charged twice in November", "high")
    change = ticket.interactions.get(kind="details_changed")
    assert change.data == {"subject": ["I was charged twice", "Charged twice in November"], "priority": [2, 3]}


def test_sending_the_same_details_again_changes_and_logs_nothing(api, alice, ticket):
    api(alice).patch(url(ticket), {"priority": "high"}, format="json")
    response = api(alice).patch(url(ticket), {"priority": "high"}, format="json")
    assert response.status_code == 200
    assert ticket.interactions.filter(kind="details_changed").count() == 1


def test_moving_a_ticket_to_another_category_keeps_its_path_and_level(api, alice, ticket):
    other = CategoryFactory(name="Refunds", escalation_path=ticket.escalation_level.path)
    response = api(alice).patch(url(ticket), {"category": other.pk}, format="json")
    assert response.json()["category"]["name"] == "Refunds"
    assert response.json()["escalation"]["level"] == 1


FORBIDDEN = {
    "status": "closed",
    "assignee": 1,
    "team": 2,
    "escalation": {"level": 2},
    "promise_due_at": "2030-01-01T00:00:00Z",
    "promise_state": "kept",
    "customer": 5,
    "reference": "PD-1",
    "created_at": "2020-01-01T00:00:00Z",
    "token": "chosen",
    "resolved_at": "2020-01-01T00:00:00Z",
}


@pytest.mark.parametrize("field", FORBIDDEN)
def test_patch_refuses_every_field_an_agent_may_not_set_and_changes_nothing(api, alice, ticket, field):
    # mass assignment: a field that is not a detail is refused by name, with the allowed change alongside ignored
    before = written(ticket), Ticket.objects.filter(pk=ticket.pk).values().get()
    response = api(alice).patch(url(ticket), {"subject": "Changed?", field: FORBIDDEN[field]}, format="json")
    assert response.status_code == 400
    assert field in error_of(response)["fields"]
    assert (written(ticket), Ticket.objects.filter(pk=ticket.pk).values().get()) == before


def test_the_refusal_says_where_the_field_is_changed_instead(api, alice, ticket):
    response = api(alice).patch(url(ticket), {"assignee": 3}, format="json")
    assert error_of(response)["fields"]["assignee"] == ["assignee can't be set here: assign it with POST .../assign/."]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"subject": " "}, "subject", "This field may not be blank."),
        ({"subject": "x" * 201}, "subject", "no more than 200 characters"),
        ({"priority": "critical"}, "priority", "Choose one of low, normal, high, urgent."),
        ({"category": "billing"}, "category", "Give the category's id (a number)."),
    ],
)
def test_bad_details_are_refused(api, alice, ticket, data, field, message):
    response = api(alice).patch(url(ticket), data, format="json")
    assert response.status_code == 400
    assert message in " ".join(error_of(response)["fields"][field])


# --- The log ---------------------------------------------------------------------------------------------


def test_the_log_lists_everything_oldest_first_internal_entries_too(api, alice, ticket):
    services.add_note(ticket, by=alice, body="Checked the gateway.")
    services.reply(ticket, by=alice, body="Refunded.")
    rows = api(alice).get(url(ticket, "interactions/")).json()["results"]
    assert [(row["kind"], row["is_public"]) for row in rows] == [
        ("customer_message", True),
        ("note", False),
        ("reply", True),
        ("status_change", False),
    ]
    assert rows[1]["author"]["username"] == "alice"
    assert rows[0]["author"] is None and rows[0]["author_kind"] == "customer"


@pytest.mark.parametrize(
    ("data", "kind", "expect"),
    [
        ({"kind": "reply", "body": "Refunded."}, "reply", {"is_public": True}),
        ({"kind": "note", "body": "Gateway logs attached."}, "note", {"is_public": False}),
        ({"kind": "call", "body": "Talked it through.", "minutes": 12}, "call", {"data": {"duration_seconds": 720}}),
    ],
)
def test_alice_adds_a_reply_a_note_or_a_call(api, alice, ticket, data, kind, expect):
    response = api(alice).post(url(ticket, "interactions/"), data, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["kind"], body["body"]) == (kind, data["body"])
    for key, value in expect.items():
        assert body[key] == value


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "reply", "body": ""}, "body", "This field may not be blank."),
        ({"kind": "shout", "body": "Hi"}, "kind", '"shout" is not a valid choice.'),
        ({"kind": "call", "body": "Talked."}, "minutes", "Say how many minutes the call lasted."),
        ({"kind": "call", "body": "Talked.", "minutes": 0}, "minutes", "greater than or equal to 1"),
        ({"kind": "call", "body": "Talked.", "minutes": 481}, "minutes", "less than or equal to 480"),
        ({"kind": "note", "body": "Hi", "minutes": 3}, "minutes", "Only calls have a length"),
        ({"kind": "reply", "body": "Hi", "is_public": False}, "is_public", "is_public is not a field this takes"),
        ({"kind": "note", "body": "Hi", "author": 1}, "author", "author is not a field this takes"),
    ],
)
def test_a_bad_interaction_is_refused_and_nothing_is_written(api, alice, ticket, data, field, message):
    before = written(ticket)
    response = api(alice).post(url(ticket, "interactions/"), data, format="json")
    assert response.status_code == 400
    assert message in " ".join(error_of(response)["fields"][field])
    assert written(ticket) == before


# --- Promising -------------------------------------------------------------------------------------------


def test_a_promise_is_made_with_the_guards_verdict(api, alice, ticket):
    due = later(days=1)
    response = api(alice).post(url(ticket, "promise/"), {"due_at": due, "words": "By tomorrow."}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["promise"]["words"] == "By tomorrow."
    assert body["verdict"]["sooner_than_estimate"] is False
    assert body["verdict"]["estimate_seconds"] == 4 * 3600  # the category's target: no history yet
    assert Promise.objects.get().made_by == alice


def test_sooner_than_the_estimate_without_a_reason_is_a_409_with_the_numbers(api, alice, ticket):
    before = written(ticket)
    response = api(alice).post(
        url(ticket, "promise/"), {"due_at": later(hours=1), "words": "Within the hour."}, format="json"
    )
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "overpromise"
    assert error["verdict"]["estimate_seconds"] == 4 * 3600
    assert (error["verdict"]["sample_size"], error["verdict"]["load"]) == (0, 0)
    assert humanize_duration(timedelta(hours=4)) in error["fields"]["reason"][0]
    assert written(ticket) == before


def test_sooner_than_the_estimate_with_a_reason_is_made_and_remembers_why(api, alice, ticket):
    response = api(alice).post(
        url(ticket, "promise/"),
        {"due_at": later(hours=1), "words": "Within the hour.", "reason": "The fix is already deployed."},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["promise"]["overrode_estimate"] is True
    assert Promise.objects.get().override_reason == "The fix is already deployed."


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"due_at": "2026-12-01T10:00:00", "words": "Soon."}, "due_at", "Give the time with its offset"),
        ({"due_at": "next week", "words": "Soon."}, "due_at", "Give an ISO 8601 time with its offset"),
        ({"due_at": "2020-01-01T10:00:00Z", "words": "Soon."}, "due_at", "That time has already passed"),
        ({"due_at": "2099-01-01T10:00:00Z", "words": "Soon."}, "due_at", "more than 30 days away"),
        ({"due_at": "2026-12-01T10:00:00Z", "words": ""}, "words", "This field may not be blank."),
        ({"due_at": "2026-12-01T10:00:00Z", "words": "Soon.", "outcome": "kept"}, "outcome", "not a field"),
    ],
)
def test_a_bad_promise_is_refused(api, alice, ticket, data, field, message):
    response = api(alice).post(url(ticket, "promise/"), data, format="json")
    assert response.status_code == 400
    assert message in " ".join(error_of(response)["fields"][field])
    assert not Promise.objects.exists()


def test_changing_a_promise_needs_a_reason_the_customer_reads(api, alice, ticket):
    services.make_promise(ticket, due_at=timezone.now() + timedelta(days=1), by=alice, words="Tomorrow.")
    response = api(alice).post(url(ticket, "promise/"), {"due_at": later(days=2), "words": "Thursday."}, format="json")
    assert response.status_code == 400
    assert "Say why the promise changes" in error_of(response)["fields"]["change_reason"][0]
    response = api(alice).post(
        url(ticket, "promise/"),
        {"due_at": later(days=2), "words": "Thursday.", "change_reason": "The supplier is late."},
        format="json",
    )
    assert response.status_code == 201
    history = api(alice).get(url(ticket, "promise/")).json()["results"]
    assert [row["outcome"] for row in history] == ["pending", "superseded"]


# --- The actions ---------------------------------------------------------------------------------------


def test_alice_assigns_the_ticket_to_herself_and_back_to_nobody(api, alice, ticket):
    response = api(alice).post(url(ticket, "assign/"), {"assignee": alice.pk}, format="json")
    assert response.status_code == 200
    assert response.json()["assignee"]["username"] == "alice"
    response = api(alice).post(url(ticket, "assign/"), {"assignee": None}, format="json")
    assert response.json()["assignee"] is None


def test_assigning_someone_of_another_team_says_to_transfer(api, alice, bob, ticket):
    response = api(alice).post(url(ticket, "assign/"), {"assignee": bob.pk}, format="json")
    assert response.status_code == 400
    assert "transfer the ticket" in error_of(response)["fields"]["assignee"][0]


def test_assigning_nobody_who_exists_names_the_id(api, alice, ticket):
    response = api(alice).post(url(ticket, "assign/"), {"assignee": 99999}, format="json")
    assert error_of(response)["fields"]["assignee"] == ["There is no active staff member with id 99999."]


def test_assign_needs_the_assignee_said_even_if_nobody(api, alice, ticket):
    response = api(alice).post(url(ticket, "assign/"), {}, format="json")
    assert error_of(response)["fields"]["assignee"] == ["This field is required."]


def test_alice_transfers_to_technical_and_gets_the_result_though_it_left_her_view(api, alice, ticket, technical):
    response = api(alice).post(url(ticket, "transfer/"), {"team": technical.pk, "note": "Gateway bug."}, format="json")
    assert response.status_code == 200
    assert response.json()["team"]["name"] == "Technical"
    assert api(alice).get(url(ticket)).status_code == 404  # it has left her teams


def test_escalating_moves_up_a_level_with_the_hand_off_note(api, alice, ticket):
    response = api(alice).post(url(ticket, "escalate/"), {"note": "Above my limit."}, format="json")
    assert response.json()["escalation"]["level"] == 2
    assert ticket.interactions.get(kind="escalation").body == "Above my limit."


def test_escalating_at_the_top_says_so(api, carol, ticket):
    services.escalate(ticket, by=carol, note="Up.")
    response = api(carol).post(url(ticket, "escalate/"), {"note": "Further?"}, format="json")
    assert response.status_code == 400
    assert "already at the top of its path" in error_of(response)["fields"]["note"][0]


def test_resolve_then_reopen(api, alice, ticket):
    response = api(alice).post(url(ticket, "resolve/"), {"summary": "Refunded."}, format="json")
    assert response.json()["status"] == "resolved"
    response = api(alice).post(url(ticket, "reopen/"), {"reason": "Refund bounced."}, format="json")
    assert response.json()["status"] == "open"


def test_a_status_move_the_rules_forbid_is_a_409_naming_the_moves_allowed(api, alice, ticket):
    response = api(alice).post(url(ticket, "status/"), {"to": "closed"}, format="json")
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "invalid_transition"
    assert "From New it can move to Open, Waiting on customer, Resolved." in error["message"]


def test_resolving_through_status_points_to_resolve(api, alice, ticket):
    response = api(alice).post(url(ticket, "status/"), {"to": "resolved"}, format="json")
    assert response.status_code == 409
    assert "use Resolve" in error_of(response)["message"]


@pytest.mark.parametrize(
    ("action", "data", "field"),
    [
        ("transfer", {"note": "Over to you."}, "team"),
        ("transfer", {"team": 99999, "note": "x"}, "team"),
        ("transfer", {"team": 1, "note": ""}, "note"),
        ("escalate", {"note": " "}, "note"),
        ("resolve", {}, "summary"),
        ("reopen", {"reason": ""}, "reason"),
        ("status", {"to": "sideways"}, "to"),
        ("status", {"to": "waiting", "status": "open"}, "status"),
        ("assign", {"assignee": "alice"}, "assignee"),
    ],
)
def test_a_bad_action_is_refused_naming_the_field_and_writes_nothing(api, alice, ticket, action, data, field):
    before = written(ticket)
    response = api(alice).post(url(ticket, f"{action}/"), data, format="json")
    assert response.status_code == 400
    assert field in error_of(response)["fields"]
    assert written(ticket) == before


def test_acting_on_a_closed_ticket_says_to_reopen(api, alice, ticket):
    services.resolve(ticket, by=alice, summary="Done.")
    force(ticket, status="closed")
    response = api(alice).post(url(ticket, "escalate/"), {"note": "More?"}, format="json")
    assert response.status_code == 400
    assert "reopen it first" in error_of(response)["message"]


# --- Query counts --------------------------------------------------------------------------------------


def warmed(client):
    """A client whose token has been used once: "last used" is written at most once a minute, so it is not part
    of what each request costs."""
    client.get("/api/v1/tickets/?page_size=1")
    return client


@pytest.mark.parametrize("caller", ["alice", "carol"])
@pytest.mark.parametrize("query", ["", "promise_state=on_track&", "ordering=-created_at&", "q=Ticket&"])
def test_the_ticket_list_costs_the_same_for_one_row_or_many(
    api, caller, query, alice, carol, category, django_assert_max_num_queries, request
):
    """An agent's queue (alice: a union of one part per team), a supervisor's (carol), filtered, ordered, searched."""
    client = warmed(api(request.getfixturevalue(caller)))
    for _ in range(12):
        ticket = TicketFactory(category=category, customer=CustomerFactory(), subject="Ticket")
        services.assign(ticket, assignee=alice, by=alice)
        services.make_promise(ticket, by=alice, due_at=timezone.now() + timedelta(days=2), words="Tomorrow")
    # the token with its user, "is a supervisor?" and their teams (1); the page with its customers, assignees
    # and names (1); a search, read by the ORM, reads the teams, categories and levels it names (1)
    with django_assert_max_num_queries(3 if "q=" in query else 2):
        response = client.get(f"/api/v1/tickets/?{query}page_size=10")
    assert len(response.json()["results"]) == 10


def test_the_log_costs_the_same_for_few_entries_or_many(api, alice, ticket, django_assert_max_num_queries):
    client = warmed(api(alice))
    for n in range(10):
        services.add_note(ticket, by=alice, body=f"Note {n}")
    # token and "is a supervisor?" (1), the ticket (1), the count (1), the page with authors (1), attachments (1)
    with django_assert_max_num_queries(5):
        response = client.get(url(ticket, "interactions/"))
    assert response.json()["count"] == 11


def test_the_promise_history_costs_the_same_for_one_or_many(api, alice, ticket, django_assert_max_num_queries):
    client = warmed(api(alice))
    for days in range(1, 6):
        services.make_promise(
            ticket,
            due_at=timezone.now() + timedelta(days=days),
            by=alice,
            words=f"In {days} days.",
            change_reason="" if days == 1 else "Moved.",
        )
    # token and "is a supervisor?" (1), the ticket (1), the count (1), the page with who made each (1)
    with django_assert_max_num_queries(4):
        response = client.get(url(ticket, "promise/"))
    assert response.json()["count"] == 5


def test_interaction_rows_are_never_edited_by_the_api(api, alice, ticket):
    note = services.add_note(ticket, by=alice, body="Original.")
    for method in ("put", "patch", "delete"):
        response = getattr(api(alice), method)(url(ticket, "interactions/"), {"body": "Edited."}, format="json")
        assert response.status_code == 405
        assert error_of(response)["code"] == "method_not_allowed"
    assert Interaction.objects.get(pk=note.pk).body == "Original."


# --- Files ------------------------------------------------------------------------------------------------


@pytest.fixture
def with_file(ticket, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    upload = SimpleUploadedFile("receipt.pdf", b"%PDF-1.4 the duplicate charge", content_type="application/pdf")
    message = services.receive_customer_message(
        ticket, body="Here is the receipt.", attachments=check_uploads([upload])
    )
    return message.attachments.get()


def test_a_file_in_the_log_downloads_through_the_api_with_a_token(api, alice, ticket, with_file):
    rows = api(alice).get(url(ticket, "interactions/")).json()["results"]
    [listed] = [file for row in rows for file in row["attachments"]]
    assert listed["url"] == f"/api/v1/tickets/{ticket.reference}/files/{with_file.pk}/"
    response = api(alice).get(listed["url"])
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 the duplicate charge"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/octet-stream"


def test_a_file_of_another_teams_ticket_or_no_file_is_a_404(api, bob, alice, ticket, with_file):
    assert api(bob).get(url(ticket, f"files/{with_file.pk}/")).status_code == 404
    response = api(alice).get(url(ticket, "files/99999/"))
    assert response.status_code == 404
    assert error_of(response)["message"] == f"{ticket.reference} has no file 99999."


# --- The query string and the body, checked everywhere -------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "query", "field", "message"),
    [
        ("/api/v1/categories/", "is_active=false", "is_active", "is_active is not a parameter here"),
        ("/api/v1/teams/", "name=Billing", "name", "name is not a parameter here"),
        ("{ticket}", "fields=subject", "fields", "fields is not a parameter here"),
        ("{ticket}interactions/", "kind=note", "kind", "kind is not a parameter here"),
        ("/api/v1/tickets/", "status=open&status=new", "status", "Give status once."),
        ("/api/v1/tickets/", "page=2", "page", "Tickets page by cursor"),
        ("/api/v1/customers/", "cursor=abc", "cursor", "This list pages by number"),
    ],
)
def test_no_endpoint_ignores_a_parameter_it_does_not_take(api, alice, ticket, path, query, field, message):
    response = api(alice).get(f"{path.replace('{ticket}', url(ticket))}?{query}")
    assert response.status_code == 400
    assert message in " ".join(error_of(response)["fields"][field])


def test_a_body_too_large_to_read_is_a_400_in_the_error_format(api, alice, ticket):
    body = '{"kind": "note", "body": "' + "x" * (6 * 1024 * 1024) + '"}'
    response = api(alice).generic("POST", url(ticket, "interactions/"), body, content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["message"].startswith("The request could not be read")


@pytest.mark.parametrize(
    ("subject", "message"),
    [
        ("Bell\x07", "without tabs or invisible control characters"),
        ("Two\nlines", "Please keep this to one line"),  # a subject heads the customer's emails
        ("Two\u2028lines", "Please keep this to one line"),  # Unicode's line separator too
        ("Null\x00byte", "Null characters are not allowed"),
    ],
)
def test_a_subject_with_control_characters_is_refused_in_the_api_and_the_desk(
    api, client_for, alice, ticket, subject, message
):
    response = api(alice).patch(url(ticket), {"subject": subject}, format="json")
    assert response.status_code == 400
    assert message in error_of(response)["fields"]["subject"][0]
    desk = client_for(alice).post(f"/desk/tickets/{ticket.reference}/details/",
                                  {"subject": subject, "category": ticket.category_id, "priority": 2})  # fmt: skip
    assert desk.status_code == 400
    ticket.refresh_from_db()
    assert ticket.subject == "I was charged twice"


def test_an_address_without_its_slash_says_so(api, alice):
    response = api(alice).get("/api/v1/tickets")
    assert response.status_code == 404
    assert error_of(response)["message"].endswith("did you mean /api/v1/tickets/ (with the slash)?")


def test_the_listed_rows_are_exactly_what_the_documented_serializer_renders(api, alice, carol, ticket):
    # given tickets with and without an assignee, a promise, a transfer (so teams and levels differ)
    services.assign(ticket, assignee=alice, by=alice)
    services.make_promise(ticket, due_at=timezone.now() + timedelta(days=1), by=alice, words="Tomorrow.")
    other = TicketFactory(category=ticket.category, subject="Other")
    services.escalate(other, by=alice, note="Up.")
    # then the list's JSON is field for field what TicketSerializer (the schema's shape) renders
    shown = {row["reference"]: row for row in api(carol).get("/api/v1/tickets/").json()["results"]}
    for one in (ticket, other):
        instance = listed(Ticket.objects.filter(pk=one.pk)).get()
        assert shown[one.reference] == json.loads(json.dumps(TicketSerializer(instance).data))
