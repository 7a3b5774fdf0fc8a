"""The Celery application: worker and beat read their configuration from Django settings (CELERY_*)."""

from __future__ import annotations

import itertools
import logging
import os
import time
from pathlib import Path
from typing import Any

import redis
from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)

# Seconds between tries of a Redis broker that cannot be written to; the last repeats until it can.
BROKER_WAITS = (1, 2, 5, 10)


@app.on_after_configure.connect
def _make_broker_folders(sender: Celery, **kwargs: object) -> None:
    """The filesystem transport expects its folders to exist; create them for every process."""
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


def wait_for_a_writable_broker(url: str) -> None:
    """Return once the Redis at ``url`` takes a write; until then log why not and try again, ever more slowly.

    A worker must not exit because Redis is full: Celery 5.7 treats a refused write (OutOfMemoryError,
    a ResponseError) while its consumer connects as unrecoverable, and the worker exits at once. Celery's
    own ``broker_channel_error_retry`` would retry, but many times a second, leaking a connection each
    time, which fills Redis further. So the worker waits here, before it connects:

    1. Write a key that expires at once (any write is refused alike while Redis is out of memory).
    2. Refused, or Redis unreachable: log a warning and wait (``BROKER_WAITS``), then try again.
    3. Accepted: return, and the worker starts as usual.
    """
    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
    try:
        for attempt in itertools.count():
            try:
                client.set("helpdesk:worker-start-probe", 1, px=1)
            except redis.RedisError as error:
                wait = BROKER_WAITS[min(attempt, len(BROKER_WAITS) - 1)]
                if isinstance(error, redis.exceptions.OutOfMemoryError):
                    logger.warning("The broker refuses writes (out of memory); retrying in %d s", wait)
                else:
                    logger.warning("The broker cannot be written to (%s: %s); retrying in %d s",
                                   type(error).__name__, error, wait)  # fmt: skip
                time.sleep(wait)
            else:
                if attempt:
                    logger.warning("The broker accepts writes again; the worker starts")
                return
    finally:
        client.close()


@signals.worker_init.connect
def _wait_for_the_broker(sender: Any, **kwargs: object) -> None:
    """A worker on a Redis broker waits until it can write there (``wait_for_a_writable_broker``). The
    filesystem broker of ``make run`` cannot be full; an AMQP one keeps Celery's own retries."""
    url = str(sender.app.conf.broker_url or "")
    if url.startswith(("redis://", "rediss://")):
        wait_for_a_writable_broker(url)


@signals.task_revoked.connect
def _say_a_task_was_dropped(sender: object = None, request: object = None, **details: object) -> None:
    """A task dropped unrun (expired, revoked) is said out loud: a sweep discarded in silence once left every
    promise unbroken for a whole run while the logs looked calm."""
    reason = "it had expired" if details.get("expired") else "it was revoked"
    name = getattr(request, "name", None) or getattr(sender, "name", "a task")
    logger.warning("Dropped %s unrun: %s.", name, reason)


@app.task(name="helpdesk.ping", ignore_result=False)
def ping() -> str:
    """Answer "pong": proves a worker is consuming from the broker (used by tests and operators)."""
    return "pong"
