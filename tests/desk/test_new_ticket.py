"""A request an agent takes down in the desk (a call, a walk-in): the ticket is opened through the same
service as the web form's, with the agent as the one who wrote the customer's words down."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from customers.models import Customer
from tests.desk.helpers import assert_sent_to_sign_in, html
from tickets.models import CustomerEmail, Ticket

NEW = "/desk/tickets/new/"


def phoned(category, /, **change):
    return {
        "name": "Erin Walsh",
        "email": "Erin@Example.com",
        "phone": "+44 20 7946 0000",
        "category": str(category.pk),
        "subject": "Invoice address wrong",
        "body": "She called: the invoice shows her old address.",
        "channel": "phone",
        "priority": "",
        **change,
    }


def test_alice_takes_down_a_call_and_lands_on_the_new_ticket(client_for, alice, category):
    response = client_for(alice).post(NEW, phoned(category))
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("desk:ticket", args=[ticket.reference])
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"{ticket.reference} opened for Erin Walsh; they were emailed their status link."
    ]
    # taken down by alice, by phone, at the category's priority, in Billing (level 1 of its path)
    assert (ticket.channel, ticket.priority, ticket.team.name, ticket.customer.email) == (
        "phone", category.default_priority, "Billing", "erin@example.com")  # fmt: skip
    first = ticket.interactions.get()
    assert (first.kind, first.author, first.author_kind, first.customer_name, first.is_public) == (
        "customer_message", alice, "staff", "Erin Walsh", True)  # fmt: skip
    assert CustomerEmail.objects.get(ticket=ticket).to == "erin@example.com"


def test_a_ticket_for_another_team_sends_the_agent_back_to_the_queue_saying_where(client_for, bob, category):
    response = client_for(bob).post(NEW, phoned(category), follow=True)
    told = [str(m) for m in response.context["messages"]]
    assert told[1] == f"{Ticket.objects.get().reference} is now with Billing; it has left your queue."


def test_a_returning_customer_is_recognised_and_keeps_one_record(client_for, alice, category, dave):
    client_for(alice).post(NEW, phoned(category, email="DAVE@example.com", name="Dave Jones"))
    assert Customer.objects.count() == 1
    assert Ticket.objects.get().customer == dave


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "This field is required."),
        ({"email": "not an email"}, "Enter a valid email address."),
        ({"phone": "call me"}, "Use digits, spaces and + - ( ) only"),
        ({"subject": "Bell\x07"}, "invisible control characters"),
        ({"subject": "Two\r\nBcc: x@example.com"}, "Please keep this to one line"),
        ({"name": "Ann\nBcc: x@example.com"}, "Please keep this to one line"),
        ({"category": ""}, "This field is required."),
        ({"channel": "web"}, "Select a valid choice. web is not one of the available choices."),
        ({"priority": "9"}, "Select a valid choice. 9 is not one of the available choices."),
    ],
)
def test_a_bad_form_explains_keeps_the_input_and_stores_nothing(client_for, alice, category, change, message):
    response = client_for(alice).post(NEW, phoned(category, **change))
    assert response.status_code == 400
    page = html(response)
    assert message in page
    assert "She called: the invoice shows her old address." in page
    assert not Ticket.objects.exists() and not Customer.objects.exists()


def test_the_queue_links_to_the_new_ticket_page(client_for, alice):
    assert f'href="{NEW}"' in html(client_for(alice).get("/desk/"))


def test_the_new_ticket_page_is_for_staff(client_for, eve, category):
    assert_sent_to_sign_in(client_for(None).get(NEW), NEW)
    assert client_for(eve).post(NEW, phoned(category)).status_code == 403
    assert not Ticket.objects.exists()
