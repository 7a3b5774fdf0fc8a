"""The rate limiter counts hits per window, on Redis (one round trip) as on the local-memory cache."""

from __future__ import annotations

import pytest
from django.core.cache import caches

from helpdesk.ratelimit import allow
from tests.processes import free_port


@pytest.mark.parametrize(
    "backend",
    [
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:6379/1"},
        {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    ],
    ids=["redis", "locmem"],
)
def test_hits_beyond_the_limit_are_refused_within_the_window(settings, backend):
    settings.CACHES = {"default": backend}
    caches["default"].clear()

    answers = [allow("test:someone", limit=3, window_seconds=60) for _ in range(5)]

    assert answers == [True, True, True, False, False]
    assert allow("test:someone-else", limit=3, window_seconds=60)


def test_with_redis_unreachable_requests_get_through_and_a_warning_says_so(settings, caplog):
    """Flood protection must not turn customers away while Redis is down (tests/e2e/test_faults.py runs it)."""
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": dead,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }

    assert all(allow("request-ip:203.0.113.7", limit=1, window_seconds=60) for _ in range(3))
    assert "Rate limit request-ip not counted, the cache is unreachable" in caplog.text
    assert "203.0.113.7" not in caplog.text  # the key's address stays out of the log
