"""Faults, with real processes: gunicorn with the production settings, a Celery worker and beat, and a Redis
of the test's own (tests.processes.PrivateRedis) that the test kills and starts again, never the machine's.

- Redis down (the broker and the cache both): the web form pauses (a 503 with Retry-After: its rate limits
  cannot count, and they fail closed), status links still open, and the agent desk keeps accepting work (a
  reply and a promise are stored); when Redis returns and a worker and beat run, the promise's at-risk flag
  and the emails catch up; nothing is lost and nothing is doubled.
- The mail server down for a while: emails wait in the outbox, each retried later and later however busy
  the desk is, and all go out once when it is back.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import redis
import requests
from django.conf import settings
from django.utils import timezone

from tests.e2e.engine import (
    CeleryProcesses,
    all_swept,
    breached_count,
    notified_once_each,
    promise_many,
    swept_wrongly,
)
from tests.factories import PASSWORD
from tests.processes import (
    PROXIED,
    PrivateRedis,
    free_port,
    production_environment,
    production_server,
    with_production_password,
)
from tickets import services
from tickets.models import CustomerEmail, InteractionKind, Promise, PromiseState, Ticket

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# A request must not wait on a dead Redis for long: the answer comes within this (seconds).
PATIENCE = 10


class Browser:
    """A browser behind the TLS proxy: the Secure cookies a real one would send over HTTPS, sent by hand."""

    def __init__(self, site: str) -> None:
        self.site, self.cookies = site, {}

    def _headers(self, path: str) -> dict[str, str]:
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        return {**PROXIED, "Cookie": cookie, "Referer": f"https://desk.example.com{path}"}

    def get(self, path: str) -> requests.Response:
        response = requests.get(self.site + path, headers=self._headers(path), timeout=PATIENCE * 3)
        self.cookies.update(response.cookies.get_dict())
        return response

    def post(self, path: str, data: dict) -> tuple[requests.Response, float]:
        if "csrftoken" not in self.cookies:
            self.get(path)
        started = time.monotonic()
        response = requests.post(
            self.site + path,
            data={**data, "csrfmiddlewaretoken": self.cookies["csrftoken"]},
            headers=self._headers(path),
            timeout=PATIENCE * 3,
            allow_redirects=False,
        )
        self.cookies.update(response.cookies.get_dict())
        return response, time.monotonic() - started


def test_with_redis_down_the_form_pauses_the_desk_keeps_working_and_the_flags_catch_up(tmp_path, category, alice):
    with_production_password(alice)
    own_redis = PrivateRedis(tmp_path)
    own_redis.start()
    mail_dir = tmp_path / "mail"
    on_own_redis = {
        "REDIS_URL": own_redis.url(0),
        "CELERY_BROKER_URL": own_redis.url(1),
        "PROMISE_SWEEP_INTERVAL_SECONDS": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "SECURE_SSL_REDIRECT": "false",
    }
    celery = CeleryProcesses({**production_environment(tmp_path, **on_own_redis), "PYTHONUNBUFFERED": "1"}, tmp_path)
    try:
        with production_server(tmp_path, **on_own_redis) as server:
            # A customer sends a request while Redis is up.
            customer = Browser(server.url)
            sent, _ = customer.post(
                "/",
                {"name": "Ann Lee", "email": "ann@example.com", "category": category.pk, "subject": "Till is down",
                 "description": "Nothing prints.", "submission_key": "3b3f8f1e-1d2c-4e5f-8a9b-0c1d2e3f4a5b"},
            )  # fmt: skip
            assert sent.status_code == 302, server.log.read_text()[-3000:]
            ticket = Ticket.objects.get()

            own_redis.kill()

            # Another sends one: the form's limits cannot count, so it pauses, promptly, and stores nothing.
            another = Browser(server.url)
            paused, took = another.post(
                "/",
                {"name": "Ben Cho", "email": "ben@example.com", "category": category.pk, "subject": "Card declined",
                 "description": "Every card.", "submission_key": "9d4c2a6e-5b1f-4c3d-8e7a-1f2b3c4d5e6f"},
            )  # fmt: skip
            assert paused.status_code == 503 and int(paused.headers["Retry-After"]) > 0, server.log.read_text()[-3000:]
            assert "We cannot take new requests for a moment" in paused.text
            assert took < PATIENCE, f"the form waited {took:.1f} s on the dead Redis"
            assert Ticket.objects.count() == 1

            # The first customer's status link still opens (its limit fails open).
            started = time.monotonic()
            assert customer.get(sent.headers["Location"].replace("/received/", "/status/")).status_code == 200
            assert time.monotonic() - started < PATIENCE

            # Alice signs in, replies and promises.
            agent = Browser(server.url)
            signed_in, _ = agent.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
            assert signed_in.status_code == 302, signed_in.text[:500]
            replied, took = agent.post(f"/desk/tickets/{ticket.reference}/reply/", {"body": "Looking at it now."})
            assert replied.status_code == 302 and took < PATIENCE, (replied.status_code, took)
            # Due at the next whole minute two or more minutes away (the form takes minutes); the warning window
            # is set to end 15 s after now, so the promise is on track when made and at risk soon after: a flag
            # only the sweep can raise.
            now = timezone.now()
            due = (now + timedelta(minutes=3)).replace(second=0, microsecond=0)
            category.warn_min, category.warn_fraction = due - now - timedelta(seconds=15), 0.0
            category.save()
            promised, took = agent.post(
                f"/desk/tickets/{ticket.reference}/promise/",
                {"due_at": due.strftime("%Y-%m-%dT%H:%M"), "words": "Printing again by then.",
                 "reason": "A spare printer is on its way."},
            )  # fmt: skip
            assert promised.status_code == 302 and took < PATIENCE, (promised.status_code, took, promised.text[:500])

            # The desk's work is stored, though nothing could reach the broker.
            assert ticket.interactions.filter(kind=InteractionKind.REPLY).count() == 1
            promise = Promise.objects.get(ticket=ticket, outcome="pending")
            assert promise.due_at == due
            unsent = CustomerEmail.objects.filter(emailed_at__isnull=True).count()
            assert unsent >= 2  # the acknowledgement and the reply, waiting for a worker
            ticket.refresh_from_db()
            assert ticket.promise_state == PromiseState.ON_TRACK

            # Redis returns; a worker and beat run: the flag and the emails catch up, once each.
            own_redis.start()
            celery.worker()
            celery.beat()
            celery.wait_until(
                lambda: Ticket.objects.get(pk=ticket.pk).promise_state == PromiseState.AT_RISK,
                message="the promise was never flagged at risk after Redis returned",
            )
            celery.wait_until(
                lambda: not CustomerEmail.objects.filter(emailed_at__isnull=True).exists(),
                message="the outbox did not drain after Redis returned",
            )
            time.sleep(3)  # a few more sweeps and drains: nothing may be flagged or sent twice
            assert ticket.interactions.filter(kind=InteractionKind.AT_RISK).count() == 1
            message_ids = [
                line.split(":", 1)[1].strip()
                for sent_file in mail_dir.iterdir()
                for line in sent_file.read_text(errors="replace").splitlines()
                if line.lower().startswith("message-id:")
            ]
            assert len(message_ids) == len(set(message_ids)), "an email went out twice"
            for pk in CustomerEmail.objects.values_list("pk", flat=True):  # the server's own Message-IDs
                assert f"<customer-email-{pk}@desk.example.com>" in message_ids, f"customer email {pk} never went"
    finally:
        celery.stop_all()
        own_redis.kill()


def test_with_the_mail_server_down_emails_wait_and_all_go_out_once_when_it_returns(tmp_path, ticket, alice):
    # The test's own replies nudge the drain through this process's broker, so the worker uses the same one.
    broker = settings.CELERY_BROKER_URL
    redis.Redis.from_url(broker).flushdb()
    smtp_port = free_port()  # nothing listens there yet: the mail server is down
    environment = production_environment(
        tmp_path,
        CELERY_BROKER_URL=broker,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        EMAIL_RETRY_FIRST_SECONDS="1",
        PYTHONUNBUFFERED="1",
    )
    celery = CeleryProcesses(environment, tmp_path)
    received = tmp_path / "smtp.log"
    mail_server = None
    rows = CustomerEmail.objects.filter(ticket=ticket)
    try:
        celery.worker()
        # The desk is busy while the mail server is down: every reply queues an email and nudges a drain.
        for n in range(6):
            services.reply(ticket, by=alice, body=f"Update {n}.")
            time.sleep(0.5)
        celery.wait_until(lambda: rows.filter(email_attempts__gte=2).exists(), message="the sends were not retried")
        assert not rows.filter(emailed_at__isnull=False).exists()
        # However many nudges (one every half second), a row was tried at 0 s, 1 s and then not before 3 s:
        # counting drains, the first would have been tried at every one of them (6 and more).
        assert max(rows.values_list("email_attempts", flat=True)) <= 3

        # The mail server comes back; the next drain (here, the next email's nudge) sends everything, once.
        mail_server = subprocess.Popen(
            [
                sys.executable,
                "-u",
                "-W",
                "ignore",
                "-m",
                "smtpd",
                "-n",
                "-c",
                "DebuggingServer",
                f"127.0.0.1:{smtp_port}",
            ],
            stdout=received.open("wb"),
            stderr=subprocess.STDOUT,
        )
        time.sleep(1)
        # The desk goes on working: each reply nudges a drain, which sends whatever is due, the waiting ones
        # as their turn comes (at most 8 s away here).
        for n in range(30):
            services.reply(ticket, by=alice, body=f"Later update {n}.")
            time.sleep(1)
            if not rows.filter(emailed_at__isnull=True).exists():
                break
        assert not rows.filter(emailed_at__isnull=True).exists(), received.read_text(errors="replace")[-2000:]
        time.sleep(2)
        # smtpd's DebuggingServer prints each received line as bytes: b'Message-ID: <...>'
        message_ids = re.findall(r"^b'Message-ID: (.+)'$", received.read_text(errors="replace"), flags=re.MULTILINE)
        assert len(message_ids) == rows.count() == len(set(message_ids)), message_ids
    finally:
        celery.stop_all()
        if mail_server:
            mail_server.terminate()
            mail_server.wait(timeout=10)


def test_redis_restarted_empty_while_sweeps_are_queued_loses_and_doubles_nothing(tmp_path, dave, category, alice):
    """The broker's queue is lost (Redis restarted without persistence, so flushed) in the middle of the work:
    the sweep reads what is due from the database, not from the queue, so the next sweeps finish it."""
    own_redis = PrivateRedis(tmp_path)
    own_redis.start()
    environment = production_environment(
        tmp_path,
        REDIS_URL=own_redis.url(0),
        CELERY_BROKER_URL=own_redis.url(1),
        PROMISE_SWEEP_INTERVAL_SECONDS="1",
        PROMISE_SWEEP_BATCH_SIZE="10",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
        PYTHONUNBUFFERED="1",
    )
    celery = CeleryProcesses(environment, tmp_path)
    count = 120
    try:
        worker = celery.worker()
        beat = celery.beat()
        ids = promise_many(count, customer=dave, category=category, rep=alice)
        celery.wait_until(lambda: breached_count() > 0, message="the sweep never reached the lapsed promises")
        own_redis.kill()  # queued and unacknowledged messages go with it
        time.sleep(2)
        own_redis.start()  # empty: no persistence
        # Celery 5.7's Redis transport (kombu) can exit the worker when its broker drops: an AttributeError
        # while it restores unacknowledged messages on a connection that is gone (upstream: celery/kombu#582,
        # celery/celery#10205). The deployment's restart policy (docker-compose: unless-stopped) starts it
        # again; so does this test, as that policy would, whenever it finds the worker gone.
        workers = [worker]

        def finished() -> bool:
            if workers[-1].poll() is not None:
                workers.append(celery.worker())
            return all_swept(count)

        celery.wait_until(finished, message=lambda: f"{breached_count()} of {count} breached after the restart")
        assert swept_wrongly(ids) == [], celery.logs()
        assert notified_once_each()
        assert beat.poll() is None, "beat must ride out a broker restart on its own"
        print(f"workers started by the 'restart policy': {len(workers) - 1}")
    finally:
        celery.stop_all()
        own_redis.kill()
