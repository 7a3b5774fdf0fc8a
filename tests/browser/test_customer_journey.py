"""A customer's whole journey in a real browser: ask, get a promise, write again, rate the resolution.

Maria opens the request form at /, sends it once with a mistyped email (the error sits next to the field
and everything she typed is still there), then correctly. The confirmation page gives her the reference,
an honest expectation and her private status link; the confirmation email greets her by name and carries
the same link, which she opens. There is no promise yet; alice (Billing) makes one, and Maria reloads to
read it in plain words. Maria writes again from the status page (alice reads it on her desk), alice
resolves the ticket, and Maria answers "Did this solve it?" with a 5 and a comment.

Agent actions go through the services directly: this test is about the customer's pages. The browser runs
in London; base.html's desk.js reports that zone, so the status page shows London times.
Screenshots go to artifacts/screenshots/ for people to look at.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from tests.factories import PASSWORD
from tickets import services
from tickets.customer_emails import send_pending, status_url
from tickets.models import Interaction, Rating, Ticket

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONDON = ZoneInfo("Europe/London")
SETTLED = 1_000  # ms: for checks on a page that has finished loading (nothing more will change)

NAME = "Maria Oliveira"
EMAIL = "maria.oliveira@example.com"
TYPO = "maria.oliveira.example.com"  # the @ forgotten
PHONE = "+44 20 7946 0000"
SUBJECT = "My card was charged twice"
DESCRIPTION = "I paid for the March invoice once,\nbut my card statement shows two charges of £49."


def as_shown(moment: datetime) -> str:
    """How the status page shows a promise's due time (Django's "l j F, H:i T") on a London clock."""
    local = moment.astimezone(LONDON)
    return f"{local:%A} {local.day} {local:%B}, {local:%H:%M} {local:%Z}"


def field(page: Page, label: str) -> Locator:
    """The block holding one form field: its label, control, help text and errors."""
    return page.locator("form .mb-3").filter(has=page.get_by_label(label, exact=True))


def test_customer_asks_follows_writes_again_and_rates(new_page, screenshot, mailoutbox, alice, category):
    problems: list[str] = []  # UI faults that should not stop the rest of the story: reported at the end

    # --- Maria opens the form --------------------------------------------------------------------------
    page = new_page()
    page.goto("/")
    expect(page).to_have_title("Ask us for help · Promise Desk")
    expect(page.get_by_role("heading", name="How can we help?")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.get_by_label("What is it about?")).to_have_value("")  # "Choose a topic", not a guess
    screenshot(page, "customer-form")

    # --- she mistypes her email: told next to the field, nothing she typed is lost ------------------------
    page.get_by_label("Your name").fill(NAME)
    page.get_by_label("Your email").fill(TYPO)
    page.get_by_label("What is it about?").select_option(label="Billing question")
    page.get_by_label("Phone (optional)").fill(PHONE)
    page.get_by_label("Subject").fill(SUBJECT)
    page.get_by_label("What happened, and what do you need?").fill(DESCRIPTION)
    page.get_by_role("button", name="Send my request").click()

    expect(page.get_by_role("alert")).to_have_text(
        "Please check the fields marked below; everything you typed is still here."
    )
    email = page.get_by_label("Your email")
    expect(field(page, "Your email").locator(".invalid-feedback")).to_have_text("Enter a valid email address.")
    expect(email).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".invalid-feedback")).to_have_count(1)  # only the email is wrong
    expect(email).to_have_value(TYPO)
    expect(page.get_by_label("Your name")).to_have_value(NAME)
    expect(page.get_by_label("What is it about?").locator("option:checked")).to_have_text("Billing question")
    expect(page.get_by_label("Phone (optional)")).to_have_value(PHONE)
    expect(page.get_by_label("Subject")).to_have_value(SUBJECT)
    expect(page.get_by_label("What happened, and what do you need?")).to_have_value(DESCRIPTION)
    assert not Ticket.objects.exists()
    screenshot(page, "customer-form-error")
    # A screen reader hears the help text and the error with the field: Django points aria-describedby at
    # "id_email_helptext id_email_error", so those ids must exist on the page.
    for described_by in ("We send your private status link here.", "Enter a valid email address."):
        try:
            expect(email).to_have_accessible_description(re.compile(re.escape(described_by)), timeout=SETTLED)
        except AssertionError:
            problems.append(
                f"The email field's accessible description lacks {described_by!r}: its aria-describedby is "
                f"{email.get_attribute('aria-describedby')!r}, but templates/customers/_field.html gives the "
                "help text and the error no such ids."
            )

    # --- corrected, the request is received ---------------------------------------------------------------
    email.fill(EMAIL)
    page.get_by_role("button", name="Send my request").click()
    expect(page.get_by_role("heading", name="Thank you, Maria. We have your request.")).to_be_visible()
    ticket = Ticket.objects.select_related("customer").get()  # one ticket, however the form went
    assert (ticket.customer.email, ticket.customer.name, ticket.subject) == (EMAIL, NAME, SUBJECT)
    expect(page).to_have_url(re.compile(rf"/received/{ticket.token}/$"))
    card = page.locator("main .card")
    expect(card).to_contain_text(f"Your reference is {ticket.reference}.")
    # The category's target (4 h) while there is no history: said plainly, not promised.
    expect(card).to_contain_text("Requests like yours are usually resolved within 4 h.")
    expect(card).to_contain_text("We'll tell you when we have a promise for you.")
    expect(card).to_contain_text(f"we've emailed it to {EMAIL} too")
    link = card.get_by_role("link", name=status_url(ticket))
    expect(link).to_have_attribute("href", status_url(ticket))
    expect(card).to_contain_text("Keep it to yourself")
    screenshot(page, "customer-confirmation")

    # --- the confirmation email greets her by name and carries the private link ------------------------------
    assert send_pending(now=timezone.now()).sent == 1
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [EMAIL]
    assert ticket.reference in message.subject
    assert message.body.startswith("Hi Maria,"), message.body
    assert "usually resolved within 4 h" in message.body
    links = re.findall(r"https?://\S+/status/\S+/", message.body)
    assert links == [status_url(ticket)], message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "Hi Maria," in html
    assert f'href="{status_url(ticket)}"' in html
    path = urlsplit(links[0]).path  # the link's host is SITE_URL; the live server has its own
    assert path == f"/status/{ticket.token}/"

    # --- the status page: her words, no promise yet -----------------------------------------------------
    page.goto(path)
    expect(page.get_by_role("heading", name=SUBJECT, level=1)).to_be_visible()
    expect(page.get_by_text(f"{ticket.reference} · New · with our Billing team.")).to_be_visible()
    promise_card = page.get_by_role("region", name="Our promise")
    expect(promise_card).to_contain_text("No promise yet: we'll tell you here and by email when we have one")
    timeline = page.locator("ol.timeline > li")
    expect(timeline).to_have_count(1)
    expect(timeline.first).to_contain_text("You · Customer message")
    expect(timeline.first).to_contain_text("my card statement shows two charges of £49.")
    expect(page.get_by_role("heading", name="Did this solve it?")).to_have_count(0)

    # --- alice promises (sooner than the 4 h estimate, so with her reason); Maria reloads -------------------
    due = timezone.now() + timedelta(hours=2)
    words = "We will refund the second charge of £49 to your card today."
    why = "The duplicate is visible in the payment log; refunds take minutes."
    services.make_promise(ticket, due_at=due, by=alice, words=words, reason=why)
    page.reload()
    expect(promise_card).to_contain_text(f"“{words}”")
    expect(promise_card).to_contain_text(f"By {as_shown(due)}.")
    expect(promise_card).not_to_contain_text("No promise yet")
    expect(page.locator("body")).not_to_contain_text(why)  # alice's reason to the guard is internal
    expect(timeline.filter(has_text="Promise made")).to_contain_text(words)
    screenshot(page, "customer-status-promise")

    # --- Maria writes again; it lands in the ticket's interactions ---------------------------------------------
    more = "The second charge is dated 3 March, reference ZX-4471, in case that helps."
    page.get_by_label("Your message").fill(more)
    page.get_by_role("region", name="Write to us").get_by_role("button", name="Send").click()
    expect(timeline.filter(has_text=more)).to_contain_text("You · Customer message")
    expect(page.get_by_label("Your message")).to_be_empty()  # sent, not kept as a draft
    written = ticket.interactions.get(kind="customer_message", body=more)
    assert (written.author_kind, written.customer_name, written.is_public) == ("customer", NAME, True)

    # alice reads it on her desk, in her own browser.
    desk = new_page()
    desk.goto(f"/desk/tickets/{ticket.reference}/")
    desk.get_by_label("Username").fill("alice")
    desk.get_by_label("Password").fill(PASSWORD)
    desk.get_by_role("button", name="Sign in").click()
    expect(desk.get_by_role("heading", name=f"{ticket.reference} · {SUBJECT}")).to_be_visible()
    on_desk = desk.locator("ol.timeline > li.entry-customer_message").filter(has_text=more)
    expect(on_desk).to_contain_text(NAME)
    expect(on_desk).to_contain_text("Customer sees")
    desk.context.close()

    # --- alice resolves it; Maria is asked whether it is solved ------------------------------------------
    summary = "We refunded the second £49 charge; it shows on your card within 3 working days."
    services.resolve(ticket, by=alice, summary=summary)
    page.reload()
    expect(page.get_by_text(f"{ticket.reference} · Resolved · with our Billing team.")).to_be_visible()
    expect(promise_card).to_contain_text("Kept.")
    solved = page.get_by_role("region", name="Did this solve it?")
    expect(solved).to_be_visible()
    expect(timeline.filter(has_text=summary)).to_contain_text("Alice · Resolution")
    expect(page.get_by_role("heading", name="Write to us")).to_have_count(0)
    screenshot(page, "customer-status-resolved")

    # --- she rates it 5 with a comment: recorded, the question goes away, and she may change her rating ------
    comment = "Quick and clear, thank you."
    solved.get_by_label("5", exact=True).check()
    solved.get_by_label("Anything to add? (optional)").fill(comment)
    solved.get_by_role("button", name="Send").click()
    expect(page.get_by_role("heading", name="Did this solve it?")).to_have_count(0)
    rated = timeline.filter(has_text=comment)
    expect(rated).to_contain_text("You · Rating")
    expect(rated).to_contain_text("5/5")
    entry = Interaction.objects.get(ticket=ticket, kind="rating")
    assert (entry.data["rating"], entry.body, entry.author_kind) == (5, comment, "customer")
    rating = Rating.objects.get(ticket=ticket)  # whose help, for the supervisor figures
    assert (rating.stars, rating.agent, rating.team_id) == (5, alice, ticket.team_id)
    expect(page.get_by_text("You rated our help 5 out of 5. Changed your mind?")).to_be_visible()

    assert not problems, "\n".join(problems)
