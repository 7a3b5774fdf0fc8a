"""Importing history in a real browser, with a real Celery worker: carol uploads the Volvo log on the
Configuration pages, maps one of its 704 categories to the desk's and lets the rest be created, and the worker
imports it; then a larger export of another system, whose progress bar she watches move (htmx polls the
status every second, within the Content-Security-Policy); then a file with bad rows, refused with each one.

Screenshots at 1280 and 390 pixels wide go to artifacts/screenshots/history-*.png for people to look at.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from bench.history_import import write_file
from tests.browser.conftest import SCREENSHOTS
from tests.e2e.engine import CeleryProcesses, engine_environment
from tests.estimates import HEADER, csv_bytes, shared_file
from tests.factories import PASSWORD
from tickets.models import Category, HistoryImport, PastTicket

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEADLINE = 120_000  # ms for an import, on a loaded two-core machine
NARROW = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 900}


@pytest.fixture
def worker(tmp_path, settings):
    """A Celery worker on the test database, sharing the live server's MEDIA_ROOT (where uploads wait)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    celery = CeleryProcesses(
        {**engine_environment(tmp_path, tmp_path / "mail"), "MEDIA_ROOT": str(settings.MEDIA_ROOT)}, tmp_path
    )
    celery.worker()
    yield celery
    celery.stop_all()


def sign_in(page: Page, username: str) -> None:
    page.goto("/desk/configuration/history/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="History", exact=True)).to_be_visible()


def shoot(page: Page, screenshot, name: str, *, whole: bool = True) -> None:
    """The page at both widths: all of it, or (``whole=False``, for a very long page) what the window shows."""
    for label, size in (("wide", WIDE), ("narrow", NARROW)):
        page.set_viewport_size(size)
        if whole:
            screenshot(page, f"history-{name}-{label}")
        else:
            page.screenshot(path=str(SCREENSHOTS / f"history-{name}-{label}.png"))
    page.set_viewport_size(WIDE)


def upload(page: Page, path: Path) -> None:
    page.goto("/desk/configuration/history/")
    page.get_by_label("History file (CSV, UTF-8)").set_input_files(str(path))
    page.get_by_role("button", name="Upload and check").click()


def test_carol_imports_history_and_watches_it_arrive(new_page, screenshot, worker, carol, category, tmp_path):
    page = new_page()
    sign_in(page, "carol")
    shoot(page, screenshot, "upload")

    # --- the Volvo log: 704 categories new to the desk ---------------------------------------------------
    upload(page, shared_file("volvo-it-2013-tickets.csv"))
    expect(page.get_by_role("heading", name="Import of volvo-it-2013-tickets.csv")).to_be_visible()
    expect(page.get_by_text("704 categories in the file are new to the desk.")).to_be_visible()
    shoot(page, screenshot, "questions")
    page.get_by_text("Map the new categories to ours").click()
    page.get_by_label("PROD582", exact=True).fill("Billing question")
    shoot(page, screenshot, "questions-mapped", whole=False)
    page.get_by_role("button", name="Import 7,554 past tickets").first.click()
    expect(page.get_by_text(re.compile(r"Imported 7,554 past tickets from volvo-it-2013-tickets\.csv"))).to_be_visible(
        timeout=DEADLINE
    )
    expect(page.locator("#history-status")).not_to_have_attribute("hx-trigger", re.compile("."))
    shoot(page, screenshot, "imported")
    assert PastTicket.objects.count() == 7554
    in_prod582 = shared_file("volvo-it-2013-tickets.csv").read_text().count(",PROD582,")
    assert PastTicket.objects.filter(category=category).count() == in_prod582
    assert Category.objects.filter(is_active=False).count() == 703

    # --- a larger export: the bar moves while the worker writes -----------------------------------------
    big = tmp_path / "old-desk-export.csv"
    write_file(big, rows=40_000, seed=7)
    upload(page, big)
    page.get_by_role("button", name="Import 40,000 past tickets").first.click()
    status = page.locator("#history-status")
    seen: list[int] = []
    deadline = time.monotonic() + DEADLINE / 1000
    while status.get_attribute("data-state") != "imported" and time.monotonic() < deadline:
        # read in one step in the page: htmx may swap the bar out between a count and a read
        value = status.evaluate("el => el.querySelector('progress')?.getAttribute('value') ?? null")
        if value is not None and (not seen or seen[-1] != int(value)):
            seen.append(int(value))
            if len(seen) == 3:
                shoot(page, screenshot, "progress")
        page.wait_for_timeout(100)
    expect(status).to_have_attribute("data-state", "imported")
    assert seen == sorted(seen), seen
    assert any(0 < value < 100 for value in seen), f"the bar never showed a step of the import: {seen}"
    expect(page.get_by_text("Imported 40,000 past tickets from old-desk-export.csv")).to_be_visible()

    # --- a file with bad rows ----------------------------------------------------------------------------
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        csv_bytes(
            HEADER,
            "PD-1,2012-05-01 09:00,,Medium,Billing question,,,",
            "PD-2,2012-05-02T09:00:00Z,2012-05-01T09:00:00Z,High,Billing question,,,",
            "PD-3,2012-05-02T09:00:00Z,,High,Billing question,,,-60",
        )
    )
    upload(page, bad)
    expect(page.get_by_role("alert")).to_contain_text("Nothing was imported. 3 rows can't be imported.")
    expect(page.locator("tr[data-line]")).to_have_count(3)
    expect(page.locator('tr[data-line="4"]')).to_contain_text("waiting_on_customer_seconds")
    shoot(page, screenshot, "refused")

    # --- the list of imports -----------------------------------------------------------------------------
    page.goto("/desk/configuration/history/")
    expect(page.locator("tr[data-import]")).to_have_count(3)
    shoot(page, screenshot, "list")
    assert list(HistoryImport.objects.values_list("state", flat=True)) == ["refused", "imported", "imported"]
    assert not any((Path(settings.MEDIA_ROOT) / "history").iterdir())  # no upload left behind
