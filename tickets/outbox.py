"""Email leaves through an outbox: rows written in the same transaction as the change that calls for them,
sent by a worker after commit. Nothing is lost if the broker or the mail server is down, and nothing is
sent twice by two workers; a crash between sending and marking sends it again with the same Message-ID.

Two kinds of row use it: staff ``Notification``s and ``CustomerEmail``s.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import models, transaction

logger = logging.getLogger(__name__)

DRAIN_BATCH = 50
# A failed send waits before its next attempt, twice as long each time (from EMAIL_RETRY_FIRST_SECONDS, a minute
# by default, up to an hour), and the row is given up after MAX_ATTEMPTS: about a day of a mail server down.
# Counting drains instead would lose mail: every new email nudges a drain, so a busy hour of outage used up
# eight attempts in minutes.
RETRY_CAP = timedelta(hours=1)
MAX_ATTEMPTS = 30


def retry_after(attempts: int) -> timedelta:
    """How long a row waits after its ``attempts``-th failure."""
    first = timedelta(seconds=settings.EMAIL_RETRY_FIRST_SECONDS)
    return min(first * 2 ** min(attempts - 1, 20), RETRY_CAP)


def message_id(kind: str, pk: int) -> str:
    """The same Message-ID on every attempt, so a resend after a crash is recognisably the same mail."""
    domain = urlparse(settings.SITE_URL).hostname or "promisedesk.localhost"
    return f"<{kind}-{pk}@{domain}>"


def nudge(task: Any) -> None:
    """After this transaction commits, ask a worker to drain (once per transaction, however many rows)."""

    def enqueue() -> None:
        try:
            task.delay()
        except Exception:  # the rows are safe in the database; only the nudge is lost
            logger.warning("Could not enqueue %s; the periodic drain will send the emails.", task.name)

    enqueue.task = task  # type: ignore[attr-defined]
    pending = transaction.get_connection().run_on_commit
    if not any(getattr(callback, "task", None) is task for _, callback, _ in pending):
        transaction.on_commit(enqueue)


def drain(
    rows: models.QuerySet[Any],
    *,
    address: Callable[[Any], str],
    build: Callable[[Any], EmailMultiAlternatives],
    now: datetime,
    limit: int = DRAIN_BATCH,
) -> dict[str, int]:
    """Send up to ``limit`` unsent rows; returns counts. Safe to run from several workers at once.

    1. Lock a batch with SKIP LOCKED: two drains never take the same row.
    2. Send each; mark it sent only after the mail server accepted it.
    3. A failure counts an attempt and sets when the row may be tried again (``retry_after``); a row is given
       up after MAX_ATTEMPTS.
    """
    sent = failed = skipped = 0
    with transaction.atomic():
        batch = list(
            rows.select_for_update(skip_locked=True, of=("self",))
            .filter(emailed_at__isnull=True, email_attempts__lt=MAX_ATTEMPTS)
            .filter(models.Q(next_attempt_at__isnull=True) | models.Q(next_attempt_at__lte=now))
            .order_by("id")[:limit]
        )
        for row in batch:
            row.email_attempts += 1
            if not address(row):
                skipped += 1  # nowhere to send it: nothing to retry
                row.emailed_at = now
            else:
                try:
                    build(row).send()
                except Exception as error:  # SMTP, DNS, timeouts: retried later
                    failed += 1
                    row.next_attempt_at = now + retry_after(row.email_attempts)
                    logger.warning(
                        "Email %s %s failed (attempt %s): %s",
                        row._meta.model_name,
                        row.pk,
                        row.email_attempts,
                        error.__class__.__name__,
                    )
                else:
                    sent += 1
                    row.emailed_at = now
            row.save(update_fields=["email_attempts", "emailed_at", "next_attempt_at"])
    return {"sent": sent, "failed": failed, "skipped": skipped}
