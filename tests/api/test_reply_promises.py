"""Promises in words through the API: an integration of alice's checks what a reply would promise before sending
it (``reply-check/``), and sends a reply that records its promise in one step (``interactions/`` with
``promise``). Dave lives in New York; the category's default target (4 h) is the guard's estimate.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from customers.models import Customer
from customers.services import update_customer
from tests.api.conftest import error_of
from tests.api.test_parity import trail
from tests.desk.helpers import action_url, written
from tests.factories import TicketFactory
from tickets import services
from tickets.commitments import find_commitments
from tickets.models import CustomerEmail, Promise, Ticket

NEW_YORK = ZoneInfo("America/New_York")
REALISTIC = "I'll have the refund through within 3 days."
SOONER = "I'll call you back within 2 hours."


@pytest.fixture(autouse=True)
def dave_in_new_york(dave, alice):
    update_customer(dave, time_zone="America/New_York", by=alice)


def url(ticket: Ticket, tail: str) -> str:
    return f"/api/v1/tickets/{ticket.reference}/{tail}"


def due(text: str) -> datetime:
    return find_commitments(text, zone=NEW_YORK, now=timezone.now())[0].due_at


# --- Checking a reply before sending it -------------------------------------------------------------------


def test_the_check_gives_each_promise_on_daves_clock_with_the_guards_verdict(api, alice, ticket):
    before = written(ticket)
    body = f"Hi Dave, {REALISTIC} I'll call you tomorrow afternoon too."
    response = api(alice).post(url(ticket, "reply-check/"), {"body": body}, format="json")
    assert response.status_code == 200
    first, second = response.json()["commitments"]
    assert (first["phrase"], first["words"]) == ("within 3 days", f"Hi Dave, {REALISTIC}")  # its sentence
    assert first["time_zone"] == "America/New_York"
    assert datetime.fromisoformat(first["due_at"]) == due(REALISTIC)
    assert first["due_at"].endswith("Z")  # the API's times are UTC ...
    local = datetime.fromisoformat(first["due_at_local"])  # ... and this one is on Dave's clock
    assert local == due(REALISTIC) and local.utcoffset() == due(REALISTIC).astimezone(NEW_YORK).utcoffset()
    assert local.strftime("%H:%M") == "17:00"
    assert first["verdict"]["sooner_than_estimate"] is False
    assert first["verdict"]["estimate_seconds"] == 4 * 3600
    assert first["verdict"]["explanation"].startswith("Too little history yet")
    assert second["phrase"] == "tomorrow afternoon"
    assert written(ticket) == before  # nothing sent, nothing stored


def test_the_check_flags_a_time_sooner_than_the_estimate(api, alice, ticket):
    response = api(alice).post(url(ticket, "reply-check/"), {"body": SOONER}, format="json")
    [commitment] = response.json()["commitments"]
    assert commitment["phrase"] == "within 2 hours"
    assert commitment["verdict"]["sooner_than_estimate"] is True


def test_a_reply_that_promises_nothing_has_no_commitments(api, alice, ticket):
    body = "I tried to call you at 3pm; our office is open from 9am to 5pm."
    response = api(alice).post(url(ticket, "reply-check/"), {"body": body}, format="json")
    assert response.status_code == 200
    assert response.json() == {"commitments": []}


def test_without_daves_zone_the_check_reads_the_sites(api, alice, ticket, dave):
    Customer.objects.filter(pk=dave.pk).update(time_zone="")
    [commitment] = (
        api(alice).post(url(ticket, "reply-check/"), {"body": REALISTIC}, format="json").json()["commitments"]
    )
    assert commitment["time_zone"] == "UTC"
    assert commitment["due_at_local"].endswith("T17:00:00Z")


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, "body", "This field is required."),
        ({"body": ""}, "body", "This field may not be blank."),
        ({"body": "   "}, "body", "This field may not be blank."),
        ({"body": "x" * 10_001}, "body", "Ensure this field has no more than 10000 characters."),
        ({"body": "By Friday\x00"}, "body", "Null characters are not allowed."),
        ({"body": 42}, "body", None),
        ({"body": REALISTIC, "promise": "within 3 days"}, "promise", "promise is not a field this takes"),
    ],
    ids=["missing", "empty", "blank", "too long", "NUL", "not text", "unknown field"],
)
def test_a_bad_check_is_a_400_naming_the_field(api, alice, ticket, data, field, message):
    response = api(alice).post(url(ticket, "reply-check/"), data, format="json")
    if message is None:  # DRF takes a number as text: still a check, of "42"
        assert response.status_code == 200 and response.json() == {"commitments": []}
        return
    assert response.status_code == 400
    assert message in " ".join(error_of(response)["fields"][field])


def test_bob_of_another_team_cannot_check_a_reply_on_daves_ticket(api, bob, ticket):
    response = api(bob).post(url(ticket, "reply-check/"), {"body": REALISTIC}, format="json")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


def test_the_check_needs_a_staff_caller(api, ticket):
    assert api().post(url(ticket, "reply-check/"), {"body": REALISTIC}, format="json").status_code == 401


def test_the_check_is_a_post(api, alice, ticket):
    assert api(alice).get(url(ticket, "reply-check/")).status_code == 405


# --- Sending a reply that records its promise ------------------------------------------------------------


def test_a_reply_with_promise_is_sent_and_the_promise_made_in_one_step(api, alice, ticket):
    body = f"Hi Dave. {REALISTIC}"
    data = {"kind": "reply", "body": body, "promise": "within 3 days"}
    response = api(alice).post(url(ticket, "interactions/"), data, format="json")
    assert response.status_code == 201, response.json()
    assert (response.json()["kind"], response.json()["body"]) == ("reply", body)
    promise = Promise.objects.get(ticket=ticket)
    assert (promise.due_at, promise.words, promise.made_by) == (due(REALISTIC), REALISTIC, alice)
    promises = api(alice).get(url(ticket, "promise/")).json()["results"]
    assert [(row["words"], row["outcome"]) for row in promises] == [(REALISTIC, "pending")]


def test_a_reply_whose_promise_is_sooner_without_a_reason_is_a_409_and_not_sent(api, alice, ticket):
    before = written(ticket)
    data = {"kind": "reply", "body": SOONER, "promise": "within 2 hours"}
    response = api(alice).post(url(ticket, "interactions/"), data, format="json")
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "overpromise" and error["verdict"]["estimate_seconds"] == 4 * 3600
    assert "reason" in error["fields"]
    assert written(ticket) == before
    # with the reason, both go out
    data["reason"] = "The engineer is on site."
    assert api(alice).post(url(ticket, "interactions/"), data, format="json").status_code == 201
    promise = Promise.objects.get(ticket=ticket)
    assert (promise.overrode_estimate, promise.override_reason) == (True, "The engineer is on site.")
    assert timedelta(hours=1, minutes=55) < promise.due_at - timezone.now() <= timedelta(hours=2)


def test_a_reply_that_changes_the_promise_needs_the_reason_dave_reads(api, alice, ticket):
    services.make_promise(ticket, due_at=timezone.now() + timedelta(days=5), by=alice, words="This week.")
    data = {"kind": "reply", "body": REALISTIC, "promise": "within 3 days"}
    response = api(alice).post(url(ticket, "interactions/"), data, format="json")
    assert response.status_code == 400
    assert "Say why the promise changes" in error_of(response)["fields"]["change_reason"][0]
    data["change_reason"] = "The bank was quicker."
    assert api(alice).post(url(ticket, "interactions/"), data, format="json").status_code == 201
    assert [p.outcome for p in Promise.objects.filter(ticket=ticket).order_by("made_at")] == ["superseded", "pending"]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "reply", "body": "Thanks, Dave.", "promise": "by Friday"}, "promise", "does not promise “by Friday”"),
        ({"kind": "note", "body": REALISTIC, "promise": "within 3 days"}, "promise", "Only a reply can record"),
        ({"kind": "reply", "body": REALISTIC, "reason": "Fast."}, "reason", "reason goes with promise"),
        ({"kind": "reply", "body": REALISTIC, "change_reason": "Faster."}, "change_reason", "goes with promise"),
        ({"kind": "reply", "body": REALISTIC, "promise": "x" * 201}, "promise", "no more than 200 characters"),
        ({"kind": "reply", "body": REALISTIC, "promise": ""}, "promise", "This field may not be blank."),
        ({"kind": "reply", "body": REALISTIC, "promise": "in 3\x00 days"}, "promise", "Null characters"),
    ],
    ids=["not in the reply", "a note", "reason alone", "change reason alone", "too long", "empty", "NUL"],
)
def test_a_bad_reply_with_promise_is_a_400_and_writes_nothing(api, alice, ticket, data, field, message):
    before = written(ticket)
    response = api(alice).post(url(ticket, "interactions/"), data, format="json")
    assert response.status_code == 400
    assert message in " ".join(error_of(response)["fields"][field])
    assert written(ticket) == before


def test_bob_of_another_team_cannot_reply_with_a_promise(api, bob, ticket):
    before = written(ticket)
    data = {"kind": "reply", "body": REALISTIC, "promise": "within 3 days"}
    assert api(bob).post(url(ticket, "interactions/"), data, format="json").status_code == 404
    assert written(ticket) == before


def test_a_reply_with_promise_leaves_the_same_trail_as_from_the_desk(api, client_for, ticket, category, alice):
    # given two identical tickets of Dave's
    twin = TicketFactory(customer=ticket.customer, category=category, subject=ticket.subject)
    marks = {one.pk: one.interactions.order_by("-id").values_list("id", flat=True).first() for one in (ticket, twin)}
    CustomerEmail.objects.all().delete()
    # when alice sends the same reply and records its promise in the desk on one, and through the API on the other
    desk = client_for(alice).post(action_url(ticket, "reply"), {"body": REALISTIC, "promise": "within 3 days"})
    assert desk.status_code == 302
    data = {"kind": "reply", "body": REALISTIC, "promise": "within 3 days"}
    assert api(alice).post(url(twin, "interactions/"), data, format="json").status_code == 201
    # then both wrote the same story and emailed Dave the same
    on_the_desk, through_api = trail(ticket, marks[ticket.pk]), trail(twin, marks[twin.pk])
    assert [entry[0] for entry in on_the_desk["log"]] == ["reply", "status_change", "promise_made"]
    through_api["emailed"] = [(to, s.replace(twin.reference, ticket.reference)) for to, s in through_api["emailed"]]
    assert through_api == on_the_desk
