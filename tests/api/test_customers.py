"""The customer directory: every staff member finds every customer, but sees only the tickets their own
gate allows; writes hold the customer rules (one per mailbox, a real time zone, a phone as people write one)
and refuse anything they don't take.
"""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from customers.models import Customer
from customers.services import create_customer, update_customer
from tests.api.conftest import error_of
from tests.factories import CustomerFactory, TicketFactory

pytestmark = pytest.mark.django_db


def url(customer: Customer | int, tail: str = "") -> str:
    return f"/api/v1/customers/{getattr(customer, 'pk', customer)}/{tail}"


def names(response) -> list[str]:
    return [row["name"] for row in response.json()["results"]]


def snapshot(customer: Customer) -> dict:
    return Customer.objects.filter(pk=customer.pk).values().get()


NEW = {"name": "Mia Wong", "email": " Mia.Wong@Example.COM ", "phone": "+44 20 7946 0000", "time_zone": "Asia/Tokyo"}


# --- Who may see and write ------------------------------------------------------------------------

ENDPOINTS = [
    ("get", "/api/v1/customers/"),
    ("post", "/api/v1/customers/"),
    ("get", "{customer}"),
    ("patch", "{customer}"),
    ("get", "{customer}tickets/"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_anonymous_callers_are_asked_to_sign_in_and_non_staff_are_refused(api, eve, dave, method, path):
    path = path.format(customer=url(dave))

    signed_in = api()
    signed_in.force_login(eve)  # eve can't have a token: tokens are for staff

    anonymous = getattr(api(), method)(path, {"name": "X"}, format="json")
    stranger = getattr(signed_in, method)(path, {"name": "X"}, format="json")

    assert (anonymous.status_code, error_of(anonymous)["code"]) == (401, "not_authenticated")
    assert (stranger.status_code, error_of(stranger)["code"]) == (403, "permission_denied")
    assert snapshot(dave)["name"] == "Dave Jones"


@pytest.mark.parametrize("persona", ["alice", "bob", "carol"])
def test_every_staff_member_finds_every_customer(api, ticket, dave, persona, request):
    # given dave, whose only ticket is with Billing (alice's team, not bob's)
    caller = api(request.getfixturevalue(persona))

    # then anyone on the staff finds him: the phone agent must find a caller whatever team helped them before
    assert names(caller.get("/api/v1/customers/")) == ["Dave Jones"]
    assert caller.get(url(dave)).json()["email"] == "dave@example.com"


def test_a_customers_tickets_are_behind_the_ticket_gate(api, ticket, dave, alice, bob, carol):
    for_alice = api(alice).get(url(dave, "tickets/")).json()
    for_bob = api(bob).get(url(dave, "tickets/")).json()
    for_carol = api(carol).get(url(dave, "tickets/")).json()

    assert [row["reference"] for row in for_alice["results"]] == [ticket.reference]
    assert for_bob["results"] == []
    assert len(for_carol["results"]) == 1
    # ... and the count on the customer says the same
    assert api(alice).get(url(dave)).json()["ticket_count"] == 1
    assert api(bob).get(url(dave)).json()["ticket_count"] == 0


def test_a_customers_tickets_come_newest_first_with_their_parties(api, dave, category, carol):
    first = TicketFactory(customer=dave, category=category, subject="First")
    second = TicketFactory(customer=dave, category=category, subject="Second")
    TicketFactory(category=category, subject="Someone else's")

    body = api(carol).get(url(dave, "tickets/")).json()

    assert [row["reference"] for row in body["results"]] == [second.reference, first.reference]
    assert body["results"][0]["customer"]["name"] == "Dave Jones"
    assert body["results"][0]["team"]["name"] == "Billing"


def test_a_customer_who_does_not_exist_is_a_404(api, alice):
    for path in (url(999_999), url(999_999, "tickets/")):
        response = api(alice).get(path)
        assert (response.status_code, error_of(response)["message"]) == (404, "There is no customer 999999.")


# --- Reading --------------------------------------------------------------------------------------


def test_a_customer_reads_with_every_field_and_internal_notes_for_staff(api, alice, dave):
    dave.notes = "Prefers email."
    dave.save()

    body = api(alice).get(url(dave)).json()

    assert set(body) == {
        "id", "name", "preferred_name", "email", "phone", "organisation", "tier", "time_zone", "notes",
        "ticket_count", "tickets_url", "created_at", "updated_at",
    }  # fmt: skip
    assert (body["notes"], body["tier"], body["tickets_url"]) == ("Prefers email.", "standard", url(dave, "tickets/"))
    assert body["created_at"].endswith("Z")


def test_search_finds_by_name_or_email_in_any_case(api, alice, dave):
    CustomerFactory(name="Mia Wong", email="mia@shop.example")
    CustomerFactory(name="Ann Lee", email="ann@DAVESHOP.example")

    assert names(api(alice).get("/api/v1/customers/?q=WONG")) == ["Mia Wong"]
    assert names(api(alice).get("/api/v1/customers/?q=Dave")) == ["Ann Lee", "Dave Jones"]
    assert names(api(alice).get("/api/v1/customers/?q=@shop.EXAMPLE")) == ["Mia Wong"]
    assert api(alice).get("/api/v1/customers/?q=nobody").json()["count"] == 0


def test_the_directory_pages_by_name(api, alice):
    for name in ["Cy", "Al", "Bo"]:
        CustomerFactory(name=name)

    first = api(alice).get("/api/v1/customers/?page_size=2").json()
    second = api(alice).get(first["next"]).json()

    assert ([row["name"] for row in first["results"]], first["count"]) == (["Al", "Bo"], 3)
    assert [row["name"] for row in second["results"]] == ["Cy"]


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("search=dave", "search", "search is not a parameter here"),
        ("page=0", "page", "Pages are numbered from 1."),
        ("page_size=500", "page_size", "Ask for 1 to 100 results per page."),
    ],
)
def test_an_unknown_or_bad_parameter_is_refused_not_ignored(api, alice, dave, query, field, message):
    response = api(alice).get(f"/api/v1/customers/?{query}")
    assert response.status_code == 400
    assert message in error_of(response)["fields"][field][0]


