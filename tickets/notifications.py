"""Telling people: in-app notification rows (the outbox) and the emails drained from them.

1. ``notify`` writes rows in the caller's transaction, one per (event, subject, recipient) thanks to the
   unique dedupe key, so a retried sweep or task can never notify anyone twice.
2. After commit it asks a worker to drain the outbox. If the broker is down the rows wait; the periodic
   drain picks them up when it is back.
3. ``send_pending`` emails the rows not yet emailed through ``tickets.outbox``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMultiAlternatives
from django.db.models import F, QuerySet, Value
from django.db.models.lookups import IsNull

from tickets import outbox, queue
from tickets.emails import render_email
from tickets.models import EscalationLevel, Notification, Team, Ticket
from tickets.models.rows import RowMaker, plain


def people_of(
    *, teams: Iterable[int] = (), levels: Iterable[int] = ()
) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """Who answers for each team (its active lead first, then its active members) and who each escalation level
    lists (its active people), in one query: ({team id: people}, {level id: people})."""

    def rows(query: QuerySet[Any], source: int, key: str, person: str) -> QuerySet[Any]:
        chosen = query.annotate(source=Value(source), key=F(key), person=F(person)).values_list(
            "source", "key", "person"
        )
        return chosen.order_by()  # a part of a UNION has no order of its own (SQLite refuses one)

    teams, levels = list(teams), list(levels)
    parts = [
        rows(Team.objects.filter(pk__in=teams, lead__is_active=True), 0, "pk", "lead_id"),
        rows(Team.members.through.objects.filter(team_id__in=teams, user__is_active=True), 1, "team_id", "user_id"),
        rows(EscalationLevel.notify.through.objects.filter(escalationlevel_id__in=levels, user__is_active=True), 2,
             "escalationlevel_id", "user_id"),
    ]  # fmt: skip
    by_team: dict[int, list[int]] = defaultdict(list)
    by_level: dict[int, list[int]] = defaultdict(list)
    for source, key, person in parts[0].union(*parts[1:], all=True).order_by("source", "key", "person"):
        people = by_level[key] if source == 2 else by_team[key]
        if person not in people:
            people.append(person)
    return by_team, by_level


def team_people(team_ids: Iterable[int]) -> dict[int, list[int]]:
    """The people who answer for each team (its lead first, then its active members), in one query."""
    return people_of(teams=team_ids)[0]


def level_people(level: EscalationLevel) -> list[int]:
    """Who is told when a ticket reaches a level: its listed people, else its team."""
    by_team, by_level = people_of(teams=[level.team_id], levels=[level.pk])
    return by_level[level.pk] or by_team[level.team_id]


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
    event, message = plain(event), message[:300]
    return [
        _notification(person, ticket_id, event, f"{event}:{key}:user={person}", message, now)
        for person in dict.fromkeys(recipient_ids)  # distinct, in order
    ]


_notification = RowMaker(Notification, "recipient_id", "ticket_id", "event", "dedupe_key", "message", "created_at")


def save_notifications(rows: list[Notification]) -> None:
    """Insert in the current transaction (duplicates are silently dropped), then drain after commit."""
    if rows:
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        kick_outbox()


def notify(recipient_ids: Iterable[int], *, ticket: Ticket, event: str, key: str, message: str, now: datetime) -> None:
    save_notifications(
        notification_rows(recipient_ids, ticket_id=ticket.pk, event=event, key=key, message=message, now=now)
    )


def kick_outbox() -> None:
    """Ask a worker to email the new notifications after commit; the periodic drain covers a lost nudge."""
    queue.enqueue_after_commit(queue.SEND_NOTIFICATION_EMAILS)


# --- Email -------------------------------------------------------------------------------------


def build_email(notification: Notification) -> EmailMultiAlternatives:
    ticket = notification.ticket
    context = {
        "notification": notification,
        "recipient": notification.recipient,
        "greeting_name": notification.recipient.first_name or notification.recipient.username,
        "ticket": ticket,
        "customer_name": ticket.customer.name,
        "ticket_url": f"{settings.SITE_URL}/desk/tickets/{ticket.reference}/",
    }
    rendered = render_email("notification", context)
    email = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        to=[notification.recipient.email],
        headers={"Message-ID": outbox.message_id("notification", notification.pk)},
    )
    email.attach_alternative(rendered.html, "text/html")
    return email


def send_pending(*, now: datetime, limit: int = outbox.DRAIN_BATCH) -> outbox.Drained:
    """Email up to ``limit`` unsent notifications, one at a time (see ``outbox.drain``)."""
    return outbox.drain(
        Notification.objects.select_related("recipient", "ticket__customer"),
        address=lambda notification: notification.recipient.email,
        build=build_email,
        now=now,
        limit=limit,
    )


# --- Reading one's own ----------------------------------------------------------------------------
# The desk's notifications page and the API share these, so both list and mark the same way.


def inbox(recipient: User) -> QuerySet[Notification]:
    """One's own notifications, unread first, then the newest. "Unread first" is spelled out: ordering on
    ``read_at`` ascending would put them last (PostgreSQL sorts nulls after every value)."""
    unread = IsNull(F("read_at"), True)
    return Notification.objects.filter(recipient=recipient).order_by(unread.desc(), "-created_at", "-id")


def mark_read(pk: int, *, recipient: User, now: datetime) -> bool:
    """Mark one of ``recipient``'s notifications read; True if this call did. Conditional, so marking it
    twice keeps the first time it was read, and someone else's is never touched."""
    unread = Notification.objects.filter(pk=pk, recipient=recipient, read_at__isnull=True)
    return bool(unread.update(read_at=now))


def mark_all_read(*, recipient: User, now: datetime) -> int:
    """Mark all of ``recipient``'s unread notifications read, in one UPDATE; returns how many."""
    return Notification.objects.filter(recipient=recipient, read_at__isnull=True).update(read_at=now)
