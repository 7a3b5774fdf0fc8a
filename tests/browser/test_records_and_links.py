"""What a sender may change and what staff may, in a real browser, at desktop and phone widths (issue #17).

Someone writes in with Dave's address under another name and phone: the record stays Dave's, and alice sees
the difference on the customer card and applies it in one click. Dave's link leaked: alice replaces it from
the card; the old link says it was replaced. Dave rates the resolution, then changes his rating; a month on,
his link shows the story and no longer takes answers. Screenshots go to artifacts/screenshots/.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tickets import services
from tickets.models import CustomerEmail, Rating, Ticket, ticket_writes

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def both_widths(page: Page, screenshot, name: str) -> None:
    screenshot(page, f"{name}-desktop")
    page.set_viewport_size(PHONE)
    screenshot(page, f"{name}-phone")
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_sender_under_another_name_changes_nothing_until_an_agent_applies_it(
    new_page, screenshot, dave, alice, category
):
    ticket = services.open_ticket(
        name="David Jones",
        email="DAVE@example.com",
        phone="+44 7700 900123",
        subject="Second reader not pairing",
        body="It blinks red.",
        category=category,
    )
    page = new_page()
    page.goto(f"/desk/tickets/{ticket.reference}/")
    sign_in_to(page, ticket)

    card = page.locator("#sender-details")
    expect(card).to_contain_text("This request was sent as David Jones, phone +44 7700 900123")
    expect(page.get_by_role("heading", name="Dave Jones", exact=True)).to_be_visible()
    both_widths(page, screenshot, "desk-sender-details")

    card.get_by_role("button", name="Use these details for Dave").click()

    expect(page.get_by_text("The customer's record now says what the sender gave.")).to_be_visible()
    expect(page.get_by_role("heading", name="David Jones", exact=True)).to_be_visible()
    expect(page.locator("#sender-details")).to_have_count(0)
    expect(page.locator(".entry-customer_updated")).to_contain_text("Name: Dave Jones → David Jones.")


def sign_in_to(page: Page, ticket: Ticket) -> None:
    """Sign in as alice from the sign-in page the desk sent the browser to, landing on the ticket."""
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=f"{ticket.reference} · {ticket.subject}")).to_be_visible()


def test_a_leaked_link_is_replaced_and_the_old_one_says_so(new_page, screenshot, ticket, alice):
    old = f"/status/{ticket.token}/"
    desk = new_page()
    desk.goto(f"/desk/tickets/{ticket.reference}/")
    sign_in_to(desk, ticket)

    desk.get_by_text("Replace their status link").click()
    desk.get_by_label("Why (internal)").fill("He forwarded the link to his supplier.")
    screenshot(desk, "desk-replace-link")
    desk.get_by_role("button", name="Replace and email the new link").click()

    expect(desk.get_by_text("A new status link was emailed to the customer")).to_be_visible()
    expect(desk.locator(".entry-link_replaced")).to_contain_text("He forwarded the link to his supplier.")
    customer = new_page()
    response = customer.goto(old)
    assert response is not None and response.status == 410
    expect(customer.get_by_role("heading", name="This link was replaced")).to_be_visible()
    both_widths(customer, screenshot, "status-link-replaced")
    ticket.refresh_from_db()
    assert f"/status/{ticket.token}/" in CustomerEmail.objects.get(interaction__kind="link_replaced").text_body


def test_a_customer_rates_changes_the_rating_and_a_month_on_the_link_only_shows_the_story(
    new_page, screenshot, ticket, alice, settings
):
    services.resolve(ticket, by=alice, summary="Refunded the second charge.")
    page = new_page()
    page.goto(f"/status/{ticket.token}/")

    page.get_by_label("5", exact=True).check()
    page.get_by_role("button", name="Send my rating").click()
    expect(page.get_by_text("You rated our help 5 out of 5. Changed your mind?")).to_be_visible()
    page.get_by_label("3", exact=True).check()
    page.get_by_role("button", name="Change my rating").click()

    expect(page.get_by_text("You rated our help 3 out of 5. Changed your mind?")).to_be_visible()
    assert list(Rating.objects.values_list("stars", flat=True)) == [3]
    both_widths(page, screenshot, "status-rating-changed")

    with ticket_writes():  # standing in for time passing
        Ticket.objects.filter(pk=ticket.pk).update(resolved_at=timezone.now() - timedelta(days=31))
    page.reload()
    expect(page.get_by_text("This link no longer takes answers.")).to_be_visible()
    expect(page.get_by_role("button", name="Change my rating")).to_have_count(0)
    both_widths(page, screenshot, "status-no-longer-takes-answers")
