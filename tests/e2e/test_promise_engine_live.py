"""The promise engine, live: a real Celery worker and beat sweep the test database through Redis.

Everything between "a rep makes a promise" and "the next level is told" runs in other processes, as in
production: beat sends the sweep every second, the worker (prefork, two children) runs it against the
pytest database, and the notification outbox is drained to a file mail backend. The tests only make
promises and watch the database, polling with deadlines.

The broker is the Redis database named by CELERY_BROKER_URL (flushed first); run with your own, e.g.
CELERY_BROKER_URL=redis://127.0.0.1:6379/6.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from tests.e2e.engine import (
    STARTUP_TIMEOUT,
    CeleryProcesses,
    all_notifications_emailed,
    all_swept,
    breached_count,
    engine_environment,
    notified_once_each,
    promise_many,
    swept_wrongly,
)
from tickets import services
from tickets.models import (
    Interaction,
    InteractionKind,
    Notification,
    Promise,
    PromiseOutcome,
    PromiseState,
    Role,
    SweepHeartbeat,
    Ticket,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

T = TypeVar("T")


# --- Helpers ------------------------------------------------------------------------------------


def emailed_notification_ids(mail_dir: Path) -> Counter[int]:
    """How many times each notification was emailed, from the Message-IDs in the file backend's output."""
    pattern = re.compile(r"^Message-ID: <notification-(\d+)@", re.MULTILINE)
    return Counter(int(pk) for path in mail_dir.glob("*") for pk in pattern.findall(path.read_text(errors="replace")))


def notifications_by_person_and_event() -> Counter[tuple[str, str]]:
    return Counter(Notification.objects.values_list("recipient__username", "event"))


def kinds(ticket: Ticket) -> Counter[str]:
    return Counter(ticket.interactions.values_list("kind", flat=True))


# --- Fixtures -----------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _roles(transactional_db):
    """The role groups come from a data migration, which a transactional test's flush empties: restore them."""
    for name in (Role.AGENTS, Role.SUPERVISORS):
        Group.objects.get_or_create(name=name)


@pytest.fixture
def mail_dir(tmp_path) -> Path:
    return tmp_path / "mail"


@pytest.fixture
def celery_env(transactional_db, tmp_path, mail_dir) -> dict[str, str]:
    """The subprocesses' environment: the pytest database, a flushed Redis broker, a one-second sweep."""
    return engine_environment(tmp_path, mail_dir)


@pytest.fixture
def celery(celery_env, tmp_path):
    processes = CeleryProcesses(celery_env, tmp_path)
    yield processes
    processes.stop_all()  # before pytest-django flushes the database the workers are connected to


@pytest.fixture
def worker(celery):
    return celery.worker()


@pytest.fixture
def beat(celery):
    return celery.beat()


@pytest.fixture
def sweeping(celery, worker, beat):
    """Worker and beat are up: beat's sweep has reached the worker and run (its heartbeat is written)."""
    celery.wait_until(lambda: SweepHeartbeat.objects.exists(), timeout=STARTUP_TIMEOUT, message="the sweep never ran")
    return celery


@pytest.fixture
def category(category):
    """The warning window is the last four seconds before the due time, whatever the promise's span."""
    category.warn_min, category.warn_fraction = timedelta(seconds=4), 0.0
    category.save()
    return category


# --- One promise, start to finish ---------------------------------------------------------------


