"""Celery tasks: thin, idempotent wrappers. Each reads the clock once and calls the engine.

The clock is the database's (``helpdesk.clock.database_now``), never the worker's: workers and beat may run on
machines whose clocks disagree, and a due time is a fact about the database's rows.

Every task is safe to run twice or at once from several workers: the sweep claims rows with locks and
conditional updates, notifications carry unique dedupe keys, the outbox claims each email with a
conditional update before sending it, and the estimates and figures refreshes are upserts that skip a run the
previous one made unnecessary. An uploaded history file's import is claimed from its queued state first.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery import Task, shared_task
from django.conf import settings
from django.db.models import Count, Max, Min
from django.utils import timezone

from helpdesk.clock import database_now
from tickets import customer_emails, notifications, sweep
from tickets.estimates import uploads
from tickets.estimates.refresh import refresh_estimates as refresh_estimates_at
from tickets.models import Estimate, FiguresSnapshot
from tickets.supervision.snapshots import ROLLING_DAYS, refresh_snapshots

logger = logging.getLogger(__name__)

SKEW_WARNING = timedelta(seconds=30)


@shared_task(acks_late=True)
def sweep_promises() -> dict[str, int | bool]:
    """One batch of the sweep; a full batch (or one cut short by its time budget) re-queues the task, so a
    backlog drains without waiting for beat."""
    now = database_now()
    _warn_of_clock_skew(now)
    result = sweep.sweep(now=now)
    if result.more:
        sweep_promises.delay()
    return result.as_dict()


@shared_task(acks_late=True)
def refresh_estimates() -> int:
    now = database_now()
    if _fresh(Estimate.objects.aggregate(at=Max("computed_at"))["at"], now=now, every=settings.ESTIMATES_REFRESH):
        return 0
    return refresh_estimates_at(now=now)


@shared_task(acks_late=True)
def send_notification_emails() -> dict[str, int | bool]:
    """One drain of the staff outbox; one that stopped early (its batch or its time budget) re-queues itself."""
    result = notifications.send_pending(now=database_now())
    if result.more:
        send_notification_emails.delay()
    return result.as_dict()


@shared_task(acks_late=True)
def send_customer_emails() -> dict[str, int | bool]:
    """One drain of the customer outbox, as ``send_notification_emails``."""
    result = customer_emails.send_pending(now=database_now())
    if result.more:
        send_customer_emails.delay()
    return result.as_dict()


@shared_task(acks_late=True)
def refresh_figures() -> dict[int, int]:
    """The supervisor figures for the last 7, 30 and 90 days, computed ahead: {days: milliseconds taken}."""
    now = database_now()
    # The oldest of the periods decides: a page may have just recomputed one of them, not the others.
    kept = FiguresSnapshot.objects.filter(days__in=ROLLING_DAYS).aggregate(n=Count("pk"), at=Min("computed_at"))
    if kept["n"] == len(ROLLING_DAYS) and _fresh(kept["at"], now=now, every=settings.FIGURES_REFRESH_INTERVAL):
        return {}
    return refresh_snapshots(now=now)


@shared_task(bind=True, acks_late=True, soft_time_limit=uploads.SOFT_TIME_LIMIT, time_limit=uploads.TIME_LIMIT)
def import_uploaded_history(self: Task, pk: int) -> str:
    """Import a supervisor's uploaded history file. A duplicate delivery finds it done and skips, or finds it
    running and comes back when a run that long would be lost (a worker killed mid-import: the delivery
    that follows it then takes the import over)."""
    now = database_now()
    record = uploads.run_import(pk, now=now)
    if record is not None:
        return record.state
    wait = uploads.until_lost(pk, now=now)
    if wait is not None:
        raise self.retry(countdown=wait.total_seconds() + 5, max_retries=3)
    return "skipped: not waiting to be imported (done, or not answered yet)"


def _fresh(computed_at: datetime | None, *, now: datetime, every: int) -> bool:
    """Whether a refresh that runs every ``every`` seconds ran within the last half of that: then this run is a
    duplicate (two beats, or runs that piled up while no worker was there) and is skipped. The database's
    clock decides, so it does not matter whose clock sent the task (beat's schedule has no expiry: an expiry is
    a time on beat's clock, judged on the worker's)."""
    if computed_at is None or (now - computed_at).total_seconds() >= every / 2:
        return False
    logger.info("Skipped: refreshed %d s ago, every %d s is enough.", (now - computed_at).total_seconds(), every)
    return True


_skew_reported = False


def _warn_of_clock_skew(now: datetime) -> None:
    """Say once per process when this worker's clock disagrees with the database's: nothing it decides reads
    it, but its log lines and Celery's own timers do."""
    global _skew_reported
    skew = timezone.now() - now
    if not _skew_reported and abs(skew) > SKEW_WARNING:
        _skew_reported = True
        logger.warning(
            "This worker's clock is %+.0f s off the database's; decisions use the database's clock.",
            skew.total_seconds(),
        )
