"""The pages built on others' code still work under the strict Content-Security-Policy: the API's docs
(Swagger UI, vendored) and the admin. (Every journey in this folder fails on anything the policy refuses;
see ``new_page``.)"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, StaffFactory
from tickets.models import Role

pytestmark = [pytest.mark.slow, pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_render_and_expand_an_operation(new_page, screenshot):
    page = new_page()
    page.goto("/api/docs/")
    expect(page.get_by_role("heading", name="Promise Desk API")).to_be_visible()
    operation = page.locator(".opblock-summary-path", has_text="/api/v1/tickets/").first
    expect(operation).to_be_visible()
    operation.click()
    expect(page.get_by_role("heading", name="Parameters").first).to_be_visible()
    screenshot(page, "api-docs")


def test_an_administrator_signs_in_to_the_admin_and_opens_a_list(new_page, screenshot):
    StaffFactory(username="root", is_superuser=True, role=Role.SUPERVISORS)
    page = new_page()
    page.goto("/admin/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    page.get_by_role("link", name="Api tokens").click()
    expect(page.get_by_role("heading", name="Select api token to view")).to_be_visible()
    screenshot(page, "admin-tokens")


def test_after_five_wrong_passwords_signing_in_is_paused_and_the_page_says_so(new_page, screenshot, alice):
    page = new_page()
    page.goto("/accounts/login/")
    for _ in range(5):
        page.get_by_label("Username").fill("alice")
        page.get_by_label("Password").fill("not her password")
        page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sign-in paused")).to_be_visible()
    expect(page.get_by_text("signing in is paused for 15 minutes")).to_be_visible()
    screenshot(page, "sign-in-paused")
