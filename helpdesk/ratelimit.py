"""A small fixed-window rate limiter on the cache (Redis in production, so every web process shares it)."""

from __future__ import annotations

import time

from django.core.cache import cache
from django.http import HttpRequest


def allow(key: str, *, limit: int, window_seconds: int) -> bool:
    """Count one hit for ``key``; True while the window's hits are within ``limit``."""
    bucket = f"ratelimit:{key}:{int(time.time() // window_seconds)}"
    if cache.add(bucket, 1, timeout=window_seconds):
        return limit >= 1
    try:
        return cache.incr(bucket) <= limit
    except ValueError:  # expired between add and incr
        cache.set(bucket, 1, timeout=window_seconds)
        return limit >= 1


def client_ip(request: HttpRequest) -> str:
    """The peer's address. Behind a proxy, configure it to set REMOTE_ADDR; never trust a client header."""
    return str(request.META.get("REMOTE_ADDR", "unknown"))
