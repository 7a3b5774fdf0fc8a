"""Email leaves through an outbox: rows written in the same transaction as the change that calls for them, sent
by a worker after commit, one at a time. Nothing is lost if the broker or the mail server is down, and two drains
never send the same row.

Each row (``tickets.models.OutboxEmail``: staff ``Notification``s and ``CustomerEmail``s) moves
pending -> sending -> sent. Claiming a row, and recording how its send went, are two short transactions of
their own, with the send between them outside any transaction; so a worker that dies or is killed mid-drain
leaves behind at most the one row it was sending, never a batch to send again. That row stays "sending":
once no drain can still hold it, it is *in doubt* (the mail may or may not have left), and the next drain
counts it, logs a warning naming it, and sends it once more with the same Message-ID. A row in doubt a second
time is given up for a person to decide, as is a row whose sends failed MAX_ATTEMPTS times: the admin lists
both (and sends them again on request), and /healthz counts them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from time import monotonic
from typing import Any
from urllib.parse import urlparse

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import InterfaceError, OperationalError, connections, models, transaction
from django.db.models import Count, Q

from tickets.models import OUTBOX_OPEN_STATES, EmailState

logger = logging.getLogger(__name__)

# The most rows one drain handles; a drain also stops after settings.OUTBOX_DRAIN_SECONDS. Either way it
# re-queues itself, so a backlog drains in bounded tasks.
DRAIN_BATCH = 50
# A failed send waits before its next attempt, twice as long each time (from EMAIL_RETRY_FIRST_SECONDS, a minute
# by default, up to an hour), and the row is given up after MAX_ATTEMPTS: about a day of a mail server down.
# Counting drains instead would lose mail: every new email nudges a drain, so a busy hour of outage used up
# eight attempts in minutes.
RETRY_CAP = timedelta(hours=1)
MAX_ATTEMPTS = 30
# A drain is killed at most CELERY_TASK_TIME_LIMIT after it began (it stops itself well before). A row still
# sending after that and this margin (for the worker to notice the limit and kill) has lost its drain.
DOUBT_MARGIN = timedelta(seconds=10)


def retry_after(attempts: int) -> timedelta:
    """How long a row waits after its ``attempts``-th failure."""
    first = timedelta(seconds=settings.EMAIL_RETRY_FIRST_SECONDS)
    return min(first * 2 ** min(attempts - 1, 20), RETRY_CAP)


def in_doubt_after() -> timedelta:
    """How long after its drain began a row still "sending" is in doubt: no drain can be holding it any more."""
    return timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT) + DOUBT_MARGIN


def message_id(kind: str, pk: int) -> str:
    """The same Message-ID on every attempt, so a resend after a crash is recognisably the same mail."""
    domain = urlparse(settings.SITE_URL).hostname or "promisedesk.localhost"
    return f"<{kind}-{pk}@{domain}>"


@dataclass
class Drained:
    """What one drain did; ``more`` asks the task to queue another drain (it stopped with rows maybe left)."""

    sent: int = 0
    failed: int = 0
    skipped: int = 0  # no address: nothing to send
    in_doubt: int = 0  # found left sending by a drain that was gone: sent once more, or given up the second time
    given_up: int = 0  # given up by this drain: MAX_ATTEMPTS failures, or in doubt a second time
    more: bool = False

    def as_dict(self) -> dict[str, int | bool]:
        return asdict(self)


def drain(
    rows: models.QuerySet[Any],
    *,
    address: Callable[[Any], str],
    build: Callable[[Any], EmailMultiAlternatives],
    now: datetime,
    limit: int = DRAIN_BATCH,
) -> Drained:
    """Send due rows one at a time. Safe to run from several workers at once, and twice.

    ``now`` is the database's clock when the drain began; every time this drain writes is ``now``. The budget
    is measured on this worker's own monotonic clock, as Celery measures the limits it guards against.

    1. Stop if ``limit`` rows are handled or settings.OUTBOX_DRAIN_SECONDS have passed (``more``: re-queue).
    2. Claim the next row (``claim``) in its own transaction: the attempt is counted, the row is "sending".
       None left: stop. A row claimed from doubt is counted; one in doubt a second time is given up instead.
    3. Send it, outside any transaction, with its fixed Message-ID.
    4. Record the outcome (``settle``) in another short transaction: sent; or, on failure, pending again after
       ``retry_after``, or given up after MAX_ATTEMPTS.
    """
    result, started, handled = Drained(), monotonic(), 0
    while True:
        if handled >= limit or monotonic() - started >= settings.OUTBOX_DRAIN_SECONDS:
            result.more = True
            return result
        claimed = claim(rows, now=now)
        if claimed is None:
            return result
        row, was_in_doubt = claimed
        handled += 1
        if was_in_doubt:
            result.in_doubt += 1
        if row.email_state == EmailState.GIVEN_UP:
            result.given_up += 1
            continue
        if not address(row):
            settle(row, email_state=EmailState.NO_ADDRESS, emailed_at=now)
            result.skipped += 1
            continue
        try:
            build(row).send()
        except Exception as error:  # SMTP, DNS, timeouts, the soft time limit: tried again later
            given_up = row.email_attempts >= MAX_ATTEMPTS
            logger.warning(
                "Email %s %s failed (attempt %s%s): %s",
                row._meta.model_name,
                row.pk,
                row.email_attempts,
                ", given up" if given_up else "",
                error.__class__.__name__,
            )
            if given_up:
                settle(row, email_state=EmailState.GIVEN_UP)
                result.given_up += 1
            else:
                settle(row, email_state=EmailState.PENDING, next_attempt_at=now + retry_after(row.email_attempts))
                result.failed += 1
        else:
            settle(row, email_state=EmailState.SENT, emailed_at=now)
            result.sent += 1


def claim(rows: models.QuerySet[Any], *, now: datetime) -> tuple[Any, bool] | None:
    """Take the next row for this drain, committed at once: (the row, whether it was in doubt), or None.

    1. Pick the oldest claimable row: pending and due, or sending since before ``now - in_doubt_after()``.
       SKIP LOCKED passes over a row another drain is claiming this instant.
    2. Move it with an UPDATE conditional on the state just read (state and ``sending_since``), so that only one
       drain can win it where SKIP LOCKED does nothing (SQLite); a drain that loses picks again.
    3. A pending row, or one in doubt for the first time, becomes "sending since ``now``" with one more attempt
       counted. A row in doubt for the second time is given up, with a warning naming it, and returned so.
    """
    claimable = Q(email_state=EmailState.PENDING) & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
    claimable |= Q(email_state=EmailState.SENDING, sending_since__lt=now - in_doubt_after())
    while True:
        with transaction.atomic():
            row = rows.select_for_update(skip_locked=True, of=("self",)).filter(claimable).order_by("id").first()
            if row is None:
                return None
            was_in_doubt = row.email_state == EmailState.SENDING
            times_in_doubt = row.times_in_doubt + was_in_doubt
            give_up = was_in_doubt and times_in_doubt > 1  # in doubt before, and again: never re-sent in a loop
            changes: dict[str, Any] = (
                {"email_state": EmailState.GIVEN_UP, "sending_since": None, "times_in_doubt": times_in_doubt}
                if give_up
                else {
                    "email_state": EmailState.SENDING,
                    "sending_since": now,
                    "email_attempts": row.email_attempts + 1,
                    "times_in_doubt": times_in_doubt,
                }
            )
            as_read = {"pk": row.pk, "email_state": row.email_state, "sending_since": row.sending_since}
            won = type(row)._default_manager.filter(**as_read).update(**changes)
        if won:
            if was_in_doubt:
                logger.warning(
                    "Email %s %s in doubt (times in doubt: %s): the drain that began sending it at %s is gone, and "
                    "the mail may or may not have left; %s.",
                    row._meta.model_name,
                    row.pk,
                    times_in_doubt,
                    row.sending_since.isoformat(),
                    "given up: a person decides whether to send it again (admin)"
                    if give_up
                    else "sending it once more with the same Message-ID",
                )
            for field, value in changes.items():
                setattr(row, field, value)
            return row, was_in_doubt


def settle(row: Any, **changes: Any) -> bool:
    """Record how this drain's send went, if the row is still this drain's (its claim's ``sending_since``).

    It no longer is only if the drain ran past the time limit and another drain took the row over as in doubt;
    that drain's outcome stands, and this one is logged. A database connection lost just now (a restart, a
    failover, a cut) is tried once more on a new connection: the worker is alive and knows how the send went,
    so the row need not wait to be found in doubt.
    """
    mine = type(row)._default_manager.filter(pk=row.pk, email_state=EmailState.SENDING, sending_since=row.sending_since)
    try:
        done = mine.update(sending_since=None, **changes)
    except (OperationalError, InterfaceError) as error:
        logger.warning(
            "Lost the database while marking email %s %s %s (%s); trying once more on a new connection.",
            row._meta.model_name,
            row.pk,
            changes["email_state"],
            error.__class__.__name__,
        )
        connections[mine.db].close()
        done = mine.update(sending_since=None, **changes)
    if done:
        return True
    logger.warning(
        "Email %s %s was taken over as in doubt before this drain recorded %s.",
        row._meta.model_name,
        row.pk,
        changes["email_state"],
    )
    return False


def summary(rows: models.QuerySet[Any], *, now: datetime) -> dict[str, int]:
    """How the outbox stands, in one query over the open rows: pending (``retrying`` of them after a failure),
    sending (``in_doubt`` of them: their drain is gone) and given up (a person decides)."""
    return rows.filter(email_state__in=OUTBOX_OPEN_STATES).aggregate(
        pending=Count("pk", filter=Q(email_state=EmailState.PENDING)),
        retrying=Count("pk", filter=Q(email_state=EmailState.PENDING, email_attempts__gt=0)),
        sending=Count("pk", filter=Q(email_state=EmailState.SENDING)),
        in_doubt=Count("pk", filter=Q(email_state=EmailState.SENDING, sending_since__lt=now - in_doubt_after())),
        given_up=Count("pk", filter=Q(email_state=EmailState.GIVEN_UP)),
    )


def send_again(rows: models.QuerySet[Any]) -> int:
    """A person's decision: the given-up ``rows`` go back to pending with their attempts reset, for the next
    drain (the periodic one within a minute). Their ``times_in_doubt`` stays: in doubt again, they are given up
    again at once, never re-sent in a loop. Returns how many rows this moved."""
    return rows.filter(email_state=EmailState.GIVEN_UP).update(
        email_state=EmailState.PENDING, email_attempts=0, next_attempt_at=None
    )
