"""Redis full, with real processes: a Redis of the test's own (tests.processes.PrivateRedis) with maxmemory and
noeviction, filled until it refuses writes ("OOM command not allowed when used memory > 'maxmemory'"), never
the machine's.

- gunicorn with the production settings: the request form (page and API) and the links form pause with a 503
  and Retry-After, storing nothing (their rate limits cannot count and fail closed); status links still open
  and the agent desk still works.
- A Celery worker started on it waits, saying why, instead of exiting; beat keeps trying. Once Redis has room
  again the worker becomes ready by itself and runs what was queued before and what beat sends after.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from helpdesk.celery import app
from tests.e2e.engine import CeleryProcesses, all_swept, promise_many, swept_wrongly
from tests.e2e.test_faults import PATIENCE, Browser
from tests.factories import PASSWORD
from tests.processes import (
    PROXIED,
    PrivateRedis,
    production_environment,
    production_server,
    with_production_password,
)
from tickets.models import CustomerEmail, InteractionKind, Promise, Ticket

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ANN_KEY = "3b3f8f1e-1d2c-4e5f-8a9b-0c1d2e3f4a5b"
BEN_KEY = "9d4c2a6e-5b1f-4c3d-8e7a-1f2b3c4d5e6f"
CY_KEY = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def request_fields(category, email: str, key: str) -> dict[str, str]:
    return {"name": "Ann Lee", "email": email, "category": str(category.pk), "subject": "Till is down",
            "description": "Nothing prints.", "submission_key": key}  # fmt: skip


def test_with_redis_full_the_forms_pause_status_links_open_and_the_desk_works(tmp_path, category, alice):
    with_production_password(alice)
    own_redis = PrivateRedis(tmp_path, maxmemory="8mb")
    own_redis.start()
    environment = {
        "REDIS_URL": own_redis.url(0),
        "CELERY_BROKER_URL": own_redis.url(1),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "SECURE_SSL_REDIRECT": "false",
    }
    try:
        with production_server(tmp_path, **environment) as server:
            # A customer sends a request while Redis has room.
            customer = Browser(server.url)
            sent, _ = customer.post("/", request_fields(category, "ann@example.com", ANN_KEY))
            assert sent.status_code == 302, server.log.read_text()[-3000:]
            ticket = Ticket.objects.get()
            emails = CustomerEmail.objects.count()

            own_redis.fill()

            # The form, its API and the links form pause: 503 with Retry-After, promptly; nothing is stored.
            another = Browser(server.url)
            paused, took = another.post("/", request_fields(category, "ben@example.com", BEN_KEY))
            assert paused.status_code == 503 and int(paused.headers["Retry-After"]) > 0, server.log.read_text()[-3000:]
            assert "We cannot take new requests for a moment" in paused.text and took < PATIENCE
            api = requests.post(
                f"{server.url}/api/v1/requests/",
                json=request_fields(category, "cy@example.com", CY_KEY),
                headers=PROXIED,
                timeout=PATIENCE * 3,
            )
            assert api.status_code == 503 and int(api.headers["Retry-After"]) > 0, api.text
            assert api.json()["error"]["code"] == "unavailable"
            links, _ = another.post("/links/", {"email": "ann@example.com"})
            assert links.status_code == 503 and "We cannot send links for a moment" in links.text
            assert Ticket.objects.count() == 1 and CustomerEmail.objects.count() == emails

            # The first customer's status link still opens (its limit fails open).
            assert customer.get(sent.headers["Location"].replace("/received/", "/status/")).status_code == 200

            # Alice signs in, replies and promises: the desk's work is stored.
            agent = Browser(server.url)
            signed_in, _ = agent.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
            assert signed_in.status_code == 302, signed_in.text[:500]
            replied, took = agent.post(f"/desk/tickets/{ticket.reference}/reply/", {"body": "Looking at it now."})
            assert replied.status_code == 302 and took < PATIENCE, (replied.status_code, took)
            due = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
            promised, took = agent.post(
                f"/desk/tickets/{ticket.reference}/promise/",
                {"due_at": due.strftime("%Y-%m-%dT%H:%M"), "words": "Printing again by tomorrow.",
                 "reason": "A spare printer is on its way."},
            )  # fmt: skip
            assert promised.status_code == 302 and took < PATIENCE, (promised.status_code, promised.text[:500])
            assert ticket.interactions.filter(kind=InteractionKind.REPLY).count() == 1
            assert Promise.objects.filter(ticket=ticket, outcome="pending").exists()

        log = server.log.read_text()
        assert "Rate limit request-ip not counted, its store is unavailable (OutOfMemoryError)" in log
        assert "Rate limit status not counted" in log and "fail open" in log
        assert "Traceback" not in log, log[-5000:]
        assert "ann@example.com" not in log and "ben@example.com" not in log  # no email leaks into the log
    finally:
        own_redis.kill()


def test_a_worker_started_on_a_full_redis_waits_then_runs_the_work_once_there_is_room(tmp_path, dave, category, alice):
    own_redis = PrivateRedis(tmp_path, maxmemory="8mb")
    own_redis.start()
    environment = production_environment(
        tmp_path,
        REDIS_URL=own_redis.url(0),
        CELERY_BROKER_URL=own_redis.url(1),
        PROMISE_SWEEP_INTERVAL_SECONDS="1",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        PYTHONUNBUFFERED="1",
    )
    celery = CeleryProcesses(environment, tmp_path)
    try:
        # A task queued while there was room, then Redis fills up, and a promise lapses in the database.
        with app.connection_for_write(own_redis.url(1)) as connection:
            queued = app.send_task("helpdesk.ping", connection=connection).id
        own_redis.fill()
        ids = promise_many(1, customer=dave, category=category, rep=alice)

        worker = celery.worker(until_ready=False)
        beat = celery.beat()
        worker_log = celery.started[0][1]
        celery.wait_until(
            lambda: "The broker refuses writes (out of memory); retrying in 2 s" in worker_log.read_text(),
            message="the worker did not say it waits for a broker that refuses writes",
        )
        beat_log = celery.started[1][1]
        celery.wait_until(
            lambda: beat_log.read_text().count("Couldn't apply scheduled task sweep-promises") >= 2,
            message="beat did not keep trying to send the sweep",
        )
        assert worker.poll() is None and beat.poll() is None, celery.logs()
        assert " ready." not in worker_log.read_text()

        own_redis.make_room()

        # The worker becomes ready by itself, runs the task queued before, and beat's sweeps flag the promise.
        celery.wait_until(lambda: " ready." in worker_log.read_text(), message="the worker never became ready")
        celery.wait_until(
            lambda: re.search(rf"helpdesk.ping\[{queued}\] succeeded", worker_log.read_text()),
            message="the task queued before Redis filled up never ran",
        )
        celery.wait_until(lambda: all_swept(1), message="the lapsed promise was never swept")
        assert swept_wrongly(ids) == []
        assert worker.poll() is None and beat.poll() is None, celery.logs()
        assert "Unrecoverable error" not in worker_log.read_text()
    finally:
        celery.stop_all()
        own_redis.kill()