def test_a_promise_is_flagged_at_risk_then_broken_and_escalated_telling_each_person_once(
    sweeping, mail_dir, ticket, category, alice, bob, carol, technical
):
    services.assign(ticket, assignee=alice, by=carol)
    promise = services.make_promise(
        ticket,
        due_at=timezone.now() + timedelta(seconds=8),
        by=alice,
        words="We will have fixed the double charge within seconds.",
        reason="The refund is already approved; only the button press is left.",
    )

    at_risk = sweeping.wait_until(
        lambda: ticket.interactions.filter(kind=InteractionKind.AT_RISK).first(),
        message="the ticket was never flagged at risk",
    )
    warn_at = promise.due_at - timedelta(seconds=4)
    assert warn_at <= at_risk.created_at < promise.due_at, "flagged outside the warning window"

    sweeping.wait_until(
        lambda: Ticket.objects.filter(pk=ticket.pk, promise_state=PromiseState.BREACHED).exists(),
        message="the promise never lapsed",
    )
    ticket.refresh_from_db()
    promise.refresh_from_db()
    assert ticket.team == technical
    assert ticket.escalation_level.position == 2
    assert ticket.next_check_at is None
    assert promise.outcome == PromiseOutcome.BROKEN
    assert promise.settled_at is not None and promise.settled_at >= promise.due_at
    log = kinds(ticket)
    assert (log[InteractionKind.AT_RISK], log[InteractionKind.BREACH], log[InteractionKind.ESCALATION]) == (1, 1, 1)
    escalation = ticket.interactions.get(kind=InteractionKind.ESCALATION)
    assert escalation.data["automatic"] is True and escalation.data["to_team"] == technical.name

    expected = {
        ("alice", "assignment"): 1,
        ("alice", "at_risk"): 1,
        ("alice", "new_promise_needed"): 1,
        ("bob", "escalation"): 1,
    }
    assert notifications_by_person_and_event() == expected, sweeping.logs()

    # The outbox is drained by the worker: one email per notification, to the right person.
    sweeping.wait_until(all_notifications_emailed, message="the notification emails were never sent")
    notification_ids = set(Notification.objects.values_list("pk", flat=True))
    assert emailed_notification_ids(mail_dir) == Counter(notification_ids), sweeping.logs()
    mail = "\n".join(path.read_text(errors="replace") for path in mail_dir.glob("*"))
    staff_mail = Counter(to for to in re.findall(r"^To: (\S+)$", mail, re.MULTILINE) if to != ticket.customer.email)
    assert staff_mail == {alice.email: 3, bob.email: 1}  # the customer's own emails are another outbox


# --- A worker killed in the middle of a large sweep ---------------------------------------------

MANY = 300


def sweep_transaction_open() -> bool:
    """Whether another session holds the sweep's row locks on tickets (SELECT … FOR UPDATE) right now."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT EXISTS (
                SELECT 1 FROM pg_locks JOIN pg_stat_activity USING (pid)
                WHERE locktype = 'relation' AND relation = 'tickets_ticket'::regclass AND mode = 'RowShareLock'
                  AND datname = current_database() AND pid <> pg_backend_pid()
            )
            """
        )
        return cursor.fetchone()[0]


def test_a_worker_killed_mid_sweep_loses_nothing_and_doubles_nothing_after_a_restart(
    celery, mail_dir, dave, category, alice, bob, technical
):
    # Short task limits, alike for worker and beat: an email the killed worker was sending is in doubt (and sent
    # again) the hard limit plus 10 s after its drain began, not 100 s later.
    limits = {"TASK_SOFT_TIME_LIMIT_SECONDS": "6", "TASK_TIME_LIMIT_SECONDS": "8", "EMAIL_TIMEOUT": "2"}
    small_batches = {"PROMISE_SWEEP_BATCH_SIZE": "10", **limits}
    celery.beat(**limits)
    first_worker = celery.worker(**small_batches)
    ids = promise_many(MANY, customer=dave, category=category, rep=alice)

    # Kill once the sweep is well under way, at a moment a sweep batch holds its locks (mid-transaction).
    at_kill = celery.wait_until(
        lambda: (breached := breached_count()) >= MANY // 5 and sweep_transaction_open() and breached,
        message="the sweep never got going on the lapsed promises",
        interval=0.01,
    )
    assert at_kill < MANY, f"the sweep finished before it could be interrupted: raise MANY\n{celery.logs()}"
    celery.kill(first_worker)
    after_kill = breached_count()
    assert after_kill < MANY, f"nothing was left for the restarted worker: raise MANY\n{celery.logs()}"

    celery.worker(**small_batches)
    celery.wait_until(
        lambda: all_swept(MANY),
        message=lambda: f"the restarted worker did not finish the sweep ({breached_count()} of {MANY} breached)",
    )

    tickets = Ticket.objects.filter(pk__in=ids).annotate(
        breaches=Count("interactions", filter=Q(interactions__kind=InteractionKind.BREACH)),
        escalations=Count("interactions", filter=Q(interactions__kind=InteractionKind.ESCALATION)),
        at_risk=Count("interactions", filter=Q(interactions__kind=InteractionKind.AT_RISK)),
    )
    wrong = [
        (t.reference, t.promise_state, t.team.name, t.breaches, t.escalations, t.at_risk)
        for t in tickets.select_related("team")
        if (t.promise_state, t.team_id, t.breaches, t.escalations) != (PromiseState.BREACHED, technical.pk, 1, 1)
        or t.at_risk > 1
    ]
    assert wrong == [], f"killed at {at_kill}/{after_kill} breached; wrong tickets:\n{wrong}\n{celery.logs()}"
    assert Counter(Promise.objects.filter(ticket__in=ids).values_list("outcome", flat=True)) == {
        PromiseOutcome.BROKEN: MANY
    }

    # One notification per person per event: at risk (when the sweep saw the window), lapsed, escalated. A
    # promise the sweep first saw already lapsed has a late at-risk entry that tells nobody (the breach does).
    in_time = Interaction.objects.filter(kind=InteractionKind.AT_RISK, data__late__isnull=True)
    flagged = in_time.count()
    expected = {("alice", "new_promise_needed"): MANY, ("bob", "escalation"): MANY}
    if flagged:
        expected["alice", "at_risk"] = flagged
    assert notifications_by_person_and_event() == expected, celery.logs()
    per_ticket = Counter(Notification.objects.values_list("ticket_id", "recipient_id", "event"))
    assert set(per_ticket.values()) == {1}
    flagged_tickets = set(in_time.values_list("ticket_id", flat=True))
    warned_tickets = set(Notification.objects.filter(event="at_risk").values_list("ticket_id", flat=True))
    assert warned_tickets == flagged_tickets, "an at-risk flag without its notification, or the reverse"

    # Nothing lost from the outbox either: every notification is emailed (at least once: a crash between
    # the mail server's acceptance and the commit resends the same Message-ID, by design).
    # (one the killed worker was sending goes out again once in doubt, at the next periodic drain: every 60 s)
    celery.wait_until(all_notifications_emailed, timeout=120, message="some notification emails were never sent")
    assert set(emailed_notification_ids(mail_dir)) == set(Notification.objects.values_list("pk", flat=True))


