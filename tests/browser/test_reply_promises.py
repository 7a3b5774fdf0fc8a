"""Promises in words, in a real browser: alice types a reply to Dave (in New York) and the desk notices the
time it promises before she sends it, shows it on Dave's clock with the guard's verdict, and sends the reply
and records the promise in one step.

The browser runs in London (alice's clock); the category has no history, so the guard expects 4 hours.
"""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from customers.services import update_customer
from tests.factories import PASSWORD
from tickets.models import Promise

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def test_the_desk_notices_the_time_a_reply_promises_and_records_it_with_the_reply(
    new_page, screenshot, ticket, alice, dave
):
    update_customer(dave, time_zone="America/New_York", by=alice)
    page = new_page()
    page.goto(f"/desk/tickets/{ticket.reference}/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name=f"{ticket.reference} · I was charged twice")).to_be_visible()

    # --- she writes a reply that promises a time: the desk reads it on Dave's clock --------------------------
    reply_form = page.locator("#reply-form")
    box = reply_form.get_by_label("Reply to the customer")
    box.press_sequentially("Hi Dave, I'll get back to you by 3pm tomorrow.", delay=5)
    notice = page.locator("#reply-commitments [data-commitment]")
    expect(notice).to_have_count(1)
    tomorrow = (timezone.now().astimezone(NEW_YORK) + timedelta(days=1)).replace(hour=15, minute=0)
    on_dave_s_clock = f"{tomorrow:%a} {tomorrow.day} {tomorrow:%b}, 15:00"
    in_london = tomorrow.astimezone(LONDON)
    expect(notice).to_contain_text(
        f"This reply promises by 3pm tomorrow: {on_dave_s_clock} for Dave (America/New_York), "
        f"{in_london:%a} {in_london.day} {in_london:%b}, {in_london:%H:%M} your time — Realistic."
    )
    expect(notice).to_have_attribute("data-commitment", "realistic")
    expect(notice.get_by_role("button", name="Send and record as the promise")).to_be_visible()
    screenshot(page, "desk-reply-promise")

    # --- she rewrites it sooner: the guard says so and asks why ---------------------------------------------
    box.fill("")
    box.press_sequentially("Hi Dave, I'll call you back within 2 hours with the refund reference.", delay=5)
    expect(notice).to_have_attribute("data-commitment", "sooner")
    expect(notice).to_contain_text("This reply promises within 2 hours:")
    expect(notice).to_contain_text("Sooner than we usually manage.")
    reason = page.get_by_label("Why sooner than the estimate is realistic (needed to record it)")
    expect(reason).to_be_visible()
    screenshot(page, "desk-reply-promise-sooner")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "desk-reply-promise-sooner-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    # --- she says why and sends the reply, recording the promise in the same step ----------------------------
    reason.fill("The bank has already approved the refund.")
    notice.get_by_role("button", name="Send and record as the promise").click()
    expect(
        page.get_by_role("status").filter(has_text="Reply sent, and “within 2 hours” recorded as the promise.")
    ).to_be_visible()
    promise_card = page.locator("section[aria-labelledby=promise-heading]")
    expect(promise_card).to_contain_text("“Hi Dave, I'll call you back within 2 hours with the refund reference.”")
    expect(promise_card).to_contain_text("sooner than the estimate because: The bank has already approved the refund.")
    expect(page.locator("ol.timeline > li.entry-reply")).to_have_count(1)
    expect(page.locator("ol.timeline > li.entry-promise_made")).to_have_count(1)
    promise = Promise.objects.get(ticket=ticket)
    assert timedelta(hours=1, minutes=55) < promise.due_at - timezone.now() <= timedelta(hours=2)
    # the reply box is empty again and notices nothing
    expect(page.locator("#reply-form").get_by_label("Reply to the customer")).to_have_value("")
    expect(page.locator("#reply-commitments [data-commitment]")).to_have_count(0)
    assert re.search(r"/desk/tickets/PD-\d+/$", page.url)
