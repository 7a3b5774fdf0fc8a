"""A worker on a Redis broker that refuses writes (full: maxmemory with noeviction) or is away waits for it,
saying why, instead of exiting; tests/e2e/test_redis_full.py starts a real worker on a full Redis."""

from __future__ import annotations

import threading
import time

import pytest

from helpdesk.celery import wait_for_a_writable_broker
from tests.processes import PrivateRedis


@pytest.mark.parametrize("trouble", ["full", "down"])
def test_the_wait_lasts_until_the_broker_takes_writes_and_says_why_meanwhile(tmp_path, caplog, trouble):
    broker = PrivateRedis(tmp_path, maxmemory="4mb")
    if trouble == "full":
        broker.start()
        broker.fill()
        recover = broker.make_room
    else:
        recover = broker.start
    timer = threading.Timer(1.5, recover)  # after the first two tries (at 0 s and 1 s); the third is at 3 s
    timer.start()
    try:
        started = time.monotonic()
        wait_for_a_writable_broker(broker.url(1))
        waited = time.monotonic() - started
    finally:
        timer.join()
        broker.kill()

    assert 2.5 < waited < 10
    lines = [r.getMessage() for r in caplog.records if r.name == "helpdesk.celery" and r.levelname == "WARNING"]
    if trouble == "full":
        assert lines[:2] == [
            "The broker refuses writes (out of memory); retrying in 1 s",
            "The broker refuses writes (out of memory); retrying in 2 s",
        ]
    else:
        assert lines[0].startswith("The broker cannot be written to (ConnectionError: ")
        assert lines[0].endswith("; retrying in 1 s")
    assert lines[-1] == "The broker accepts writes again; the worker starts"
