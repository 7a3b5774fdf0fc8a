"""What customers type is shown as text, never run: markup in a name, subject or message is escaped."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.desk.helpers import action_url, html, notice, ticket_url
from tests.factories import CustomerFactory, TicketFactory

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def hostile(category):
    """A ticket whose customer put a script in their name, the subject and the message."""
    customer = CustomerFactory(name=SCRIPT, email="mallory@example.com")
    return TicketFactory(customer=customer, category=category, subject=f"Help {SCRIPT}", body=f"Hello {SCRIPT}")


def assert_inert(page):
    assert SCRIPT not in page
    assert "alert(1)" in page  # it is there, as text
    assert ESCAPED in page


def test_the_queue_shows_customer_markup_as_text(client_for, hostile, alice):
    page = html(client_for(alice).get(reverse("desk:queue")))
    assert hostile.reference in page
    assert_inert(page)


def test_the_htmx_queue_shows_customer_markup_as_text(client_for, hostile, alice):
    page = html(client_for(alice).get(reverse("desk:queue"), headers={"HX-Request": "true"}))
    assert_inert(page)


def test_the_ticket_page_shows_customer_markup_as_text(client_for, hostile, alice):
    page = html(client_for(alice).get(ticket_url(hostile)))
    assert_inert(page)
    assert page.count(ESCAPED) >= 4  # title, heading, customer card, the message


def test_a_refused_form_shows_the_typed_markup_as_text(client_for, hostile, alice):
    response = client_for(alice).post(action_url(hostile, "call"), {"minutes": "0", "summary": SCRIPT})
    assert response.status_code == 400
    assert_inert(html(response))


def test_the_notifications_page_shows_customer_markup_as_text(client_for, hostile, alice):
    notice(alice, hostile, message=f"Dave said {SCRIPT}")
    page = html(client_for(alice).get(reverse("desk:notifications")))
    assert_inert(page)


def test_an_earlier_request_with_markup_is_shown_as_text_in_the_customers_history(client_for, hostile, alice):
    later = TicketFactory(customer=hostile.customer, category=hostile.category, subject="Another one")
    page = html(client_for(alice).get(ticket_url(later)))
    assert_inert(page)
