"""Telling people: in-app notification rows (the outbox) and the emails drained from them.

1. ``notify`` writes rows in the caller's transaction, one per (event, subject, recipient) thanks to the
   unique dedupe key, so a retried sweep or task can never notify anyone twice.
2. After commit it asks a worker to drain the outbox. If the broker is down the rows wait; the periodic
   drain picks them up when it is back.
3. ``send_pending`` emails the rows not yet emailed, each with a stable Message-ID, marking each as sent
   only after the mail server took it; a failure leaves the row for the next drain (at most MAX_ATTEMPTS).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from urllib.parse import urlparse

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string

from tickets.models import EscalationLevel, Notification, Team, Ticket

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
DRAIN_BATCH = 50


def team_people(team_ids: Iterable[int]) -> dict[int, list[int]]:
    """The people who answer for each team (its lead first, then its active members), in two queries."""
    people: dict[int, list[int]] = defaultdict(list)
    leads = Team.objects.filter(pk__in=team_ids, lead__is_active=True).values_list("pk", "lead_id")
    members = (
        Team.members.through.objects.filter(team_id__in=team_ids, user__is_active=True)
        .order_by("user_id")
        .values_list("team_id", "user_id")
    )
    for team_id, user_id in [*leads, *members]:
        if user_id not in people[team_id]:
            people[team_id].append(user_id)
    return people


def level_people(level: EscalationLevel) -> list[int]:
    """Who is told when a ticket reaches a level: its listed people, else its team."""
    listed = list(level.notify.filter(is_active=True).values_list("pk", flat=True))
    return listed or team_people([level.team_id])[level.team_id]


def pick_owners(*, assignee_id: int | None, assignee_active: bool, team: list[int]) -> list[int]:
    """Who answers for a ticket now: its (active) assignee, else its team."""
    return [assignee_id] if assignee_id is not None and assignee_active else team


def owners(ticket: Ticket) -> list[int]:
    assignee_active = ticket.assignee is not None and ticket.assignee.is_active
    team = [] if assignee_active else team_people([ticket.team_id])[ticket.team_id]
    return pick_owners(assignee_id=ticket.assignee_id, assignee_active=assignee_active, team=team)


def notification_rows(
    recipient_ids: Iterable[int], *, ticket_id: int, event: str, key: str, message: str, now: datetime
) -> list[Notification]:
    """Unsaved rows, one per distinct recipient; ``key`` names what happened (e.g. ``promise=17``)."""
    return [
        Notification(
            recipient_id=person,
            ticket_id=ticket_id,
            event=event,
            dedupe_key=f"{event}:{key}:user={person}",
            message=message[:300],
            created_at=now,
        )
        for person in dict.fromkeys(recipient_ids)  # distinct, in order
    ]


def save_notifications(rows: list[Notification]) -> None:
    """Insert in the current transaction (duplicates are silently dropped), then drain after commit."""
    if rows:
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        # One nudge per transaction, however many notifications it wrote (a sweep batch writes hundreds).
        if not any(callback is kick_outbox for _, callback, _ in transaction.get_connection().run_on_commit):
            transaction.on_commit(kick_outbox)


def notify(recipient_ids: Iterable[int], *, ticket: Ticket, event: str, key: str, message: str, now: datetime) -> None:
    save_notifications(
        notification_rows(recipient_ids, ticket_id=ticket.pk, event=event, key=key, message=message, now=now)
    )


def kick_outbox() -> None:
    """Ask a worker to send the emails now; if the broker is unreachable, the periodic drain will."""
    from tickets.tasks import send_notification_emails

    try:
        send_notification_emails.delay()
    except Exception:  # the rows are safe in the database; only the nudge is lost
        logger.warning("Could not enqueue the notification outbox drain; the periodic drain will send them.")


# --- Email -------------------------------------------------------------------------------------


def message_id(notification: Notification) -> str:
    """The same Message-ID on every attempt, so a resend after a crash is recognisably the same mail."""
    domain = urlparse(settings.SITE_URL).hostname or "promisedesk.localhost"
    return f"<notification-{notification.pk}@{domain}>"


def build_email(notification: Notification) -> EmailMultiAlternatives:
    ticket = notification.ticket
    context = {
        "notification": notification,
        "recipient": notification.recipient,
        "greeting_name": notification.recipient.first_name or notification.recipient.username,
        "ticket": ticket,
        "customer_name": ticket.customer.name,
        "ticket_url": f"{settings.SITE_URL}/admin/tickets/ticket/{ticket.pk}/change/",
    }
    subject = " ".join(render_to_string("emails/notification-subject.txt", context).split())
    email = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("emails/notification-body.txt", context),
        to=[notification.recipient.email],
        headers={"Message-ID": message_id(notification)},
    )
    email.attach_alternative(render_to_string("emails/notification-body.html", context), "text/html")
    return email


def send_pending(*, now: datetime, limit: int = DRAIN_BATCH) -> dict[str, int]:
    """Email up to ``limit`` unsent notifications; returns counts. Safe to run from several workers at once.

    Rows are locked with SKIP LOCKED, so two drains never take the same row; a row is marked sent only
    after the mail server accepted it, so a crash in between resends it (same Message-ID) rather than loses it.
    """
    sent = failed = skipped = 0
    with transaction.atomic():
        batch = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(emailed_at__isnull=True, email_attempts__lt=MAX_ATTEMPTS)
            .select_related("recipient", "ticket__customer")
            .order_by("id")[:limit]
        )
        for notification in batch:
            notification.email_attempts += 1
            if not notification.recipient.email:
                skipped += 1  # in-app only: nothing to send, nothing to retry
                notification.emailed_at = now
            else:
                try:
                    build_email(notification).send()
                except Exception as error:  # SMTP, DNS, timeouts: retried by the next drain
                    failed += 1
                    logger.warning(
                        "Email for notification %s failed (attempt %s): %s",
                        notification.pk,
                        notification.email_attempts,
                        error.__class__.__name__,
                    )
                else:
                    sent += 1
                    notification.emailed_at = now
            notification.save(update_fields=["email_attempts", "emailed_at"])
    return {"sent": sent, "failed": failed, "skipped": skipped}