def test_the_tickets_list_refuses_a_filter_it_does_not_have(api, alice, dave):
    response = api(alice).get(url(dave, "tickets/?status=open"))
    assert response.status_code == 400
    assert "status is not a parameter here" in error_of(response)["message"]


# --- Writing --------------------------------------------------------------------------------------


def test_a_new_customer_is_created_with_a_normalised_email(api, alice):
    response = api(alice).post("/api/v1/customers/", NEW, format="json")

    assert response.status_code == 201
    body = response.json()
    customer = Customer.objects.get(pk=body["id"])
    assert (customer.name, customer.email, customer.phone) == ("Mia Wong", "mia.wong@example.com", "+44 20 7946 0000")
    assert (body["email"], body["tier"], body["time_zone"], body["ticket_count"]) == (
        "mia.wong@example.com", "standard", "Asia/Tokyo", 0,
    )  # fmt: skip


def test_an_email_already_on_file_in_any_case_names_the_customer_who_has_it(api, alice, dave):
    response = api(alice).post("/api/v1/customers/", {**NEW, "email": "DAVE@example.COM"}, format="json")

    assert response.status_code == 400
    assert error_of(response)["fields"]["email"] == [
        f"Customer {dave.pk} (Dave Jones) already has the email dave@example.com: use that customer instead."
    ]
    assert Customer.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_simultaneous_creations_of_one_email_make_one_customer_and_clear_refusals():
    barrier = threading.Barrier(4)
    outcomes: list[object] = []

    def create(spelling: str) -> None:
        try:
            barrier.wait()
            outcomes.append(create_customer(name="Zoe Park", email=spelling))
        except BaseException as error:  # collected and asserted below
            outcomes.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=create, args=(s,)) for s in ["zoe@example.com", "ZOE@example.com"] * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    [zoe] = Customer.objects.all()
    refusals = [outcome for outcome in outcomes if not isinstance(outcome, Customer)]
    assert len(refusals) == 3
    assert all(isinstance(r, ValidationError) and f"Customer {zoe.pk} (Zoe Park)" in str(r) for r in refusals)


def test_changing_an_email_to_another_customers_is_refused_too(api, alice, dave):
    mia = CustomerFactory(name="Mia Wong", email="mia@example.com")

    response = api(alice).patch(url(mia), {"email": "Dave@Example.com"}, format="json")

    assert response.status_code == 400
    assert f"Customer {dave.pk} (Dave Jones)" in error_of(response)["message"]
    assert snapshot(mia)["email"] == "mia@example.com"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "  ", "Give the customer's name."),
        ("name", "x" * 201, "no more than 200 characters"),
        ("email", "", "Give the customer's email address."),
        ("email", "not-an-email", "Enter a valid email address."),
        ("preferred_name", "DJ\x07", "invisible control characters"),
        ("phone", "call me maybe", "Use digits, spaces and + - ( ) only"),
        ("organisation", "Acme\x01Ltd", "invisible control characters"),
        ("organisation", "Acme\x00Ltd", "Null characters are not allowed."),
        ("tier", "gold", '"gold" is not a valid choice.'),
        ("time_zone", "Atlantis/Capital", "'Atlantis/Capital' is not a time zone; use a name such as Europe/Paris."),
        ("notes", "Line one\x1b[31m", "invisible control characters"),
        ("name", "Ann\r\nBcc: x@example.com", "Please keep this to one line"),  # names go into email headers
        ("name", None, "This field may not be null."),
    ],
)
def test_bad_input_names_the_field_and_says_what_to_fix(api, alice, dave, field, value, message):
    before = snapshot(dave)

    created = api(alice).post("/api/v1/customers/", {**NEW, field: value}, format="json")
    patched = api(alice).patch(url(dave), {field: value}, format="json")

    for response in (created, patched):
        assert response.status_code == 400
        assert message in " ".join(error_of(response)["fields"][field])
    assert Customer.objects.count() == 1 and snapshot(dave) == before


