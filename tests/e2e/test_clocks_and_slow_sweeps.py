"""The sweeper when clocks disagree and the database is slow (issue #17, points 10-13), with real processes.

- A worker whose clock runs five minutes fast breaks no promise early: due times are judged by the database's
  clock (libfaketime skews the worker's own).
- A beat whose clock runs five minutes behind still gets every sweep run: no periodic task expires.
- 300 promises lapsing at once on a database that takes 10 ms for every log entry, with task time limits of
  6 s (soft) and 8 s (hard): every run commits what it did within its budget, so every promise is broken and
  escalated once, instead of a batch killed by the limit and rolled back again and again.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.db import connection

from helpdesk.clock import database_now
from tests.e2e.engine import (
    CeleryProcesses,
    all_swept,
    breached_count,
    clock_off_by,
    engine_environment,
    promise_many,
    swept_wrongly,
)
from tickets import services
from tickets.models import InteractionKind, PromiseState, Role, SweepHeartbeat, Ticket

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _roles(transactional_db):
    """The role groups come from a data migration, which a transactional test's flush empties: restore them."""
    for name in (Role.AGENTS, Role.SUPERVISORS):
        Group.objects.get_or_create(name=name)


@pytest.fixture
def category(category):
    """The warning window is the last four seconds before the due time, whatever the promise's span."""
    category.warn_min, category.warn_fraction = timedelta(seconds=4), 0.0
    category.save()
    return category


@pytest.fixture
def celery(tmp_path: Path):
    processes = CeleryProcesses(engine_environment(tmp_path, tmp_path / "mail"), tmp_path)
    yield processes
    processes.stop_all()  # before pytest-django flushes the database the workers are connected to


def promise_in(ticket: Ticket, seconds: int, *, by) -> Ticket:
    services.assign(ticket, assignee=by, by=by)
    now = database_now()
    services.make_promise(ticket, due_at=now + timedelta(seconds=seconds), by=by, words="Very soon.",
                          reason="The fix is ready to go.", now=now)  # fmt: skip
    ticket.refresh_from_db()
    return ticket


def test_a_worker_whose_clock_runs_five_minutes_fast_breaks_no_promise_early(celery, ticket, alice):
    celery.worker(**clock_off_by("+5m"))
    celery.beat()
    ticket = promise_in(ticket, 20, by=alice)
    due_at, warn_at = ticket.promise_due_at, ticket.promise_warn_at

    # sweeps run (by the database's clock, their heartbeats say when) while the promise is still on track...
    celery.wait_until(
        lambda: SweepHeartbeat.objects.filter(last_run_at__gte=warn_at - timedelta(seconds=10)).exists(),
        timeout=60,
        message="no sweep ran",
    )
    ticket.refresh_from_db()
    assert ticket.promise_state == PromiseState.ON_TRACK, "flagged or broken early, by the worker's fast clock"

    # ...and the promise is flagged, then broken, when the database's clock says so, and logged at that time
    celery.wait_until(
        lambda: Ticket.objects.filter(pk=ticket.pk, promise_state=PromiseState.BREACHED).exists(),
        timeout=60,
        message="the promise never lapsed",
    )
    at_risk = ticket.interactions.get(kind=InteractionKind.AT_RISK)
    breach = ticket.interactions.get(kind=InteractionKind.BREACH)
    assert warn_at <= at_risk.created_at < due_at
    assert due_at <= breach.created_at < due_at + timedelta(seconds=10)
    assert "clock is +300 s off the database's" in celery.logs() or "clock is +299 s" in celery.logs()


def test_a_beat_whose_clock_runs_five_minutes_behind_still_gets_every_sweep_run(celery, ticket, alice):
    celery.worker()
    celery.beat(**clock_off_by("-5m"))
    ticket = promise_in(ticket, 8, by=alice)

    celery.wait_until(
        lambda: Ticket.objects.filter(pk=ticket.pk, promise_state=PromiseState.BREACHED).exists(),
        timeout=60,
        message="the promise never lapsed: beat's sweeps were dropped",
    )
    assert "Dropped" not in celery.logs()


SLOW_LOG = """
CREATE FUNCTION slow_interaction_insert() RETURNS trigger AS $$
BEGIN PERFORM pg_sleep(0.01); RETURN NEW; END; $$ LANGUAGE plpgsql;
CREATE TRIGGER slow_interaction_insert BEFORE INSERT ON tickets_interaction
    FOR EACH ROW EXECUTE FUNCTION slow_interaction_insert();
"""


@pytest.fixture
def slow_log():
    """A database that takes 10 ms more for every log entry written (only while the test runs)."""
    yield lambda: _run(SLOW_LOG)
    _run("DROP TRIGGER IF EXISTS slow_interaction_insert ON tickets_interaction;"
         "DROP FUNCTION IF EXISTS slow_interaction_insert();")  # fmt: skip


def _run(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


MANY = 300


def test_many_promises_lapsing_at_once_on_a_slow_database_are_all_broken_in_runs_that_commit(
    celery, slow_log, dave, category, alice
):
    ids = promise_many(MANY, customer=dave, category=category, rep=alice)
    slow_log()
    limits = {"TASK_SOFT_TIME_LIMIT_SECONDS": "6", "TASK_TIME_LIMIT_SECONDS": "8", "EMAIL_TIMEOUT": "2"}
    celery.worker(**limits)
    celery.beat(**limits)

    # a run breaks what its 3 s budget allows and commits it: the count of broken promises climbs
    celery.wait_until(lambda: 0 < breached_count() < MANY, timeout=60, message="no run committed a breach")
    celery.wait_until(lambda: all_swept(MANY), timeout=180, message=lambda: f"{breached_count()} of {MANY} broken")

    assert swept_wrongly(ids) == []
    logs = celery.logs()
    assert "TimeLimitExceeded" not in logs and "SoftTimeLimitExceeded" not in logs
