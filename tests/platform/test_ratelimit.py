"""The rate limiter counts hits per window, on Redis (one round trip) as on the local-memory cache."""

from __future__ import annotations

import pytest
from django.core.cache import caches

from helpdesk.ratelimit import allow


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