def test_a_refused_update_leaves_the_customer_as_it_was(dave):
    CustomerFactory(email="mia@example.com")

    with pytest.raises(ValidationError):
        update_customer(dave, name="David Jones", email="MIA@example.com")

    assert (dave.name, dave.email) == ("Dave Jones", "dave@example.com")


def test_name_and_email_are_required_to_create(api, alice):
    response = api(alice).post("/api/v1/customers/", {"phone": "555 0100"}, format="json")

    assert response.status_code == 400
    assert error_of(response)["fields"] == {"name": ["This field is required."], "email": ["This field is required."]}


def test_a_patch_changes_only_what_it_sends(api, alice, dave):
    before = snapshot(dave)

    response = api(alice).patch(
        url(dave), {"preferred_name": "DJ", "tier": "priority", "phone": " (555) 0100 ext 4 "}, format="json"
    )

    assert response.status_code == 200
    after = snapshot(dave)
    assert (after["preferred_name"], after["tier"], after["phone"]) == ("DJ", "priority", "(555) 0100 ext 4")
    assert after["updated_at"] > before["updated_at"]
    unchanged = {k: v for k, v in after.items() if k not in ("preferred_name", "tier", "phone", "updated_at")}
    assert unchanged == {k: v for k, v in before.items() if k not in ("preferred_name", "tier", "phone", "updated_at")}
    assert response.json()["preferred_name"] == "DJ"


@pytest.mark.parametrize(
    ("field", "value"),
    [("id", 4242), ("created_at", "2020-01-01T00:00:00Z"), ("updated_at", "2020-01-01T00:00:00Z"),
     ("ticket_count", 99), ("tickets_url", "/elsewhere/")],
)  # fmt: skip
def test_read_only_fields_are_refused_by_name_and_nothing_changes(api, alice, dave, field, value):
    before = snapshot(dave)

    created = api(alice).post("/api/v1/customers/", {**NEW, field: value}, format="json")
    patched = api(alice).patch(url(dave), {"name": "Changed", field: value}, format="json")

    for response in (created, patched):
        assert response.status_code == 400
        assert error_of(response)["fields"] == {field: [f"{field} is read-only."]}
    assert Customer.objects.count() == 1 and snapshot(dave) == before


def test_an_unknown_field_is_refused_with_the_fields_it_takes(api, alice, dave):
    response = api(alice).patch(url(dave), {"is_vip": True}, format="json")

    assert response.status_code == 400
    assert error_of(response)["fields"]["is_vip"] == [
        "is_vip is not a field this takes (it takes email, name, notes, organisation, phone, preferred_name, "
        "tier, time_zone)."
    ]


# --- Query counts ---------------------------------------------------------------------------------


def test_the_directory_costs_the_same_for_few_customers_or_many(api, alice, category, django_assert_max_num_queries):
    client = api(alice)
    client.get(url(1))  # the token's first use writes "last used" (once a minute): not part of each call's cost
    for _ in range(8):
        customer = CustomerFactory()
        TicketFactory(customer=customer, category=category)
        TicketFactory(customer=customer, category=category)
    # the token and its user (1), the count (1), the page (1), the supervisor check in the ticket gate (1),
    # the visible tickets of the page's customers counted in one grouped query (1)
    with django_assert_max_num_queries(5):
        response = client.get("/api/v1/customers/?page_size=5")
    assert [row["ticket_count"] for row in response.json()["results"]] == [2] * 5


def test_a_customers_tickets_cost_the_same_for_one_or_many(api, alice, dave, category, django_assert_max_num_queries):
    client = api(alice)
    client.get(url(dave))  # the token's first use writes "last used" (once a minute): not part of each call's cost
    for _ in range(6):
        TicketFactory(customer=dave, category=category)
    # the token with "is a supervisor?" (1), the customer (1), the cursor page (1), the teams, categories and
    # levels it names (3)
    with django_assert_max_num_queries(6):
        response = client.get(url(dave, "tickets/"))
    assert len(response.json()["results"]) == 6


def test_a_change_to_a_customer_is_logged_with_who_and_which_fields_not_the_values(api, alice, dave, caplog):
    with caplog.at_level("INFO", logger="customers.services"):
        api(alice).patch(f"/api/v1/customers/{dave.pk}/", {"phone": "+44 1234", "name": "Dave Jones"}, format="json")
    assert f"Customer {dave.pk}: phone changed by alice." in caplog.text
    assert "+44 1234" not in caplog.text


def test_internal_notes_have_a_length_limit(api, alice, dave):
    response = api(alice).patch(f"/api/v1/customers/{dave.pk}/", {"notes": "x" * 10_001}, format="json")
    assert response.status_code == 400
    assert "no more than 10000 characters" in error_of(response)["fields"]["notes"][0]
