"""Who is asking, as far as limits go: the client's address (for the rate limits and the sign-in lockout),
and the page a locked-out sign-in gets."""

from __future__ import annotations

import ipaddress
import math
from typing import Any

from axes.helpers import get_cool_off
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

UNKNOWN = "unknown"  # a request with no peer address (only made in-process, e.g. by a test's force_login)


def client_ip(request: HttpRequest) -> str:
    """The client's address. Without a proxy (``TRUSTED_PROXIES`` 0), the peer's: a header can't change it.
    Behind N proxies, each appends to X-Forwarded-For the address it was reached from, so the Nth entry from
    the right is what the outermost proxy saw; the entries left of it are the client's own writing and are
    never read. A header shorter than that (a request that did not come through the proxies) or an entry
    that is not an address falls back to the peer's."""
    peer = str(request.META.get("REMOTE_ADDR") or UNKNOWN)
    proxies = settings.TRUSTED_PROXIES
    if not proxies:
        return peer
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(forwarded) < proxies:
        return peer
    try:
        address = ipaddress.ip_address(forwarded[-proxies])
    except ValueError:
        return peer
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:203.0.113.7 is 203.0.113.7
    return str(mapped or address)


def sign_in_address(request: HttpRequest) -> str | None:
    """``client_ip`` for django-axes, which stores it in an address column: None when there is none."""
    address = client_ip(request)
    return None if address == UNKNOWN else address


def locked_out(request: HttpRequest, response: HttpResponse | None, credentials: dict[str, Any] | None) -> HttpResponse:
    """django-axes' answer to a sign-in while locked out: 429, the page says for how long, and Retry-After."""
    cool_off = get_cool_off(request)
    minutes = math.ceil(cool_off.total_seconds() / 60) if cool_off else None
    page = render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
    if cool_off:
        page["Retry-After"] = str(math.ceil(cool_off.total_seconds()))
    return page
