"""The agent desk in a real browser: sign in, triage the queue, promise honestly, reply, escalate, hand off.

alice (Billing, level 1) finds the at-risk ticket at the top of her queue, tries to promise sooner than
history allows, is stopped by the overpromise guard until she says why, replies to the customer and
escalates with a hand-off note; bob (Technical, level 2) signs in and reads that note before anything else.

The browser runs in London with the desk's own time-zone cookie (set by desk.js), so the times typed and
shown are London wall-clock times. Screenshots go to artifacts/screenshots/ for people to look at.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD, CustomerFactory, TicketFactory
from tickets import services
from tickets.sweep import sweep

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONDON = ZoneInfo("Europe/London")


def wall_time(moment: datetime) -> str:
    """What a datetime-local input holds for ``moment`` on a London clock."""
    return moment.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")


def fold_choice(moment: datetime) -> str | None:
    """ "The first" or "The second" when London's clocks show that minute twice (the night they go back)."""
    wall = moment.astimezone(LONDON).replace(tzinfo=None)
    first, second = wall.replace(tzinfo=LONDON, fold=0), wall.replace(tzinfo=LONDON, fold=1)
    if first.utcoffset() == second.utcoffset():
        return None
    return "The second" if moment.astimezone(LONDON).fold else "The first"


def as_shown(moment: datetime) -> str:
    """How the desk shows a due time (Django's "D j M, H:i T") on a London clock."""
    local = moment.astimezone(LONDON)
    return f"{local:%a} {local.day} {local:%b}, {local:%H:%M} {local:%Z}"


def sign_in(page: Page, username: str) -> None:
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Queue", exact=True)).to_be_visible()


@pytest.fixture
def at_risk_ticket(alice, category):
    """Four Billing tickets: one whose promise is in its warning window (flagged by the sweep), one promised
    within the hour, one promised for tomorrow, one with no promise yet. Returns the at-risk one."""
    now = timezone.now()
    earlier = now - timedelta(hours=5)
    ticket = TicketFactory(
        customer=CustomerFactory(name="Dave Jones", email="dave@example.com"),
        category=category,
        subject="I was charged twice",
        now=earlier,
    )
    # Made four hours ago for 4 h 15 min later (no sooner than the 4 h estimate): at risk now.
    services.make_promise(
        ticket,
        due_at=now + timedelta(minutes=15),
        by=alice,
        words="Refunded by this afternoon.",
        now=now - timedelta(hours=4),
    )
    soon = TicketFactory(category=category, subject="Invoice address is wrong", now=earlier)
    services.make_promise(
        soon,
        due_at=now + timedelta(minutes=50),
        by=alice,
        words="Corrected within the hour.",
        reason="A one-line change in the billing profile.",
    )
    tomorrow = TicketFactory(category=category, subject="Can I pay yearly?", now=earlier)
    services.make_promise(tomorrow, due_at=now + timedelta(days=1), by=alice, words="An answer by tomorrow.")
    TicketFactory(category=category, subject="Receipt for March", now=now - timedelta(minutes=30))

    assert sweep(now=timezone.now()).at_risk == 1
    ticket.refresh_from_db()
    assert ticket.promise_state == "at_risk"
    return ticket


