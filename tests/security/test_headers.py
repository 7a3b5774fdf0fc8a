"""The security headers, on real responses.

In-process, on every kind of page (public, desk, supervisor, admin, API, the API's docs): a strict
Content-Security-Policy (scripts, styles and images from this site only; no inline script or style, no eval,
no plugins, no framing), ``nosniff``, the referrer policy and frame denial. Then from a real server: gunicorn
with the production settings, answering HTTP as the TLS proxy forwards it, for HSTS, secure cookies, the
redirect to HTTPS and the same policy with ``upgrade-insecure-requests``.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from http.client import HTTPMessage

import pytest

# What every page's policy must say, directive by directive (django-csp writes them in this order).
POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        name, *values = part.split()
        assert name not in parsed, f"{name} given twice in {header!r}"
        parsed[name] = values
    return parsed


def assert_strict(headers) -> None:
    policy = headers["Content-Security-Policy"]
    assert "unsafe" not in policy and "*" not in policy, policy
    found = directives(policy)
    assert {name: found.get(name) for name in POLICY} == POLICY, policy
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"


@pytest.fixture
def pages(client_for, api, alice, carol, ticket):
    """One response of each kind of page, as the person who would see it."""
    anonymous, agent, supervisor = client_for(None), client_for(alice), client_for(carol)
    carol.is_superuser = True
    carol.save()
    return {
        "request form": anonymous.get("/"),
        "sign-in": anonymous.get("/accounts/login/"),
        "status page": anonymous.get(f"/status/{ticket.token}/"),
        "queue": agent.get("/desk/"),
        "ticket page": agent.get(f"/desk/tickets/{ticket.reference}/"),
        "dashboard": supervisor.get("/desk/promises/figures/"),
        "admin": supervisor.get("/admin/"),
        "API": api(alice).get("/api/v1/tickets/"),
        "API error": anonymous.get("/api/v1/tickets/"),
        "API docs": anonymous.get("/api/docs/"),
        "health": anonymous.get("/healthz"),
        "not found": anonymous.get("/no-such-page/"),
    }


def test_every_kind_of_page_has_a_strict_policy_and_the_other_headers(pages):
    for name, response in pages.items():
        expected = {"API error": 401, "not found": 404, "health": 503}.get(name, 200)  # 503: no sweeper here
        assert response.status_code == expected, (name, response.status_code)
        try:
            assert_strict(response.headers)
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}") from error


def test_no_page_carries_inline_script_or_style(pages):
    """The policy would refuse them, so they must not be there: a page that needs one is broken."""
    for name, response in pages.items():
        if not response["Content-Type"].startswith("text/html"):
            continue
        html = response.content.decode()
        # (A json_script data block, type="application/json", is data the policy lets through: never run.)
        inline = re.search(r"<script(?![^>]*\s(?:src=|type=\"application/json\"))[^>]*>", html)
        assert not inline, f"{name}: an inline script"
        assert not re.search(r"<style|\sstyle=", html), f"{name}: an inline style"
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), f"{name}: an inline event handler"


# --- From a real server with the production settings ---------------------------------------------------


def get(port: int, path: str, *, forwarded: bool = True) -> tuple[int, HTTPMessage]:
    """GET over HTTP, as the TLS proxy forwards it (``X-Forwarded-Proto: https``) unless ``forwarded`` is off;
    redirects are reported, not followed."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    headers = {"Host": "desk.example.com"}
    if forwarded:
        headers["X-Forwarded-Proto"] = "https"
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    try:
        with urllib.request.build_opener(NoRedirect).open(request, timeout=10) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


def test_the_production_server_sends_hsts_secure_cookies_and_the_strict_policy(production_server):
    port = production_server.port
    status, headers = get(port, "/accounts/login/")
    assert status == 200
    assert_strict(headers)
    assert "upgrade-insecure-requests" in directives(headers["Content-Security-Policy"])
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    cookies = headers.get_all("Set-Cookie")
    csrf = next(cookie for cookie in cookies if cookie.startswith("csrftoken="))
    assert "; Secure" in csrf and "SameSite=Lax" in csrf

    status, headers = get(port, "/", forwarded=False)  # plain HTTP reached the app: off to HTTPS
    assert status == 301
    assert headers["Location"] == "https://desk.example.com/"
