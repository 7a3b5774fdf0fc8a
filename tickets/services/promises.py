"""Making and keeping promises: make_promise, and the promise clock's reaction to status moves."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils import timezone

from tickets.customer_emails import queue_customer_email
from tickets.models import InteractionKind, Promise, PromiseState, Ticket, TicketStatus
from tickets.promises import Overpromise, judge, next_check_at, state_at, validate_due, warning_window
from tickets.services.base import lock, record, require_staff, require_text, ticket_service

RUNNING = (PromiseState.ON_TRACK, PromiseState.AT_RISK)


def pending_promise(ticket: Ticket) -> Promise | None:
    return ticket.promises.filter(outcome=Promise.Outcome.PENDING).first()


def schedule(ticket: Ticket, *, now: datetime) -> None:
    """Set the ticket's promise state and next sweep look from its due and warning times, at ``now``."""
    if ticket.promise_due_at is None or ticket.promise_warn_at is None:
        ticket.next_check_at = None
        return
    if ticket.paused_at is None:
        ticket.promise_state = state_at(due_at=ticket.promise_due_at, warn_at=ticket.promise_warn_at, now=now)
    ticket.next_check_at = next_check_at(
        state=ticket.promise_state,
        due_at=ticket.promise_due_at,
        warn_at=ticket.promise_warn_at,
        paused=ticket.paused_at is not None,
    )


@ticket_service
def make_promise(
    ticket: Ticket,
    *,
    due_at: datetime,
    by: User,
    words: str,
    reason: str = "",
    change_reason: str = "",
    now: datetime | None = None,
) -> Promise:
    """Promise the customer a resolution time, or change the promise made.

    1. Check the time: in the future, within the horizon, aware.
    2. A change needs a reason the customer will read; the old promise is superseded.
    3. The overpromise guard judges the time; sooner than the estimate needs a written reason
       (``Overpromise`` carries the verdict otherwise), stored on the promise.
    4. The ticket's promise fields and next sweep look are set; the log says what was promised.
    The promise comes back with the guard's ``verdict`` on it, for the caller to show.
    """
    now = now or timezone.now()
    require_staff(by)
    words = require_text(words, field="words", message="Write the promise as you will say it to the customer.")
    validate_due(due_at, now=now)
    lock(ticket)
    if not ticket.is_open:
        raise ValidationError({"due_at": f"{ticket.reference} is {ticket.get_status_display()}: reopen it first."})
    current = pending_promise(ticket)
    change_reason = change_reason.strip()
    if current is not None and not change_reason:
        raise ValidationError({"change_reason": "Say why the promise changes: the customer will read it."})
    verdict = judge(ticket, due_at=due_at, by=by, now=now)
    reason = reason.strip()
    if verdict.sooner_than_estimate and not reason:
        raise Overpromise(verdict)

    if current is not None:
        current.outcome, current.settled_at = Promise.Outcome.SUPERSEDED, now
        current.save(update_fields=["outcome", "settled_at"])
    promise = Promise.objects.create(
        ticket=ticket,
        team=ticket.team,
        due_at=due_at,
        made_at=now,
        made_by=by,
        words=words,
        estimate=verdict.estimate,
        estimate_sample_size=verdict.sample_size,
        overrode_estimate=verdict.sooner_than_estimate,
        override_reason=reason if verdict.sooner_than_estimate else "",
        change_reason=change_reason,
    )
    ticket.promise_due_at = due_at
    ticket.promise_warn_at = due_at - warning_window(ticket.category, due_at - now)
    ticket.promise_state = PromiseState.ON_TRACK
    schedule(ticket, now=now)
    interaction = record(
        ticket,
        InteractionKind.PROMISE_CHANGED if current else InteractionKind.PROMISE_MADE,
        now=now,
        by=by,
        body=words,
        public=True,
        data={
            "promise": promise.pk,
            "due_at": due_at.isoformat(),
            "previous_due_at": current.due_at.isoformat() if current else None,
            "change_reason": change_reason,
            "estimate_seconds": int(verdict.estimate.total_seconds()),
            "sample_size": verdict.sample_size,
            "overrode_estimate": verdict.sooner_than_estimate,
        },
    )
    queue_customer_email(ticket, interaction, kind="promise", now=now)
    ticket.save()
    promise.verdict = verdict  # what the guard said at that moment (its load and basis are not stored)
    return promise


