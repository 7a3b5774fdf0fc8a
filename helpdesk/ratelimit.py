"""A small fixed-window rate limiter on the cache (Redis in production, so every web process shares it)."""

from __future__ import annotations

import logging
import math
import time

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def allow(key: str, *, limit: int, window_seconds: int) -> bool:
    """Count one hit for ``key``; True while the window's hits are within ``limit``.

    With the cache unreachable (Redis down), True, and a warning logged: the limits guard against floods,
    and while they cannot count, customers' requests and status pages must still get through.
    """
    try:
        return _hit(f"ratelimit:{key}:{int(time.time() // window_seconds)}", window_seconds) <= limit
    except RedisError as error:
        logger.warning("Rate limit %s not counted, the cache is unreachable: %s", key.split(":")[0], error)
        return True


def _hit(bucket: str, window_seconds: int) -> int:
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        # One round trip: INCR, and set the expiry only when the window's key is new. (Django's cache API
        # needs two or three: its incr() checks that the key exists first.)
        name = cache.make_and_validate_key(bucket)
        pipe = cache._cache.get_client(name, write=True).pipeline()
        pipe.incr(name)
        pipe.expire(name, window_seconds, nx=True)
        count, _ = pipe.execute()
        return int(count)
    if cache.add(bucket, 1, timeout=window_seconds):
        return 1
    try:
        return cache.incr(bucket)
    except ValueError:  # expired between add and incr
        cache.set(bucket, 1, timeout=window_seconds)
        return 1


def seconds_left(window_seconds: int) -> int:
    """Seconds until the current window of ``allow`` ends (its windows are fixed): the ``Retry-After``."""
    return max(1, math.ceil(window_seconds - time.time() % window_seconds))
