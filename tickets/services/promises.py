"""Making and keeping promises: make_promise, the promise clock's reaction to status moves, and the warning
when a promise enters its window (from here, or for many at once from the sweep: ``services.lapses``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone

from tickets.business_time import Hours
from tickets.customer_emails import queue_customer_email
from tickets.models import (
    Interaction,
    InteractionKind,
    Notification,
    NotificationEvent,
    Promise,
    PromiseOutcome,
    PromiseState,
    Ticket,
    TicketStatus,
    reference_of,
)
from tickets.notifications import notification_rows, owners, save_notifications
from tickets.promise_rules import (
    RUNNING,
    Clock,
    Overpromise,
    clock_of,
    humanize_duration,
    judge,
    next_check_at,
    state_at,
    validate_due,
    warn_time,
)
from tickets.services.base import lock, log_entry, record, require_staff, require_text, set_service, ticket_service


def pending_promise(ticket: Ticket) -> Promise | None:
    return ticket.promises.filter(outcome=PromiseOutcome.PENDING).first()


def schedule(ticket: Ticket, *, now: datetime) -> None:
    """Set the ticket's promise state and next sweep look from its due and warning times, at ``now``.

    A promise that enters its warning window here (made inside it, or resumed into it) is warned about now,
    as the sweep would have: every promise is warned once before it can lapse. One found already lapsed (it
    lapsed before a pause the sweep had not caught up with) is never marked breached here: it keeps its running
    state with a check due now, so the sweep breaks it through ``lapses.record_breaches``, escalation and apology
    included, instead of a state that says breached with nothing behind it.
    """
    if ticket.promise_due_at is None or ticket.promise_warn_at is None:
        ticket.next_check_at = None
        return
    was = ticket.promise_state
    if ticket.paused_at is None:
        state = state_at(due_at=ticket.promise_due_at, warn_at=ticket.promise_warn_at, now=now)
        if state != PromiseState.BREACHED:
            ticket.promise_state = state
    ticket.next_check_at = next_check_at(
        state=ticket.promise_state,
        due_at=ticket.promise_due_at,
        warn_at=ticket.promise_warn_at,
        paused=ticket.paused_at is not None,
    )
    if was != PromiseState.AT_RISK and ticket.promise_state == PromiseState.AT_RISK:
        warn_at_risk(ticket, now=now)


@set_service
def retime_warnings(tickets: QuerySet[Ticket]) -> int:
    """After the hours some tickets run in have changed (their category's calendar, or its choice of business
    time; ``services.calendars``): each on-track promise keeps its due time, as the customer was told an instant,
    and its warning and the sweep's next look move to the new hours. A warning already given stays given; one
    the new hours put in the past is given by the sweep's next run. Returns the tickets re-timed."""
    pending = Promise.objects.filter(ticket=OuterRef("pk"), outcome=PromiseOutcome.PENDING)
    rows = list(
        tickets.filter(promise_state=PromiseState.ON_TRACK, promise_due_at__isnull=False)
        .select_for_update(of=("self",))
        .select_related("category")
        .annotate(
            made_at=Subquery(pending.values("made_at")[:1]), paused_for=Subquery(pending.values("paused_for")[:1])
        )
        .order_by("pk")
    )
    clocks: dict[int, Clock] = {}  # one clock per category
    for ticket in rows:
        if ticket.category_id not in clocks:
            clocks[ticket.category_id] = clock_of(ticket)
        assert ticket.promise_due_at is not None  # filtered
        ticket.promise_warn_at = warn_time(
            ticket.category,
            clocks[ticket.category_id],
            made_at=ticket.made_at or ticket.created_at,
            due_at=ticket.promise_due_at,
            paused=ticket.paused_for or timedelta(0),
        )
        ticket.next_check_at = None if ticket.paused_at else ticket.promise_warn_at
    Ticket.objects.bulk_update(rows, ["promise_warn_at", "next_check_at"], batch_size=500)
    return len(rows)


# --- At risk: the warning, the same words and people whichever way it comes ----------------------


@dataclass(frozen=True)
class AtRisk:
    """A promise entering its warning window: its log entry and its owners' notices (unsaved), in the same
    words whether the sweep flags it or a service finds it there at once."""

    ticket_id: int
    customer_name: str
    promise_id: int | None
    due_at: datetime
    now: datetime

    def entry(self) -> Interaction:
        return log_entry(
            self.ticket_id,
            InteractionKind.AT_RISK,
            customer_name=self.customer_name,
            now=self.now,
            body=f"The promise is due in {humanize_duration(self.due_at - self.now)}.",
            data=self.data(),
        )

    def data(self, **more: Any) -> dict[str, Any]:
        """What a warning's entry records of its promise (and ``more``)."""
        return {"promise": self.promise_id, "due_at": self.due_at.isoformat(), **more}

    def too_late(self, *, warn_at: datetime) -> Interaction:
        """The entry of a warning that never came in time: the window opened and the promise lapsed while
        nobody looked (the sweeper stopped, an outage). It tells nobody: the breach that follows does. So every
        breached promise has one at-risk entry, and this one says why it is late."""
        return log_entry(
            self.ticket_id,
            InteractionKind.AT_RISK,
            customer_name=self.customer_name,
            now=self.now,
            body=(
                f"No warning was given in time: the warning window opened {humanize_duration(self.now - warn_at)} "
                f"ago and the promise lapsed {humanize_duration(self.now - self.due_at)} ago, before the sweep "
                "looked at it (was the sweeper stopped?)."
            ),
            data=self.data(late=True, warn_at=warn_at.isoformat()),
        )

    def notices(self, people: list[int]) -> list[Notification]:
        """One per person and promise, whatever retries (the dedupe key)."""
        reference = reference_of(self.ticket_id)
        due_in = humanize_duration(self.due_at - self.now)
        return notification_rows(
            people,
            ticket_id=self.ticket_id,
            event=NotificationEvent.AT_RISK,
            key=f"promise={self.promise_id}",
            message=f"The promise to {self.customer_name} on {reference} is due in {due_in}.",
            now=self.now,
        )


