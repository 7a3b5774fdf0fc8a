"""The two public endpoints: the request form and the status page as JSON. No sign-in; the same rules, limits
and guards as the pages (they call the same functions), and never a word of what staff keep to themselves.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from customers.models import Customer
from tests.api.conftest import error_of
from tests.customers.test_pages import request_data
from tests.factories import StaffFactory
from tickets import services
from tickets.attachments import check_uploads
from tickets.models import CustomerEmail, Ticket

pytestmark = pytest.mark.django_db

REQUESTS = "/api/v1/requests/"


def status(token: str) -> str:
    return f"/api/v1/status/{token}/"


def send(client, data, **kwargs):
    return client.post(REQUESTS, data, format=kwargs.pop("format", "json"), **kwargs)


# --- requests/: the web form's request as JSON ------------------------------------------------------


def test_a_request_becomes_a_ticket_and_a_receipt_with_the_status_link(api, category):
    response = send(api(), request_data(category))

    assert response.status_code == 201
    ticket = Ticket.objects.get()
    assert response.json() == {
        "reference": ticket.reference,
        "token": ticket.token,
        "status_url": f"http://127.0.0.1:8000/status/{ticket.token}/",
        "expectation": "4 h",
    }
    assert (ticket.subject, ticket.channel, ticket.customer.email) == (
        "Card reader keeps rebooting", "web", "zoe@example.org",
    )  # fmt: skip
    assert ticket.interactions.get().customer_name == "Zoë O'Brien"
    assert CustomerEmail.objects.get().text_body.startswith("Hi Zoë,")  # the same confirmation as the page's


def test_the_form_says_what_it_offers_active_topics_and_file_rules(api, category, standard_path):
    retired = type(category).objects.create(
        name="Old topic", slug="old", escalation_path=standard_path, is_active=False
    )
    body = api().get(REQUESTS).json()
    assert body["categories"] == [{"id": category.pk, "name": "Billing question", "description": ""}]
    assert retired.pk not in [topic["id"] for topic in body["categories"]]
    assert body["attachments"] == {
        "max_files": 5,
        "max_megabytes": 10,
        "extensions": [".csv", ".gif", ".jpeg", ".jpg", ".log", ".pdf", ".png", ".txt"],
    }


def test_no_sign_in_and_no_csrf_token_are_needed_even_from_a_signed_in_browser(category, eve):
    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(eve)

    assert send(browser, request_data(category)).status_code == 201


def test_the_same_submission_key_answers_with_the_same_ticket(api, category):
    data = request_data(category)

    first, again = send(api(), data), send(api(), data)

    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Ticket.objects.count() == 1


def test_without_a_submission_key_each_call_opens_its_own_request(api, category):
    data = request_data(category)
    del data["submission_key"]

    first, second = send(api(), data), send(api(), data)

    assert first.status_code == second.status_code == 201
    assert first.json()["reference"] != second.json()["reference"]
    assert Ticket.objects.count() == 2


def test_a_submission_key_never_hands_out_another_customers_request(api, category):
    data = request_data(category)
    send(api(), data)

    response = send(api(), {**data, "email": "mallory@example.net"})

    assert response.status_code == 400
    assert error_of(response)["fields"] == {
        "submission_key": ["This submission key was used for another request: send a new one."]
    }
    assert Ticket.objects.get().token not in response.content.decode()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required."),
        ("email", "not-an-email", "Enter a valid email address."),
        ("subject", "x" * 201, "at most 200 characters"),
        ("description", "Hello\x01there", "invisible control characters"),
        ("phone", "call me maybe", "Use digits, spaces"),
        ("category", 99999, "Select a valid choice"),
        ("submission_key", "not-a-uuid", "Enter a valid UUID."),
    ],
)
def test_bad_input_gets_the_web_forms_own_words_on_the_field(api, category, field, value, message):
    response = send(api(), request_data(category, **{field: value}))

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid" and list(error["fields"]) == [field]
    assert message in error["fields"][field][0]
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"priority": "urgent"}, "priority", "priority is not a field this takes (it takes attachments, category,"),
        ({"name": ["Zoë", "Mallory"]}, "name", "Give one value (text or a number), not a list or an object."),
        ({"attachments": ["a.txt"]}, "attachments", "Send files as multipart/form-data"),
    ],
)
def test_what_the_form_does_not_take_is_refused_by_name(api, category, changes, field, message):
    response = send(api(), request_data(category, **changes))

    assert response.status_code == 400
    assert error_of(response)["fields"][field][0].startswith(message)
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("body", [[], [None, None], "a request", 42])
def test_a_body_that_is_not_an_object_is_refused(api, body):
    response = api().post(REQUESTS, body, format="json")
    assert response.status_code == 400
    assert error_of(response)["message"] == "Send the request's fields as a JSON object (or as form data)."


def test_files_come_as_multipart_and_are_checked_like_the_forms(api, category, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    files = [SimpleUploadedFile("log.txt", b"ERR 42\n"), SimpleUploadedFile("bad.exe", b"MZ\x90\x00")]

    refused = send(api(), request_data(category, attachments=files), format="multipart")
    files = [SimpleUploadedFile("log.txt", b"ERR 42\n")]
    accepted = send(api(), request_data(category, attachments=files), format="multipart")

    assert refused.status_code == 400 and "we accept PDF, PNG" in error_of(refused)["fields"]["attachments"][0]
    assert accepted.status_code == 201
    assert [f.original_name for f in Ticket.objects.get().attachments.all()] == ["log.txt"]


def test_a_bot_filling_the_honeypot_is_told_it_worked_and_nothing_is_stored(api, category):
    response = send(api(), request_data(category, website="http://spam.example"))

    # it looks like any receipt, so the bot learns nothing ...
    assert response.status_code == 201
    assert set(response.json()) == {"reference", "token", "status_url", "expectation"}
    # ... but nothing was stored, and its "link" is the 404 of any wrong link
    assert not Ticket.objects.exists() and not Customer.objects.exists() and not CustomerEmail.objects.exists()
    assert api().get(status(response.json()["token"])).status_code == 404


def test_a_bot_sending_faulty_input_gets_the_same_refusal_as_anyone(api, category):
    response = send(api(), request_data(category, website="http://spam.example", email="nope"))
    assert response.status_code == 400
    assert error_of(response)["fields"] == {"email": ["Enter a valid email address."]}


def throttled(response) -> dict:
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    error = error_of(response)
    assert error["code"] == "throttled"
    assert "Expected available" not in error["message"]  # our words, the wait in Retry-After
    return error


def test_too_many_requests_from_one_address_are_refused_with_when_to_retry(api, category, settings):
    settings.REQUESTS_PER_IP_PER_HOUR = 2
    for n in range(2):
        assert send(api(), request_data(category, email=f"p{n}@example.org")).status_code == 201

    response = send(api(), request_data(category, email="p3@example.org"))

    assert "many requests from your network" in throttled(response)["message"]
    assert int(response["Retry-After"]) <= 3600
    assert Ticket.objects.count() == 2


def test_the_page_and_the_api_share_one_limit(client, api, category, settings):
    settings.REQUESTS_PER_IP_PER_HOUR = 2
    assert client.post("/", request_data(category, email="web@example.org")).status_code == 302
    assert send(api(), request_data(category, email="api@example.org")).status_code == 201

    page = client.post("/", request_data(category, email="web2@example.org"))

    assert page.status_code == 429 and int(page["Retry-After"]) > 0
    throttled(send(api(), request_data(category, email="api2@example.org")))


def test_too_many_requests_for_one_email_are_refused(api, category, settings):
    settings.REQUESTS_PER_EMAIL_PER_HOUR = 1
    send(api(), request_data(category))

    response = send(api(), request_data(category, email="ZOE@example.org"))

    assert "several requests in the last hour" in throttled(response)["message"]


# --- status/<token>/: the status page as data ---------------------------------------------------------


def test_the_status_shows_the_public_story_and_never_an_internal_note(api, ticket, alice, settings, tmp_path):
    # given a conversation with a reply, an internal note, a promise and a customer's file
    settings.MEDIA_ROOT = tmp_path
    services.reply(ticket, by=alice, body="We are on it.")
    services.add_note(ticket, by=alice, body="Customer seems upset; refund quickly.")
    services.make_promise(ticket, due_at=timezone.now() + timedelta(days=2), by=alice, words="By Tuesday.")
    services.assign(ticket, assignee=alice, by=alice)
    message = services.receive_customer_message(
        ticket, body="Receipt attached.", attachments=check_uploads([SimpleUploadedFile("receipt.txt", b"paid twice")])
    )

    # when the link's holder reads the status
    response = api().get(status(ticket.token))

    # then they see what the page shows them, and no internal note
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert "refund quickly" not in response.content.decode()
    body = response.json()
    assert (body["reference"], body["subject"], body["status"], body["status_label"]) == (
        ticket.reference, "I was charged twice", "open", "Open",
    )  # fmt: skip
    assert (body["team"], body["looked_after_by"]) == ("Billing", "Alice")
    assert body["promise"]["words"] == "By Tuesday." and body["promise"]["state"] == "pending"
    assert body["promise"]["due_at"].endswith("Z")
    said = [(entry["kind"], entry["who"], entry["body"]) for entry in body["timeline"]]
    assert said[0] == ("customer_message", "Dave Jones", "Something is not working and I need help.")
    assert ("reply", "Alice", "We are on it.") in said
    assert said[-1] == ("customer_message", "Dave Jones", "Receipt attached.")
    assert "note" not in {entry["kind"] for entry in body["timeline"]}
    [file] = body["timeline"][-1]["attachments"]
    attachment = message.attachments.get()
    assert file == {
        "name": "receipt.txt",
        "size": 10,
        "url": f"http://127.0.0.1:8000/status/{ticket.token}/files/{attachment.pk}/",
    }
    assert (body["can_reply"], body["can_rate"], body["can_reopen"], body["rated"]) == (True, False, False, False)


def test_the_system_speaks_as_promise_desk_and_a_rating_shows_its_stars_only(api, ticket, alice):
    services.resolve(ticket, by=alice, summary="Refunded.")
    assert api().get(status(ticket.token)).json()["can_rate"] is True
    services.rate(ticket, rating=4, comment="Quick.")

    body = api().get(status(ticket.token)).json()

    rating = next(entry for entry in body["timeline"] if entry["kind"] == "rating")
    assert (rating["who"], rating["rating"], rating["body"]) == ("Dave Jones", 4, "Quick.")
    assert set(rating) == {"kind", "kind_label", "author_kind", "who", "body", "rating", "created_at", "attachments"}
    # rating again replaces the rating (one per resolution), so it stays possible
    assert (body["can_rate"], body["can_reopen"], body["rated"], body["rating"], body["can_reply"]) == (
        True,
        True,
        True,
        4,
        False,
    )
    system = [entry["who"] for entry in body["timeline"] if entry["author_kind"] == "system"]
    assert set(system) <= {"Promise Desk"}


def test_a_paused_promise_says_so(api, ticket, alice):
    services.make_promise(ticket, due_at=timezone.now() + timedelta(days=2), by=alice, words="By Tuesday.")
    services.change_status(ticket, to="waiting", by=alice)

    assert api().get(status(ticket.token)).json()["promise"]["state"] == "paused"


def test_no_promise_yet_is_null(api, ticket):
    assert api().get(status(ticket.token)).json()["promise"] is None


def test_a_wrong_token_is_the_same_404_as_a_missing_request(api, ticket):
    wrong = api().get(status(ticket.token[:-1] + ("x" if ticket.token[-1] != "x" else "y")))
    missing = api().get(status("no-such-request-anywhere-at-all-1234"))

    assert wrong.status_code == missing.status_code == 404
    assert wrong.json() == missing.json()
    assert error_of(wrong)["message"] == "There is no request at this link, or the link has expired."


def test_an_expired_link_is_the_same_404_as_a_missing_request(api, ticket, alice):
    long_ago = timezone.now() - timedelta(days=100)
    services.resolve(ticket, by=alice, summary="Refunded.", now=long_ago)
    services.change_status(ticket, to="closed", by=alice, now=long_ago + timedelta(days=7))

    expired = api().get(status(ticket.token))
    missing = api().get(status("no-such-request-anywhere-at-all-1234"))

    assert expired.status_code == 404 and expired.json() == missing.json()


def test_guessing_tokens_is_rate_limited_with_the_page(client, api, ticket, settings):
    settings.STATUS_VIEWS_PER_IP_PER_MINUTE = 3
    client.get(f"/status/guess-0-{'a' * 24}/")  # the page and the API count together
    for n in range(1, 3):
        api().get(status(f"guess-{n}-{'a' * 24}"))

    response = api().get(status(ticket.token))

    assert "Please wait a minute" in throttled(response)["message"]
    assert int(response["Retry-After"]) <= 60


def test_the_status_costs_the_same_for_a_short_or_long_story(api, ticket, alice, django_assert_max_num_queries):
    bob_too = StaffFactory(username="frank", first_name="Frank", teams=[ticket.team])
    for n in range(6):
        services.reply(ticket, by=alice if n % 2 else bob_too, body=f"Reply {n}")
        services.add_note(ticket, by=alice, body=f"Note {n}")
    # the ticket with its customer, team, assignee and category (1), the public timeline with authors (1),
    # their attachments (1), the current promise (1), the latest resolution with its rating (1), the database's
    # clock, read once for every rule of the link (1)
    with django_assert_max_num_queries(6):
        response = api().get(status(ticket.token))
    assert len(response.json()["timeline"]) == 7


# --- The schema ----------------------------------------------------------------------------------------


def test_the_schema_documents_the_public_endpoints_as_public():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    submit = schema["paths"]["/api/v1/requests/"]["post"]
    read = schema["paths"]["/api/v1/status/{token}/"]["get"]

    assert {"201", "400", "429"} <= set(submit["responses"])
    assert {"401", "403"}.isdisjoint(submit["responses"]) and {"401", "403"}.isdisjoint(read["responses"])
    assert {"200", "404", "429"} <= set(read["responses"])
    assert {"application/json", "multipart/form-data"} == set(submit["requestBody"]["content"])


def test_a_bot_counts_against_the_addresss_limit_like_anyone(api, category, settings):
    settings.REQUESTS_PER_IP_PER_HOUR = 2
    client = api()
    for _ in range(2):
        assert send(client, request_data(category, website="http://spam.example")).status_code == 201
    response = send(client, request_data(category, website="http://spam.example"))
    assert response.status_code == 429
    assert not Ticket.objects.exists()


def test_a_bots_receipt_follows_the_latest_real_reference(api, category):
    real = send(api(), request_data(category)).json()["reference"]
    fake = send(api(), request_data(category, website="http://spam.example")).json()["reference"]
    assert 0 < int(fake.removeprefix("PD-")) - int(real.removeprefix("PD-")) <= 3
