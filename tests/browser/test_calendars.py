"""Editing a business calendar in a real browser: carol opens the Berlin office's calendar from the
Configuration overview, types a Monday the page can't read and is told so, then opens Saturday mornings, adds
a day off and saves; the preview beside the form shows the next two weeks as saved, the day off greyed and
named.

Screenshots of the calendar's page at 1280 and 390 pixels wide go to artifacts/screenshots/calendar-*.png for
people to look at.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.configuration import BERLIN, NINE_TO_FIVE
from tests.factories import PASSWORD
from tickets.models import Calendar

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDE = {"width": 1280, "height": 900}
NARROW = {"width": 390, "height": 844}


def sign_in(page: Page, username: str) -> None:
    page.goto("/desk/configuration/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Configuration", exact=True)).to_be_visible()


def shoot(page: Page, screenshot, name: str) -> None:
    for label, size in (("wide", WIDE), ("narrow", NARROW)):
        page.set_viewport_size(size)
        screenshot(page, f"calendar-{name}-{label}")
    page.set_viewport_size(WIDE)


def test_carol_edits_a_calendar_and_checks_the_next_two_weeks(new_page, screenshot, carol, billing):
    office = Calendar.objects.create(
        name="Berlin office", time_zone="Europe/Berlin", weekly=NINE_TO_FIVE, country="DE", subdivision="BY"
    )
    billing.calendar = office
    billing.save()
    today = timezone.now().astimezone(BERLIN).date()
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)  # the first Saturday after today
    day_off = today + timedelta(days=(2 - today.weekday()) % 7 or 7)  # the first Wednesday after today

    page = new_page()
    sign_in(page, "carol")
    calendars = page.get_by_role("region", name="Calendars")
    expect(calendars.locator(f'tr[data-calendar="{office.pk}"]')).to_contain_text("Mon-Fri 09:00-17:00")
    calendars.get_by_role("link", name="Edit Berlin office").click()
    expect(page.get_by_role("heading", name="Calendar Berlin office")).to_be_visible()
    expect(page.get_by_text("Billing works to this calendar.")).to_be_visible()
    preview = page.get_by_role("region", name="The next two weeks")
    expect(preview.locator("li")).to_have_count(14)
    expect(preview.locator(f'li[data-day="{saturday:%Y-%m-%d}"]')).to_have_class(re.compile(r"\bclosed\b"))

    # --- a Monday the page can't read is refused, naming the day -------------------------------------------
    page.get_by_label("Monday", exact=True).fill("9-5")
    page.get_by_role("button", name="Save and check the preview").click()
    expect(page.get_by_text("Monday: write open hours as 09:00-17:00, several separated by commas.")).to_be_visible()
    expect(page.get_by_text("Nothing was saved: please correct what is marked below.")).to_be_visible()

    # --- Saturday mornings and a day off ---------------------------------------------------------------------
    page.get_by_label("Monday", exact=True).fill("09:00-12:30, 13:30-17:00")
    page.get_by_label("Saturday", exact=True).fill("10:00-13:00")
    page.get_by_label("Date of row 1").fill(f"{day_off:%Y-%m-%d}")
    page.get_by_label("Reason of row 1").fill("Team day")
    page.get_by_role("button", name="Save and check the preview").click()
    expect(page.get_by_text("Saved calendar “Berlin office”.")).to_be_visible()

    preview = page.get_by_role("region", name="The next two weeks")
    opened = preview.locator(f'li[data-day="{saturday:%Y-%m-%d}"]')
    expect(opened).to_contain_text("10:00-13:00")
    expect(opened).not_to_have_class(re.compile(r"\bclosed\b"))
    off = preview.locator(f'li[data-day="{day_off:%Y-%m-%d}"]')
    expect(off).to_have_class(re.compile(r"\bclosed\b"))
    expect(off).to_contain_text("Team day")
    expect(page.get_by_label("Reason of row 1")).to_have_value("Team day")  # the day off is listed in the form
    office.refresh_from_db()
    assert office.weekly[0] == [["09:00", "12:30"], ["13:30", "17:00"]]
    assert office.closed_days.get().reason == "Team day"
    shoot(page, screenshot, "edit")