# --- Two beats and two workers at once ----------------------------------------------------------


def test_two_beats_and_two_workers_for_a_while_double_nothing(celery, mail_dir, dave, category, alice, bob, technical):
    """Someone starts a second beat (the deployment says never to) and a second worker: every sweep is sent
    twice and two workers take them at once. Row locks (SKIP LOCKED) and the notifications' unique keys must
    keep every flag, breach, escalation, notification and email single."""
    count = 60
    for _ in range(2):
        celery.worker()
        celery.beat()
    ids = promise_many(count, customer=dave, category=category, rep=alice)
    celery.wait_until(lambda: all_swept(count), message=lambda: f"{breached_count()} of {count} breached")
    celery.wait_until(all_notifications_emailed, message="some notification emails were never sent")
    time.sleep(3)  # three more seconds of doubled sweeps and drains: nothing may move any more
    beat_logs = [log.read_text() for _, log in celery.started if log.name.startswith("beat")]
    beats_sweeping = [text for text in beat_logs if "Sending due task sweep-promises" in text]
    assert len(beats_sweeping) == 2, f"both beats must have been sending sweeps\n{celery.logs()}"

    assert swept_wrongly(ids) == [], celery.logs()
    assert set(Ticket.objects.filter(pk__in=ids).values_list("team_id", flat=True)) == {technical.pk}
    assert notified_once_each()
    emailed = emailed_notification_ids(mail_dir)
    assert set(emailed) == set(Notification.objects.values_list("pk", flat=True))
    assert set(emailed.values()) == {1}, "a notification was emailed twice"


# --- The database connection of the workers terminated ---------------------------------------------


def terminate_other_sessions() -> int:
    """pg_terminate_backend on every other session of the test database: the workers' and beat's connections."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_workers_whose_database_connections_are_cut_mid_sweep_lose_and_double_nothing(
    celery, beat, mail_dir, dave, category, alice, bob, technical
):
    small_batches = {"PROMISE_SWEEP_BATCH_SIZE": "10"}
    celery.worker(**small_batches)
    celery.worker(**small_batches)
    count = 120
    ids = promise_many(count, customer=dave, category=category, rep=alice)
    cut = 0
    celery.wait_until(lambda: breached_count() > 0, message="the sweep never reached the lapsed promises")
    while breached_count() < count and cut < 6:  # cut them again and again while the sweep works
        cut += 1 if terminate_other_sessions() else 0
        time.sleep(0.7)
    assert cut, "no worker connection was open to cut"
    celery.wait_until(
        lambda: all_swept(count), message=lambda: f"{breached_count()} of {count} breached, cut {cut} times"
    )
    celery.wait_until(all_notifications_emailed, message="some notification emails were never sent")
    assert swept_wrongly(ids) == [], f"cut {cut} times\n{celery.logs()}"
    assert notified_once_each()
    assert set(emailed_notification_ids(mail_dir)) == set(Notification.objects.values_list("pk", flat=True))
    assert all(process.poll() is None for process, _ in celery.started), "a worker or beat died of it"