def test_alice_promises_honestly_escalates_and_bob_reads_her_hand_off_first(
    new_page, screenshot, at_risk_ticket, alice, bob
):
    ticket = at_risk_ticket
    row = f'tr[data-reference="{ticket.reference}"]'
    problems: list[str] = []  # UI faults that should not stop the rest of the story: reported at the end

    # --- alice signs in and finds the at-risk ticket on top --------------------------------------------
    page = new_page()
    page.goto("/desk/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/desk/$"))
    expect(page.get_by_label("Username")).to_be_focused()
    screenshot(page, "desk-login")
    sign_in(page, "alice")
    cookies = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
    assert cookies.get("tz") == "Europe/London", "desk.js tells the server the browser's time zone"

    rows = page.locator("table.queue tbody tr")
    expect(rows).to_have_count(4)
    expect(rows.first).to_have_attribute("data-reference", ticket.reference)
    expect(rows.first).to_have_class(re.compile(r"\btable-warning\b"))
    expect(rows.first).to_contain_text("At risk")
    expect(rows.first).to_contain_text("Dave Jones")
    expect(page.locator('[data-count="at_risk"]')).to_have_text("1")
    expect(page.locator("#unread-count")).to_have_text("1")  # the sweep told her team
    zone = timezone.now().astimezone(LONDON).strftime("%Z")
    expect(page.get_by_text(re.compile(rf"^Updated \d\d:\d\d {zone} · refreshes every 30 seconds"))).to_be_visible()
    screenshot(page, "desk-queue")

    # --- she opens it and tries to promise sooner than history says ------------------------------------
    rows.first.get_by_role("link", name=ticket.reference).click()
    expect(page.get_by_role("heading", name=f"{ticket.reference} · I was charged twice")).to_be_visible()
    page.get_by_role("tab", name="Promise").click()
    promise_form = page.locator("#promise-form")
    expect(promise_form).to_be_visible()

    due = timezone.now() + timedelta(hours=1)
    typed = wall_time(due)
    if fold := fold_choice(due):
        promise_form.get_by_label("If the clocks go back at that time").select_option(label=fold)
    promise_form.get_by_label("Resolved by (your time)").fill(typed)
    guard = page.locator("#guard")
    warning = guard.locator('[data-guard="sooner"]')
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("Sooner than we usually manage.")
    expect(warning).to_contain_text("Too little history yet: the category's target is 4 h.")
    expect(warning).to_contain_text("1 of your promises is due before this one.")
    reason = guard.get_by_label("Why sooner than the estimate is realistic (required)")
    expect(reason).to_be_visible()
    expect(reason).to_be_empty()

    words = "Your duplicate charge will be refunded within the hour."
    change = "The bank needs one more check before the refund goes through."
    promise_form.get_by_label("What you tell the customer").fill(words)
    promise_form.get_by_label("Why the promise changes (the customer reads this)").fill(change)
    screenshot(page, "desk-ticket-guard")

    # --- without a reason she is asked for one, and keeps what she typed --------------------------------
    promise_form.get_by_role("button", name="Promise").click()
    error = promise_form.locator(".invalid-feedback")
    expect(error).to_contain_text("Sooner than the estimate: say why it is realistic this time.")
    expect(promise_form.locator('[data-guard="sooner"]')).to_contain_text("the category's target is 4 h")
    expect(page.get_by_role("tab", name="Promise")).to_have_attribute("aria-selected", "true")
    expect(promise_form.get_by_label("Resolved by (your time)")).to_have_value(typed)
    expect(promise_form.get_by_label("What you tell the customer")).to_have_value(words)
    expect(promise_form.get_by_label("Why the promise changes (the customer reads this)")).to_have_value(change)
    expect(guard.locator('[data-guard="sooner"]')).to_be_visible()
    screenshot(page, "desk-ticket-guard-refused")

    # --- with a reason, the promise is made --------------------------------------------------------------
    why = "The refund is approved already; only the bank's confirmation is left."
    guard.get_by_label("Why sooner than the estimate is realistic (required)").fill(why)
    promise_form.get_by_role("button", name="Promise").click()
    expect(page.get_by_role("status").filter(has_text="Promise made.")).to_be_visible()
    promise_card = page.locator("section[aria-labelledby=promise-heading]")
    expect(promise_card).to_contain_text(f"“{words}”")
    expect(promise_card).to_contain_text(f"Pending · due {as_shown(due)} · made by Alice")
    expect(promise_card).to_contain_text(f"sooner than the estimate because: {why}")
    promised = page.locator("ol.timeline > li.entry-promise_changed")
    expect(promised).to_have_count(1)
    expect(promised).to_contain_text("Customer sees")
    expect(promised).to_contain_text(words)
    expect(page.locator(".badge", has_text="On track")).to_be_visible()
    screenshot(page, "desk-ticket-promised")

    # --- she replies to the customer -------------------------------------------------------------------
    reply = "Hello Dave, the second charge is being refunded; I will confirm within the hour."
    page.get_by_role("tab", name="Reply").click()
    reply_form = page.locator("#reply-form")
    reply_form.get_by_label("Reply to the customer").fill(reply)
    reply_form.get_by_role("button", name="Reply").click()
    expect(page.get_by_role("status").filter(has_text="Reply sent.")).to_be_visible()
    sent = page.locator("ol.timeline > li.entry-reply")
    expect(sent).to_have_count(1)
    expect(sent).to_contain_text("Customer sees")
    expect(sent).to_contain_text(reply)

    # --- and escalates with a hand-off note -----------------------------------------------------------
    handoff = "Refund approved in Stripe (re_123); the bank confirmation is stuck. Promised within the hour."
    page.get_by_role("tab", name="Escalate").click()
    escalate_form = page.locator("#escalate-form")
    expect(escalate_form).to_be_visible()
    # Each tab's label names its own field (the forms' ids carry the action).
    escalate_form.get_by_label("Hand-off note for the next level").fill(handoff)
    escalate_form.get_by_role("button", name="Escalate").click()
    # The ticket is Technical's now and out of alice's sight: she is back on her queue, told where it went.
    expect(page.get_by_role("status").filter(has_text="Escalated")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="is now with Technical")).to_be_visible()
    screenshot(page, "desk-ticket-escalated")

    # --- bob, at the next level, finds it in his queue and reads the hand-off first ----------------------
    page = new_page()
    page.goto("/accounts/login/")
    sign_in(page, "bob")
    expect(page.locator(row)).to_be_visible()
    expect(page.locator(row)).to_contain_text("2. Level 2")
    expect(page.locator(row)).to_contain_text("On track")
    screenshot(page, "desk-queue-bob")

    page.locator(row).get_by_role("link", name=ticket.reference).click()
    expect(page.get_by_role("heading", name=f"{ticket.reference} · I was charged twice")).to_be_visible()
    note = page.locator("section.alert", has=page.get_by_role("heading", name=re.compile(r"^Hand-off note")))
    expect(note).to_be_visible()
    expect(note).to_contain_text("Escalation")
    expect(note).to_contain_text("by Alice")
    expect(note).to_contain_text(handoff)
    note_box = note.bounding_box()
    actions_box = page.get_by_role("region", name="Actions").bounding_box()
    timeline_box = page.get_by_role("heading", name="Timeline").bounding_box()
    assert note_box and actions_box and timeline_box
    assert note_box["y"] + note_box["height"] <= actions_box["y"] < timeline_box["y"], "the hand-off note comes first"
    screenshot(page, "desk-ticket-bob")

    assert not problems, "\n".join(problems)
