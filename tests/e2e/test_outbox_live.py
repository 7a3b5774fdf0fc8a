"""The email outbox with real processes: a Celery worker, and a mail server of the test's own that takes 2 s over
each message (tests/e2e/mailserver.py), slower than the 1.8 s a message at which every drain of a 50-email batch
ran out of time.

- A slow mail server, with short task limits: each email goes out once, no drain is stopped by its time limit
  (each stops taking emails within its budget and re-queues itself), and each email's one attempt is counted.
- A worker killed with SIGKILL mid-drain, then started again: nothing is lost; an email goes out twice only if
  it was being sent when the worker died, and each of those is counted as in doubt and named in a warning.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from tests.e2e.engine import CeleryProcesses
from tests.e2e.mailserver import SlowMailServer
from tests.processes import production_environment
from tickets import services, tasks
from tickets.models import CustomerEmail

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SLOW = 2.0  # seconds the mail server takes over each message
# Short limits, so that a drain which would overrun them does so within the test. A drain stops taking emails
# 14 - 2 x 4 = 6 s in; an email a killed drain was sending is in doubt 17 s (+ a margin) after that drain began.
SOFT_LIMIT = 14
LIMITS = {"TASK_SOFT_TIME_LIMIT_SECONDS": str(SOFT_LIMIT), "TASK_TIME_LIMIT_SECONDS": "17", "EMAIL_TIMEOUT": "4"}
EMAILS = 15  # the request's confirmation and 14 replies: 30 s of the mail server's time
NUDGE_EVERY = 3  # seconds between drains asked for, as new emails and the periodic drain ask on a working desk
DEADLINE = 120


@pytest.fixture(autouse=True)
def _sent_with_the_same_limits(monkeypatch):
    """This process queues drains as the desk's web processes do, and Celery puts the limits of the process that
    queues a task into its message (a worker obeys those, not its own): give this one the worker's limits."""
    task = tasks.send_customer_emails
    monkeypatch.setattr(task, "soft_time_limit", int(LIMITS["TASK_SOFT_TIME_LIMIT_SECONDS"]))
    monkeypatch.setattr(task, "time_limit", int(LIMITS["TASK_TIME_LIMIT_SECONDS"]))
    monkeypatch.setattr(task, "_exec_options", None)  # Celery's cache of the options above


def worker_environment(directory: Path, mail: SlowMailServer) -> dict[str, str]:
    # The test's own replies and nudges go through this process's broker, so the worker uses the same one.
    redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    return production_environment(
        directory,
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(mail.port),
        PYTHONUNBUFFERED="1",
        **LIMITS,
    )


def reply_many(ticket, *, by, count: int) -> QuerySet[CustomerEmail]:
    """``count`` replies committed together (one nudge after commit); the ticket's emails, its confirmation too."""
    with transaction.atomic():
        for n in range(count):
            services.reply(ticket, by=by, body=f"Update {n}.")
    emails = CustomerEmail.objects.filter(ticket=ticket)
    assert emails.count() == count + 1
    return emails


def message_id(pk: int) -> str:
    return f"<customer-email-{pk}@desk.example.com>"


def never_sent(emails: QuerySet[CustomerEmail], mail: SlowMailServer) -> str:
    unsent = emails.filter(emailed_at__isnull=True).count()
    return f"{unsent} of {EMAILS} never marked sent; {len(mail.message_ids())} received, repeated: {mail.repeated()}"


def drain_until(celery: CeleryProcesses, done: Callable[[], object], *, message: Callable[[], str]) -> None:
    """Wait for ``done``, asking for a drain every NUDGE_EVERY seconds meanwhile."""
    asked = [0.0]

    def nudged() -> object:
        if time.monotonic() - asked[0] >= NUDGE_EVERY:
            tasks.send_customer_emails.delay()
            asked[0] = time.monotonic()
        return done()

    celery.wait_until(nudged, timeout=DEADLINE, message=message, interval=0.2)


def test_a_slow_mail_server_gets_each_email_once_and_no_drain_runs_out_of_time(tmp_path, ticket, alice):
    with SlowMailServer(delay=SLOW) as mail:
        celery = CeleryProcesses(worker_environment(tmp_path, mail), tmp_path)
        try:
            celery.worker()
            emails = reply_many(ticket, by=alice, count=EMAILS - 1)

            # Until all are sent, or one goes out twice (no need to wait for more to see that).
            drain_until(
                celery,
                lambda: mail.repeated() or not emails.filter(emailed_at__isnull=True).exists(),
                message=lambda: never_sent(emails, mail),
            )
            assert mail.repeated() == {}, "emails went out twice"
            assert sorted(mail.message_ids()) == sorted(message_id(pk) for pk in emails.values_list("pk", flat=True))

            # No drain met its time limit: each stopped taking emails in time and asked for another drain.
            log = celery.full_text()
            assert "time limit (" not in log, re.findall(r".*time limit \(.*", log)
            runs = re.findall(r"send_customer_emails\[\S+\] succeeded in ([\d.]+)s: (.*)", log)
            assert max(float(seconds) for seconds, _ in runs) < SOFT_LIMIT, runs
            assert any("'more': True" in result for _, result in runs), runs
            # One attempt each, counted.
            assert set(emails.values_list("email_state", "email_attempts", "times_in_doubt")) == {("sent", 1, 0)}
        finally:
            celery.stop_all()


def test_a_worker_killed_mid_drain_loses_nothing_and_sends_again_only_what_it_was_sending(tmp_path, ticket, alice):
    with SlowMailServer(delay=SLOW) as mail:
        celery = CeleryProcesses(worker_environment(tmp_path, mail), tmp_path)
        try:
            worker = celery.worker()
            emails = reply_many(ticket, by=alice, count=EMAILS - 1)
            tasks.send_customer_emails.delay()  # a second drain: both of the worker's processes are sending
            celery.wait_until(lambda: len(mail.message_ids()) >= 4, message="the drains never got going")
            celery.kill(worker)
            # Claimed and never marked: what the dead worker was sending, with or without the server's "250".
            in_flight = set(emails.filter(email_state="sending").values_list("pk", flat=True))

            celery.worker()  # as the deployment's restart policy would
            drain_until(
                celery,
                lambda: not emails.filter(emailed_at__isnull=True).exists(),
                message=lambda: never_sent(emails, mail),
            )
            received = Counter(mail.message_ids())
            assert set(received) == {message_id(pk) for pk in emails.values_list("pk", flat=True)}  # none lost
            assert set(mail.repeated()) <= {message_id(pk) for pk in in_flight}, (mail.repeated(), in_flight)
            assert max(received.values()) <= 2
            assert 1 <= len(in_flight) <= 2  # one per process of the worker, at most

            # Each email the dead worker was sending was counted in doubt once, named in a warning, sent again.
            doubted = dict(emails.filter(times_in_doubt__gt=0).values_list("pk", "times_in_doubt"))
            assert doubted == dict.fromkeys(in_flight, 1)
            log = celery.full_text()
            for pk in in_flight:
                assert re.search(rf"WARNING .*customeremail {pk} .*in doubt", log), log[-3000:]
            assert set(emails.values_list("email_state", flat=True)) == {"sent"}
        finally:
            celery.stop_all()
