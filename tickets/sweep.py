"""The sweep: flag promises entering their warning window, break and escalate lapsed ones.

Healthchecks' design: each ticket stores the next moment the sweep must look at it (``next_check_at``,
kept by the services whenever a promise or status changes), and a partial index holds only tickets
that can still change state, so a sweep costs what is due, not what exists.

One run handles up to a batch of due tickets, in chunks of at most ``CHUNK``, each chunk its own transaction:

1. Take the chunk's due rows in time order, locking them with SKIP LOCKED: concurrent sweeps (two beats,
   several workers, a redelivered task) split the work instead of doubling it, and a row a service is
   changing right now is left for the next sweep.
2. Re-check each with the same Python the UI uses (``promise_rules.state_at``). The lock was taken on the
   row as it is now, so a promise changed since an earlier read is judged on its new time.
3. Write through the set services of ``services.lapses``: flag the ones at risk, break and escalate the lapsed
   ones, look at the rest again later; a fixed number of statements per chunk, however many tickets.
   The breaches run in a savepoint: if they fail, each ticket is tried alone, and one that fails alone is
   looked at again after ``BREACH_RETRY_DELAY``, so one bad row cannot block the rest.
4. The run stops when its time budget (``PROMISE_SWEEP_BUDGET_SECONDS``, well inside the task's time limit)
   is spent, checked before each chunk; a run whose budget is spent before it starts takes one row, so every
   run progresses. The first chunk takes what the budget holds at a slow database's pace (``SLOW_ROW``: 10 ms
   a log entry, as tests/e2e has it), at most ``FIRST_CHUNK`` rows; its time per row sizes the next ones to
   the budget left (at most ``CHUNK`` rows), so a chunk ends within the budget whether the database is fast
   (a batch of 500 in one chunk) or slow (chunks shrink, and the run stops when not one row fits). On the
   default budget (30 s, half the task's soft limit) a first chunk of 500 takes 15 s at that pace: within the
   budget on a database up to twice as slow, within the soft limit up to four times.
   Each chunk commits what it did, and the rows it did not reach stay due: a run killed by the task's time
   limit loses one chunk at most.
5. Record the heartbeat. A full batch, or a run cut short by its budget, means more may be due: the task
   re-queues itself.

``now`` is the database's clock (``helpdesk.clock``), read once by the task: a worker whose own clock runs
fast must not breach anything early.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

from tickets.models import PromiseState, SweepHeartbeat, Ticket, reference_of
from tickets.promise_rules import RUNNING, next_check_at, state_at
from tickets.services.lapses import flag_at_risk, look_again, record_breaches

logger = logging.getLogger(__name__)

HEARTBEAT = "promises"
BREACH_RETRY_DELAY = timedelta(minutes=1)
CHUNK = 500  # rows per transaction at most: what a run killed mid-way can lose
FIRST_CHUNK = 500  # rows of a run's first chunk at most, whose time per row sizes the next ones to the budget left
# A row's time on a slow database, three log entries of 10 ms (tests/e2e): the first chunk takes what the budget
# holds at this pace, so it ends within the budget before any pace is known (100 rows for 3 s, 500 for 15 s).
SLOW_ROW = 0.03


@dataclass
class SweepResult:
    looked_at: int = 0
    at_risk: int = 0
    breached: int = 0
    rescheduled: int = 0
    more: bool = False

    def as_dict(self) -> dict[str, int | bool]:
        return asdict(self)


def sweep(*, now: datetime, batch_size: int | None = None, budget_seconds: float | None = None) -> SweepResult:
    """Handle up to a batch of due tickets at ``now``, within a time budget (see the module docstring)."""
    batch_size = batch_size or settings.PROMISE_SWEEP_BATCH_SIZE
    budget = settings.PROMISE_SWEEP_BUDGET_SECONDS if budget_seconds is None else budget_seconds
    started = time.monotonic()
    deadline = started + budget
    result = SweepResult()
    limit = 1 if started >= deadline else max(1, min(FIRST_CHUNK, CHUNK, batch_size, int(budget / SLOW_ROW)))
    while True:
        chunk_started = time.monotonic()
        if _sweep_chunk(result, now=now, limit=limit) < limit:  # nothing more is due
            break
        finished = time.monotonic()
        # the rows the budget left has room for, at this chunk's pace (whose fixed costs make it a cautious one)
        room = int((deadline - finished) / max(finished - chunk_started, 1e-6) * limit)
        limit = min(CHUNK, batch_size - result.looked_at, room)
        if limit < 1:
            result.more = True  # a full batch, or the budget spent: more may be due
            break
    _beat(result, now=now, started=started)
    return result


def _sweep_chunk(result: SweepResult, *, now: datetime, limit: int) -> int:
    """One transaction: lock up to ``limit`` due rows, judge them and write (steps 1-3). Returns how many rows
    it looked at."""
    with _no_collector_passes(), transaction.atomic():
        _prefer_ordered_index_scan()
        rows = list(
            Ticket.objects.due_for_check(now)
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("id", "promise_state", "promise_due_at", "promise_warn_at", "paused_at")[:limit]
        )
        at_risk, breached, later = [], [], []
        for pk, state, due_at, warn_at, paused_at in rows:
            new_state = state
            if state in RUNNING and paused_at is None and due_at is not None and warn_at is not None:
                new_state = state_at(due_at=due_at, warn_at=warn_at, now=now)
            if new_state == PromiseState.BREACHED and state != PromiseState.BREACHED:
                breached.append(pk)
            elif new_state == PromiseState.AT_RISK and state == PromiseState.ON_TRACK:
                at_risk.append(pk)
            else:  # nothing to flag (yet): look again when it is really due
                later.append(
                    (pk, next_check_at(state=state, due_at=due_at, warn_at=warn_at, paused=paused_at is not None))
                )
        result.looked_at += len(rows)
        result.at_risk += flag_at_risk(at_risk, now=now)
        result.rescheduled += len(later)
        failed = _breach(breached, result, now=now)
        look_again(later + [(pk, now + BREACH_RETRY_DELAY) for pk in failed])
    return len(rows)


def _breach(ids: list[int], result: SweepResult, *, now: datetime) -> list[int]:
    """Break these lapsed promises together; if that fails, each alone. Returns the ones that failed alone."""
    if not ids:
        return []
    try:
        with transaction.atomic():
            result.breached += record_breaches(ids, now=now)
        return []
    except Exception:
        logger.exception("Breaching %d tickets together failed; trying each alone", len(ids))
    failed = []
    for pk in ids:
        try:
            with transaction.atomic():
                result.breached += record_breaches([pk], now=now)
        except Exception:
            # Logged loudly and retried later, but behind the rest of the backlog: a ticket that keeps failing
            # must not take every batch (and re-queue the sweep forever) while other promises lapse unseen.
            logger.exception("Breach handling failed for ticket %s; retrying in %s", pk, BREACH_RETRY_DELAY)
            failed.append(pk)
    return failed


@contextmanager
def _no_collector_passes() -> Iterator[None]:
    """Python's cyclic garbage collector paused for a chunk, which builds thousands of rows (model instances)
    that live until it ends and are then freed by reference counting: the collector's passes over them found
    nothing to free, and the rows they promoted to its oldest generation set off a full pass over the whole
    process every few chunks (40 ms each, a sixth of a chunk of 500). The pause ends with the chunk, and the
    collector resumes as it was (docs/benchmarks.md, Sweep)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _prefer_ordered_index_scan() -> None:
    """Walk ``ticket_due_check_idx`` in order instead of a bitmap scan plus sort (PostgreSQL only).

    An ordered index scan stops at the batch's LIMIT instead of sorting the whole backlog, and it marks
    the index entries of rows that moved on (their old ``next_check_at``) as dead as it passes them,
    which a bitmap scan never does: without this, idle sweeps at a million tickets grew slower and slower
    as dead entries piled up between vacuums (docs/benchmarks.md).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_bitmapscan = off")


def _beat(result: SweepResult, *, now: datetime, started: float) -> None:
    SweepHeartbeat.objects.bulk_create(
        [
            SweepHeartbeat(
                name=HEARTBEAT,
                last_run_at=now,
                looked_at=result.looked_at,
                changed=result.at_risk + result.breached,
                duration_ms=round((time.monotonic() - started) * 1000),
            )
        ],
        update_conflicts=True,
        unique_fields=["name"],
        update_fields=["last_run_at", "looked_at", "changed", "duration_ms"],
    )


# --- Is anyone watching? -----------------------------------------------------------------------


def last_beat() -> SweepHeartbeat | None:
    """The sweeper's latest heartbeat, or None if it has never run."""
    return SweepHeartbeat.objects.filter(name=HEARTBEAT).first()


