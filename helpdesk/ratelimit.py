"""A small fixed-window rate limiter on the cache (Redis in production, so every web process shares it).

When the cache cannot count (Redis down, hanging past its 1-second socket timeouts, or refusing writes because
it is out of memory), each limit follows its own rule, which its caller must name (``when_unavailable``):

- ``FAIL_CLOSED``: the hit is refused (``Unavailable``), for doors that create work or send mail to an address
  anyone can type, where an uncounted flood costs more than a short pause;
- ``FAIL_OPEN``: the hit goes through uncounted, for doors where the limit is a second line of defence and
  turning people away costs more than a flood.

Either way each uncounted hit is logged at WARNING, with the limit's name and the error's class, never the key's
address or email.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Final, Literal

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

WhenUnavailable = Literal["fail open", "fail closed"]
FAIL_OPEN: Final = "fail open"
FAIL_CLOSED: Final = "fail closed"
# What a refusal for an unavailable store asks the client to wait (Retry-After): long enough not to hammer a
# Redis that is recovering, short enough for a person to try again soon.
RETRY_WHEN_UNAVAILABLE_SECONDS = 60


class Unavailable(Exception):
    """A ``FAIL_CLOSED`` limit could not count: nothing may be done. ``retry_after`` is in seconds."""

    def __init__(self, limit: str) -> None:
        super().__init__(f"Rate limit {limit} cannot count: its store is unavailable")
        self.retry_after = RETRY_WHEN_UNAVAILABLE_SECONDS


def allow(key: str, *, limit: int, window_seconds: int, when_unavailable: WhenUnavailable) -> bool:
    """Count one hit for ``key``; True while the window's hits are within ``limit``.

    ``key`` is ``<limit name>:<who>``. With the cache unable to count, ``when_unavailable`` decides: True for
    ``FAIL_OPEN``, ``Unavailable`` raised for ``FAIL_CLOSED`` (see the module's docstring).
    """
    try:
        return _hit(f"ratelimit:{key}:{int(time.time() // window_seconds)}", window_seconds) <= limit
    except RedisError as error:  # refused connection, timeout, and the out-of-memory refusal (a ResponseError)
        name = key.split(":")[0]
        outcome = "the request goes through" if when_unavailable == FAIL_OPEN else "the request is refused"
        # The error's class only: a refused command's message quotes the command, and so the key's address or email.
        logger.warning(
            "Rate limit %s not counted, its store is unavailable (%s); %s: %s",
            name, type(error).__name__, when_unavailable, outcome,
        )  # fmt: skip
        if when_unavailable == FAIL_OPEN:
            return True
        raise Unavailable(name) from error


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
