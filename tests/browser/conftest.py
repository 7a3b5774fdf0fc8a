"""Real Chromium against pytest-django's live server: one browser for the session, a fresh context per person.

Playwright's own browser download does not work everywhere, so the system's Chromium is used (override
its path with CHROMIUM_PATH). Expectations and actions wait up to ``EXPECT_TIMEOUT``: generous, so a loaded
two-core machine does not turn slowness into failures.

Playwright's sync API leaves its event loop marked as running in the main thread between calls, which
Django takes for an async context (SynchronousOnlyOperation from the ORM, even in the test database's
flush). So while Playwright runs, DJANGO_ALLOW_ASYNC_UNSAFE is set, and Playwright stops right after the
last browser test: the rest of the session keeps Django's check.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
EXPECT_TIMEOUT = 15_000  # ms, per expectation and per action
NAVIGATION_TIMEOUT = 30_000  # ms
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives a real Chromium against the live server (Playwright)")


class Chromium:
    """Playwright and one Chromium, started on first use and stopped on demand (then startable again)."""

    def __init__(self) -> None:
        self._playwright: Playwright | None = None
        self._browser: Browser | None = None
        self._saved_env: str | None = None
        self._active = False  # the env variable is ours to restore

    @property
    def browser(self) -> Browser:
        if self._browser is None:
            if not Path(CHROMIUM).exists():
                pytest.fail(
                    f"No Chromium at {CHROMIUM}: make test installs it (apt-get install chromium), or set CHROMIUM_PATH"
                )
            self._saved_env, self._active = os.environ.get(ASYNC_UNSAFE), True
            os.environ[ASYNC_UNSAFE] = "true"
            expect.set_options(timeout=EXPECT_TIMEOUT)
            try:
                self._playwright = sync_playwright().start()
                self._browser = self._playwright.chromium.launch(
                    executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
                )
            except BaseException:
                self.stop()
                raise
        return self._browser

    def stop(self) -> None:
        if not self._active:
            return
        try:
            if self._browser is not None:
                self._browser.close()
            if self._playwright is not None:
                self._playwright.stop()
        finally:
            self._playwright = self._browser = None
            self._active = False
            if self._saved_env is None:
                os.environ.pop(ASYNC_UNSAFE, None)
            else:
                os.environ[ASYNC_UNSAFE] = self._saved_env


_chromium = Chromium()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Chromium]:
    """The session's Chromium: launched once, on first use."""
    yield _chromium
    _chromium.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """After the last browser test (its database flush included), stop Playwright and restore the env."""
    try:
        return (yield)
    finally:
        if nextitem is None or HERE not in Path(nextitem.path).resolve().parents:
            _chromium.stop()


@pytest.fixture
def new_page(chromium: Chromium, live_server: Any) -> Iterator[Callable[[], Page]]:
    """Opens a page in a fresh browser context (its own cookies: one person), in London, on the live server.

    Uncaught JavaScript errors on any page fail the test, and so does anything the Content-Security-Policy
    refuses (an inline script or style, a resource from elsewhere): Chromium reports it on the console.
    """
    contexts: list[BrowserContext] = []
    errors: list[str] = []

    def open_page() -> Page:
        context = chromium.browser.new_context(
            base_url=live_server.url,
            timezone_id="Europe/London",
            locale="en-GB",
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(EXPECT_TIMEOUT)
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
        page.on(
            "console",
            lambda message: (
                errors.append(f"{page.url}: {message.text}") if "Content Security Policy" in message.text else None
            ),
        )
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not errors, f"JavaScript errors or refused by the Content-Security-Policy: {errors}"


@pytest.fixture(scope="session")
def screenshot() -> Callable[[Page, str], Path]:
    """Saves a full-page screenshot as artifacts/screenshots/<name>.png (git-ignored), for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def save(page: Page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
