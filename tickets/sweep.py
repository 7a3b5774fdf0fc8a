"""The sweep: flag promises entering their warning window, break and escalate lapsed ones.

Healthchecks' design: each ticket stores the next moment the sweep must look at it (``next_check_at``,
kept by the services whenever a promise or status changes), and a partial index holds only tickets
that can still change state, so a sweep costs what is due, not what exists.

1. Take up to a batch of due rows in time order, locking them with SKIP LOCKED: concurrent sweeps
   (two beats, several workers, a redelivered task) split the work instead of doubling it, and a row
   a service is changing right now is left for the next sweep.
2. Re-check each with the same Python the UI uses (``promises.state_at``). The lock was taken on the
   row as it is now, so a promise changed since an earlier read is judged on its new time.
3. At-risk flags are set-based: one UPDATE, then the Interaction and Notification rows in bulk, all in
   the same transaction: a constant number of queries per batch.
4. Breaches have per-ticket side effects (escalation along the ticket's own path) and go through the
   same service as a manual escalation, each in a savepoint so one bad row cannot block the rest.
5. Record the heartbeat. A full batch means more may be due: the task re-queues itself.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, DateTimeField, F, Value, When

from tickets.models import (
    REFERENCE_OFFSET,
    REFERENCE_PREFIX,
    Author,
    Interaction,
    InteractionKind,
    NotificationEvent,
    Promise,
    PromiseState,
    SweepHeartbeat,
    Ticket,
    ticket_writes,
)
from tickets.notifications import notification_rows, pick_owners, save_notifications, team_people
from tickets.promises import humanize_duration, next_check_at, state_at
from tickets.services.handoff import record_breach

logger = logging.getLogger(__name__)

HEARTBEAT = "promises"
BREACH_RETRY_DELAY = timedelta(minutes=1)
RUNNING = (PromiseState.ON_TRACK, PromiseState.AT_RISK)


@dataclass
class SweepResult:
    looked_at: int = 0
    at_risk: int = 0
    breached: int = 0
    rescheduled: int = 0
    more: bool = False

    def as_dict(self) -> dict[str, int | bool]:
        return asdict(self)


def sweep(*, now: datetime, batch_size: int | None = None) -> SweepResult:
    """Handle one batch of due tickets at ``now`` (see the module docstring for the steps)."""
    batch_size = batch_size or settings.PROMISE_SWEEP_BATCH_SIZE
    started = time.monotonic()
    result = SweepResult()
    with transaction.atomic(), ticket_writes():
        _prefer_ordered_index_scan()
        rows = list(
            Ticket.objects.due_for_check(now)
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("id", "promise_state", "promise_due_at", "promise_warn_at", "paused_at")[:batch_size]
        )
        result.looked_at, result.more = len(rows), len(rows) == batch_size
        at_risk, breached, reschedule = [], [], []
        for pk, state, due_at, warn_at, paused_at in rows:
            new_state = state
            if state in RUNNING and paused_at is None and due_at is not None and warn_at is not None:
                new_state = state_at(due_at=due_at, warn_at=warn_at, now=now)
            if new_state == PromiseState.BREACHED and state != PromiseState.BREACHED:
                breached.append(pk)
            elif new_state == PromiseState.AT_RISK and state == PromiseState.ON_TRACK:
                at_risk.append(pk)
            else:  # nothing to flag (yet): look again when it is really due
                nxt = next_check_at(state=state, due_at=due_at, warn_at=warn_at, paused=paused_at is not None)
                reschedule.append((pk, nxt))
        result.at_risk = _flag_at_risk(at_risk, now=now)
        result.breached = sum(_breach(pk, now=now) for pk in breached)
        if reschedule:
            Ticket.objects.filter(pk__in=[pk for pk, _ in reschedule]).update(
                next_check_at=Case(
                    *(When(pk=pk, then=Value(nxt, output_field=DateTimeField())) for pk, nxt in reschedule)
                )
            )
        result.rescheduled = len(reschedule)
        _beat(result, now=now, started=started)
    return result


def _prefer_ordered_index_scan() -> None:
    """Walk ``ticket_due_check_idx`` in order instead of a bitmap scan plus sort (PostgreSQL only).

    An ordered index scan stops at the batch's LIMIT instead of sorting the whole backlog, and it marks
    the index entries of rows that moved on (their old ``next_check_at``) as dead as it passes them,
    which a bitmap scan never does: without this, an idle sweep slowed from 3 ms to 145 ms at a million
    tickets as dead entries piled up between vacuums (docs/benchmarks.md).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_bitmapscan = off")


def _flag_at_risk(ids: list[int], *, now: datetime) -> int:
    """Flag these (locked, re-checked) tickets at risk and tell their owners: a fixed number of queries.

    Reads plain values rather than model instances: a burst flags thousands of tickets at once.
    """
    if not ids:
        return 0
    Ticket.objects.filter(pk__in=ids).update(
        promise_state=PromiseState.AT_RISK, next_check_at=F("promise_due_at"), updated_at=now
    )
    rows = list(
        Ticket.objects.filter(pk__in=ids).values_list(
            "pk", "promise_due_at", "customer__name", "assignee_id", "assignee__is_active", "team_id"
        )
    )
    promise_of = dict(
        Promise.objects.filter(ticket_id__in=ids, outcome=Promise.Outcome.PENDING).values_list("ticket_id", "id")
    )
    unowned = {team_id for _, _, _, assignee_id, active, team_id in rows if not (assignee_id and active)}
    people = team_people(unowned) if unowned else {}
    entries, notices = [], []
    for pk, due_at, customer_name, assignee_id, active, team_id in rows:
        assert due_at is not None  # at risk means promised
        due_in = humanize_duration(due_at - now)
        entries.append(
            Interaction(
                ticket_id=pk,
                kind=InteractionKind.AT_RISK,
                author_kind=Author.SYSTEM,
                customer_name=customer_name,
                body=f"The promise is due in {due_in}.",
                is_public=False,
                data={"promise": promise_of.get(pk), "due_at": due_at.isoformat()},
                created_at=now,
            )
        )
        notices += notification_rows(
            pick_owners(assignee_id=assignee_id, assignee_active=bool(active), team=people.get(team_id, [])),
            ticket_id=pk,
            event=NotificationEvent.AT_RISK,
            key=f"promise={promise_of.get(pk)}",
            message=f"The promise to {customer_name} on {REFERENCE_PREFIX}{pk + REFERENCE_OFFSET} is due in {due_in}.",
            now=now,
        )
    Interaction.objects.bulk_create(entries)
    save_notifications(notices)
    return len(rows)


def _breach(pk: int, *, now: datetime) -> bool:
    ticket = Ticket.objects.select_related("customer", "assignee", "team", "escalation_level__team").get(pk=pk)
    try:
        with transaction.atomic():
            record_breach(ticket, now=now)
            ticket.save()
    except Exception:
        # Logged loudly and retried later, but behind the rest of the backlog: a ticket that keeps failing
        # must not take every batch (and re-queue the sweep forever) while other promises lapse unseen.
        logger.exception("Breach handling failed for ticket %s; retrying in %s", pk, BREACH_RETRY_DELAY)
        Ticket.objects.filter(pk=pk).update(next_check_at=now + BREACH_RETRY_DELAY)
        return False
    return True


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