def warn_at_risk(ticket: Ticket, *, now: datetime) -> None:
    """Warn about one ticket's promise, in the caller's transaction: the log entry, and its owners told."""
    assert ticket.promise_due_at is not None  # at risk means promised
    promise = pending_promise(ticket)
    warning = AtRisk(ticket.pk, ticket.customer.name, promise.pk if promise else None, ticket.promise_due_at, now)
    warning.entry().save()
    save_notifications(warning.notices(owners(ticket)))


@ticket_service
def make_promise(
    ticket: Ticket,
    *,
    due_at: datetime,
    by: User,
    words: str,
    reason: str = "",
    change_reason: str = "",
    email_customer: bool = True,
    now: datetime | None = None,
) -> Promise:
    """Promise the customer a resolution time, or change the promise made (``email_customer`` False when a
    reply sent with it already tells them).

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
    clock = verdict.estimated.clock
    reason = reason.strip()
    if verdict.sooner_than_estimate and not reason:
        raise Overpromise(verdict)

    if current is not None:
        current.outcome, current.settled_at = PromiseOutcome.SUPERSEDED, now
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
        estimate_percentile=verdict.estimated.percentile,
        estimate_basis=verdict.basis,
        overrode_estimate=verdict.sooner_than_estimate,
        override_reason=reason if verdict.sooner_than_estimate else "",
        change_reason=change_reason,
        promised_for=clock.hours.between(now, due_at),
        working_hours=clock.customer_words,
    )
    ticket.promise_due_at = due_at
    ticket.promise_warn_at = warn_time(ticket.category, clock, made_at=now, due_at=due_at)
    ticket.promise_state = PromiseState.ON_TRACK
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
            "basis": verdict.basis,
            "overrode_estimate": verdict.sooner_than_estimate,
            "working_hours": clock.customer_words,
        },
    )
    schedule(ticket, now=now)  # after the log says what was promised: it may warn at once
    if email_customer:
        queue_customer_email(ticket, interaction, kind="promise", now=now)
    ticket.save()
    promise.verdict = verdict  # what the guard said at that moment (its load is not stored)
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
    if paused_at is None:
        return
    ticket.waited += max(now - paused_at, timedelta(0))  # left out of how long the ticket took, for the estimates
    promise = pending_promise(ticket)
    if promise is None or ticket.promise_state not in RUNNING:
        return
    # The promise moves by the time waited that the desk was open: a wait over a weekend moves a promise
    # that runs in business time by the hours of Friday and Monday it took, not by the weekend.
    clock = clock_of(ticket)
    hours = clock.hours
    paused_for = hours.between(paused_at, now)
    previous_due = promise.due_at
    promise.due_at = hours.add(promise.due_at, paused_for)
    promise.paused_for += paused_for
    promise.save(update_fields=["due_at", "paused_for"])
    ticket.promise_due_at = promise.due_at
    ticket.promise_warn_at = warn_time(
        ticket.category, clock, made_at=promise.made_at, due_at=promise.due_at, paused=promise.paused_for
    )
    record(
        ticket,
        InteractionKind.PROMISE_RESUMED,
        now=now,
        by=by,
        public=True,
        body="The clock on our promise is running again; the time we promised moved by the time we waited"
        + (" while we were open." if clock.in_business_time else "."),
        data={
            "paused_seconds": int(paused_for.total_seconds()),
            "from": previous_due.isoformat(),
            "to": promise.due_at.isoformat(),
        },
    )
    schedule(ticket, now=now)


def _settle(ticket: Ticket, *, now: datetime) -> None:
    """Resolution settles the pending promise (kept if on time, broken if late), and is the actual
    resolution of every promise a breach broke on the way."""
    broken = list(ticket.promises.filter(outcome=PromiseOutcome.BROKEN, resolved_at__isnull=True))
    promise = pending_promise(ticket)
    ticket.next_check_at = None
    if promise is None and ticket.promise_state == PromiseState.BREACHED:
        ticket.promise_state = PromiseState.BROKEN
    if promise is None and not broken:
        return
    hours = clock_of(ticket).hours  # what each promise took is measured in its clock
    for each in broken:
        each.resolved_at, each.took = now, _took(each, hours, now=now)
    Promise.objects.bulk_update(broken, ["resolved_at", "took"])
    if promise is None:
        return
    kept = now <= promise.due_at
    promise.outcome = PromiseOutcome.KEPT if kept else PromiseOutcome.BROKEN
    promise.settled_at = promise.resolved_at = now
    promise.took = _took(promise, hours, now=now)
    promise.save(update_fields=["outcome", "settled_at", "resolved_at", "took"])
    ticket.promise_state = PromiseState.KEPT if kept else PromiseState.BROKEN
    record(
        ticket,
        InteractionKind.PROMISE_SETTLED,
        now=now,
        public=False,
        data={"promise": promise.pk, "outcome": promise.outcome, "due_at": promise.due_at.isoformat()},
    )


def _took(promise: Promise, hours: Hours, *, now: datetime) -> timedelta:
    """What the promise took, from its making to the resolution at ``now``, waits left out, in ``hours``."""
    return max(hours.between(promise.made_at, now) - promise.paused_for, timedelta(0))
