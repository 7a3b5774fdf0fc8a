"""The rate limiter counts hits per window, on Redis (one round trip) as on the local-memory cache; when its
store cannot count (Redis down, hanging, or full), each limit follows the rule its caller names."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from django.core.cache import caches

from helpdesk.ratelimit import FAIL_CLOSED, FAIL_OPEN, RETRY_WHEN_UNAVAILABLE_SECONDS, Unavailable, allow
from tests.processes import free_port

# The production settings' timeouts (helpdesk/settings.py): a Redis that hangs holds a request this long.
TIMEOUTS = {"socket_connect_timeout": 1, "socket_timeout": 1}


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

    answers = [allow("test:someone", limit=3, window_seconds=60, when_unavailable=FAIL_CLOSED) for _ in range(5)]

    assert answers == [True, True, True, False, False]
    assert allow("test:someone-else", limit=3, window_seconds=60, when_unavailable=FAIL_CLOSED)


# --- The store unavailable --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hanging_redis() -> Iterator[str]:
    """An address that takes connections and never answers (the kernel completes them; nothing reads)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    listener.close()


@pytest.fixture(params=["down", "hanging", "full"])
def unavailable_store(request, settings) -> str:
    """The cache on a Redis that cannot count: nothing listening, a server that never answers, a full one."""
    if request.param == "down":
        location = f"redis://127.0.0.1:{free_port()}/0"
    elif request.param == "hanging":
        location = request.getfixturevalue("hanging_redis")
    else:
        location = request.getfixturevalue("full_redis").url(0)
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": location, "OPTIONS": TIMEOUTS}
    }
    return request.param


def test_a_limit_that_fails_closed_refuses_while_its_store_cannot_count_and_says_so(unavailable_store, caplog):
    for _ in range(2):
        with pytest.raises(Unavailable) as refusal:
            allow("request-ip:203.0.113.7", limit=5, window_seconds=3600, when_unavailable=FAIL_CLOSED)

    assert refusal.value.retry_after == RETRY_WHEN_UNAVAILABLE_SECONDS
    warnings = [r for r in caplog.records if r.name == "helpdesk.ratelimit" and r.levelname == "WARNING"]
    assert len(warnings) == 2  # each time
    assert "Rate limit request-ip not counted, its store is unavailable" in warnings[0].getMessage()
    assert "fail closed: the request is refused" in warnings[0].getMessage()
    assert "203.0.113.7" not in caplog.text  # the key's address stays out of the log


def test_a_limit_that_fails_open_lets_hits_through_while_its_store_cannot_count_and_says_so(unavailable_store, caplog):
    answers = [allow("status:203.0.113.7", limit=1, window_seconds=60, when_unavailable=FAIL_OPEN) for _ in range(3)]

    assert answers == [True, True, True]
    warnings = [r for r in caplog.records if r.name == "helpdesk.ratelimit" and r.levelname == "WARNING"]
    assert len(warnings) == 3
    assert "Rate limit status not counted, its store is unavailable" in warnings[0].getMessage()
    assert "fail open: the request goes through" in warnings[0].getMessage()
    assert "203.0.113.7" not in caplog.text


def test_a_full_redis_is_refused_as_out_of_memory(full_redis, settings, caplog):
    """The case of issue #17: Redis answers, but refuses the count (a ResponseError, not a ConnectionError)."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": full_redis.url(0)}
    }

    with pytest.raises(Unavailable):
        allow("request-email:zoe@example.org", limit=5, window_seconds=3600, when_unavailable=FAIL_CLOSED)

    assert "OutOfMemoryError" in caplog.text and "zoe@example.org" not in caplog.text