# --- The clock follows the status (called by status moves, inside their transaction) -----------


def on_status_change(ticket: Ticket, *, old: str, new: str, now: datetime, by: User | None) -> None:
    """Pause while waiting on the customer, move the due time on resuming, settle on resolving."""
    if new == TicketStatus.WAITING:
        _pause(ticket, now=now, by=by)
    elif old == TicketStatus.WAITING:
        _resume(ticket, now=now, by=by)
    if new == TicketStatus.RESOLVED:
        _settle(ticket, now=now)
    elif old in (TicketStatus.RESOLVED, TicketStatus.CLOSED) and new in Ticket.OPEN_STATUSES:
        # Reopened: the old promise is history; the rep makes a new one.
        ticket.promise_state, ticket.promise_due_at, ticket.promise_warn_at = PromiseState.NONE, None, None
        ticket.next_check_at = None


def _pause(ticket: Ticket, *, now: datetime, by: User | None) -> None:
    ticket.paused_at = now
    if ticket.promise_state in RUNNING:
        ticket.next_check_at = None
        record(
            ticket,
            InteractionKind.PROMISE_PAUSED,
            now=now,
            by=by,
            public=True,
            body="We are waiting for your answer, so the clock on our promise is paused until you reply.",
        )


def _resume(ticket: Ticket, *, now: datetime, by: User | None) -> None:
    paused_at, ticket.paused_at = ticket.paused_at, None
    promise = pending_promise(ticket)
    if paused_at is None or promise is None or ticket.promise_state not in RUNNING:
        return
    paused_for = max(now - paused_at, timedelta(0))
    previous_due = promise.due_at
    promise.due_at += paused_for
    promise.paused_for += paused_for
    promise.save(update_fields=["due_at", "paused_for"])
    ticket.promise_due_at = promise.due_at
    ticket.promise_warn_at = (ticket.promise_warn_at or promise.due_at) + paused_for
    schedule(ticket, now=now)
    record(
        ticket,
        InteractionKind.PROMISE_RESUMED,
        now=now,
        by=by,
        public=True,
        body="The clock on our promise is running again; the time we promised moved by the time we waited.",
        data={
            "paused_seconds": int(paused_for.total_seconds()),
            "from": previous_due.isoformat(),
            "to": promise.due_at.isoformat(),
        },
    )


def _settle(ticket: Ticket, *, now: datetime) -> None:
    """Resolution settles the pending promise (kept if on time, broken if late), and is the actual
    resolution of every promise a breach broke on the way."""
    ticket.promises.filter(outcome=Promise.Outcome.BROKEN, resolved_at__isnull=True).update(resolved_at=now)
    promise = pending_promise(ticket)
    if promise is None:
        if ticket.promise_state == PromiseState.BREACHED:
            ticket.promise_state = PromiseState.BROKEN
        ticket.next_check_at = None
        return
    kept = now <= promise.due_at
    promise.outcome = Promise.Outcome.KEPT if kept else Promise.Outcome.BROKEN
    promise.settled_at = promise.resolved_at = now
    promise.save(update_fields=["outcome", "settled_at", "resolved_at"])
    ticket.promise_state = PromiseState.KEPT if kept else PromiseState.BROKEN
    ticket.next_check_at = None
    record(
        ticket,
        InteractionKind.PROMISE_SETTLED,
        now=now,
        public=False,
        data={"promise": promise.pk, "outcome": promise.outcome, "due_at": promise.due_at.isoformat()},
    )