def is_stale(beat: SweepHeartbeat | None, *, now: datetime) -> bool:
    """A sweeper silent for three intervals has stalled: promises are not being watched."""
    return beat is None or (now - beat.last_run_at).total_seconds() > 3 * settings.PROMISE_SWEEP_INTERVAL


def behind(*, now: datetime) -> tuple[str, float] | None:
    """The promise that lapsed longest ago and is not yet breached, as (reference, seconds since it lapsed), or
    None. A fresh heartbeat alone does not prove the sweep keeps up: empty sweeps beside one that keeps failing
    beat just as often. Read from ``ticket_due_check_idx``, as far as the rows due within ``BREACH_RETRY_DELAY``:
    a breach that failed is looked at again that much later, and it must not drop out of sight meanwhile."""
    row = (
        Ticket.objects.filter(next_check_at__lte=now + BREACH_RETRY_DELAY)
        .filter(promise_state__in=RUNNING, paused_at__isnull=True, promise_due_at__lte=now)
        .order_by("promise_due_at")
        .values_list("pk", "promise_due_at")
        .first()
    )
    if row is None:
        return None
    pk, due_at = row
    assert due_at is not None  # filtered on it
    return reference_of(pk), (now - due_at).total_seconds()


def is_behind(lapse: tuple[str, float] | None) -> bool:
    """A promise lapsed three intervals ago and still unbroken: the sweep is not keeping up."""
    return lapse is not None and lapse[1] > 3 * settings.PROMISE_SWEEP_INTERVAL
