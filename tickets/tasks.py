"""Celery tasks: thin, idempotent wrappers. Each reads the clock once and calls the engine.

Every task is safe to run twice or at once from several workers: the sweep claims rows with locks and
conditional updates, notifications carry unique dedupe keys, the outbox claims each email with a
conditional update before sending it, and the estimates and figures refreshes are upserts.
"""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from helpdesk.clock import database_now
from tickets import customer_emails, notifications, promises, sweep
from tickets.supervision import figures


@shared_task(acks_late=True)
def sweep_promises() -> dict[str, int | bool]:
    """One batch of the sweep; a full batch re-queues the task so a backlog drains without waiting for beat."""
    result = sweep.sweep(now=timezone.now())
    if result.more:
        sweep_promises.delay()
    return result.as_dict()


@shared_task(acks_late=True)
def refresh_estimates() -> int:
    return promises.refresh_estimates(now=timezone.now())


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
    return figures.refresh_snapshots(now=timezone.now())
