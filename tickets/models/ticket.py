"""Tickets: the public reference, the write gate, the queries that read them, and the model."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from customers.models import Customer
from tickets.models.choices import Channel, Priority, PromiseState, TicketStatus, allowed_statuses
from tickets.models.organisation import Category, EscalationLevel, Team
from tickets.models.people import is_supervisor, team_ids_query

REFERENCE_PREFIX = "PD-"
# References start at PD-1001 so the first customers don't see "ticket #1".
REFERENCE_OFFSET = 1000
_REFERENCE_RE = re.compile(rf"^{REFERENCE_PREFIX}(\d+)$", re.IGNORECASE)


def reference_of(pk: int) -> str:
    """A ticket's public reference from its id (``Ticket.reference``, for rows read without the model)."""
    return f"{REFERENCE_PREFIX}{pk + REFERENCE_OFFSET}"


# --- Tickets ------------------------------------------------------------------------------------

_ticket_writes_allowed: ContextVar[bool] = ContextVar("ticket_writes_allowed", default=False)


@contextmanager
def ticket_writes() -> Iterator[None]:
    """Open the gate ``Ticket.save`` and ``TicketQuerySet.update`` check. Used only by ``tickets.services``."""
    token = _ticket_writes_allowed.set(True)
    try:
        yield
    finally:
        _ticket_writes_allowed.reset(token)


class TicketWriteOutsideServices(RuntimeError):
    pass


def _require_the_gate() -> None:
    if not _ticket_writes_allowed.get():
        raise TicketWriteOutsideServices(
            "Tickets change only through tickets.services, which records each change in the interaction log."
        )


def new_status_token() -> str:
    """256 random bits, URL-safe: the secret in a customer's status link."""
    return secrets.token_urlsafe(32)


def status_token_digest(token: str) -> str:
    """What is kept of a replaced status link's token: enough to recognise it, nothing to open anything with."""
    return hashlib.sha256(token.encode()).hexdigest()


class TicketQuerySet(models.QuerySet["Ticket"]):
    def update(self, **kwargs: Any) -> int:
        """As ``Ticket.save``: only inside ``tickets.services`` (``bulk_update`` comes through here too)."""
        _require_the_gate()
        return super().update(**kwargs)

    def open(self) -> TicketQuerySet:
        return self.filter(status__in=Ticket.OPEN_STATUSES)

    def by_reference(self, reference: str) -> TicketQuerySet:
        """Filter by public reference (``PD-1042``, any case); an unparsable reference matches nothing."""
        match = _REFERENCE_RE.match(reference.strip())
        if not match:
            return self.none()
        return self.filter(pk=int(match.group(1)) - REFERENCE_OFFSET)

    def search(self, text: str) -> TicketQuerySet:
        """By reference (PD-1042: one indexed lookup), else words of the subject, or the customer's name or email.
        The desk's search box and the API's ``q`` alike."""
        text = text.strip()
        by_reference = self.by_reference(text)
        if by_reference.exists():
            return by_reference
        customers = Customer.objects.search(text).values("pk")
        return self.filter(Q(subject__icontains=text) | Q(customer__in=customers))

    def visible_to(self, user: Any) -> TicketQuerySet:
        """The one gate for who may see which tickets, used by every page, action, export and API list.

        Supervisors (and superusers) see all; agents see their teams' tickets and those assigned to them;
        anyone else sees none.
        """
        if not (user.is_authenticated and user.is_active and user.is_staff):
            return self.none()
        if is_supervisor(user):
            return self.all()
        return self.filter(Q(team__in=team_ids_query(user.pk)) | Q(assignee=user.pk))

    def with_parties(self) -> TicketQuerySet:
        """With who and what a ticket page or API answer names: customer, category, team, assignee, level."""
        return self.select_related("customer", "category", "team", "assignee", "escalation_level__path")

    def due_for_check(self, now: Any) -> TicketQuerySet:
        """Tickets whose promise the sweep must look at now (served by ``ticket_due_check_idx``)."""
        return self.filter(next_check_at__lte=now).order_by("next_check_at")


# Open tickets: the queue's first key, the indexes' conditions, every "is it open?" (``Ticket.OPEN_STATUSES``).
OPEN_STATUSES = [TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.WAITING]
# The keys of the queue's order (``Ticket.QUEUE_ORDER``) as an index reads them: open first; plain ASC, as
# PostgreSQL puts NULLs last by default and SQLite refuses NULLS LAST in an index; the id last, so the API's
# keyset pages (which end every order with the id) read the same indexes.
QUEUE_INDEX_KEYS = (
    models.Case(models.When(status__in=OPEN_STATUSES, then=0), default=1),
    models.F("promise_due_at").asc(),
    models.F("priority").desc(),
    models.F("created_at").asc(),
    models.F("id").asc(),
)


class Ticket(models.Model):
    OPEN_STATUSES = OPEN_STATUSES
    # The queue's order: open tickets first ("All I may see" also holds settled ones), then the nearest promise,
    # the unpromised after, the urgent and the old first. Every view of the queue sorts by all of it, even the
    # views of open tickets only: the indexes (QUEUE_INDEX_KEYS) begin with "open first", and a sort without it
    # walked the promise-due index past every closed ticket.
    OPEN_FIRST = QUEUE_INDEX_KEYS[0]  # the very CASE the indexes begin with
    QUEUE_ORDER = (OPEN_FIRST, models.F("promise_due_at").asc(nulls_last=True), "-priority", "created_at")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tickets")
    subject = models.CharField(max_length=200)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="tickets")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.WEB)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=10, choices=TicketStatus.choices, default=TicketStatus.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_tickets"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="tickets")
    escalation_level = models.ForeignKey(EscalationLevel, on_delete=models.PROTECT, related_name="tickets")
    # Unique by a constraint (``ticket_token``), not a field option: only ever compared whole, it needs no
    # second index for LIKE, which unique=True adds to a CharField on PostgreSQL and every ticket write keeps up.
    token = models.CharField(max_length=64, default=new_status_token, editable=False)
    # The web form's one-time key: a double click or a browser retry finds this ticket instead of a new one.
    # Unique among the tickets that have one (``ticket_submission_key``): the others are not in its index.
    submission_key = models.UUIDField(null=True, blank=True, editable=False)

    # The current promise, denormalised from Promise so queues and the sweep read one table.
    promise_due_at = models.DateTimeField(null=True, blank=True)
    promise_state = models.CharField(max_length=10, choices=PromiseState.choices, default=PromiseState.NONE)
    # When the current promise enters its warning window (at risk from then on).
    promise_warn_at = models.DateTimeField(null=True, blank=True)
    # The next moment the sweep must look at this ticket (warning start, then due time, then never).
    next_check_at = models.DateTimeField(null=True, blank=True)
    # Set while waiting on the customer: the promise clock is paused from this moment.
    paused_at = models.DateTimeField(null=True, blank=True)
    # Time not worked on in earlier (closed) spells: waiting on the customer, and lying resolved before a
    # reopening. Left out of how long the ticket took, for the estimates.
    waited = models.DurationField(default=timedelta(0), db_default=timedelta(0))

    first_response_at = models.DateTimeField(null=True, blank=True)
    # How long the first response took, in the ticket's clock (business time where its category runs in it).
    first_response_after = models.DurationField(null=True, blank=True)
    # Who answered first, and for which team: the supervisor's first-response figures per agent and team.
    # Indexed only where set (``ticket_first_response_by_idx``, ``ticket_first_response_team_idx``).
    first_response_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="first_responses",
        db_index=False,
    )
    first_response_team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="first_responses", db_index=False
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The sweep: WHERE next_check_at <= now ORDER BY next_check_at. Partial, so it holds only
            # tickets that can still change state and a sweep costs what is due, not what exists.
            models.Index(
                fields=["next_check_at"], condition=Q(next_check_at__isnull=False), name="ticket_due_check_idx"
            ),
            # A team's open tickets in the queue's order (the queue filtered by team).
            models.Index(
                "team",
                *QUEUE_INDEX_KEYS,
                condition=Q(status__in=OPEN_STATUSES),
                name="ticket_team_queue_idx",
            ),
            # "All I may see": ORDER BY the queue order (open first) LIMIT 25, read straight off the index.
            models.Index(*QUEUE_INDEX_KEYS, name="ticket_queue_order_idx"),
            # The API's other orderings, each ending with the id so a cursor names one row: WHERE (key, id)
            # after the cursor's ORDER BY key, id LIMIT n, read straight off the index.
            models.Index(fields=["promise_due_at", "id"], name="ticket_due_id_idx"),
            models.Index(fields=["created_at", "id"], name="ticket_created_id_idx"),
            models.Index(fields=["updated_at", "id"], name="ticket_updated_id_idx"),
            models.Index(fields=["priority", "id"], name="ticket_priority_id_idx"),
            # The API's promise-state filter (at risk, breached) in the queue's order: the page is the index's
            # first rows for that state (with the queue order alone, 4,000 breached tickets were read past to
            # reach the first at-risk one).
            # The desk's "At risk" and "Breached" views too (they order by the same keys).
            models.Index("promise_state", *QUEUE_INDEX_KEYS, name="ticket_state_queue_idx"),
            # The desk's "Unassigned" and "Waiting" views: small sets, each its own small index in queue order
            # (without them, each view walked the queue's order past tens of thousands of other tickets).
            models.Index(
                *QUEUE_INDEX_KEYS,
                condition=Q(status__in=OPEN_STATUSES, assignee__isnull=True),
                name="ticket_unassigned_queue_idx",
            ),
            models.Index(*QUEUE_INDEX_KEYS, condition=Q(status="waiting"), name="ticket_waiting_queue_idx"),
            # The queue's tab counts: COUNT(*) FILTER (...) over open tickets, from the index alone.
            models.Index(
                fields=["team", "assignee", "promise_state", "status"],
                condition=Q(status__in=OPEN_STATUSES),
                name="ticket_open_counts_idx",
            ),
            # "Mine": an assignee's open tickets in the queue's order.
            models.Index(
                "assignee",
                *QUEUE_INDEX_KEYS,
                condition=Q(status__in=OPEN_STATUSES),
                name="ticket_assignee_queue_idx",
            ),
            # The dashboard's first-response figures: WHERE first_response_at in a period.
            models.Index(
                fields=["first_response_at"],
                condition=Q(first_response_at__isnull=False),
                name="ticket_first_response_idx",
            ),
            # Who and which team answered first: looked up by a value (a team's or a person's deletion), never
            # by NULL, so only the answered tickets are in them (every UPDATE of a ticket adds an entry to each
            # of its indexes: the sweep's breaches kept up an entry for each unanswered ticket they moved).
            models.Index(
                fields=["first_response_by"],
                condition=Q(first_response_by__isnull=False),
                name="ticket_first_response_by_idx",
            ),
            models.Index(
                fields=["first_response_team"],
                condition=Q(first_response_team__isnull=False),
                name="ticket_first_response_team_idx",
            ),
        ]
        constraints = [
            # Named as Django named the field options' constraints, so errors read the same.
            models.UniqueConstraint(fields=["token"], name="tickets_ticket_token_key"),
            models.UniqueConstraint(
                fields=["submission_key"],
                condition=Q(submission_key__isnull=False),
                name="tickets_ticket_submission_key_key",
            ),
            models.CheckConstraint(condition=Q(status__in=TicketStatus.values), name="ticket_status_valid"),
            models.CheckConstraint(condition=Q(channel__in=Channel.values), name="ticket_channel_valid"),
            models.CheckConstraint(condition=Q(priority__in=Priority.values), name="ticket_priority_valid"),
            models.CheckConstraint(
                condition=Q(promise_state__in=PromiseState.values), name="ticket_promise_state_valid"
            ),
            models.CheckConstraint(condition=~Q(subject=""), name="ticket_subject_not_empty"),
            # At least 128 bits of secret: 22 URL-safe base64 characters.
            models.CheckConstraint(
                condition=Q(token__regex=r"^[A-Za-z0-9_-]{22,}$"),  # noqa: S106 - a pattern, not a password
                name="ticket_token_strong",
            ),
            # A promise state other than "none" needs a due time, and "none" has none.
            models.CheckConstraint(
                condition=Q(promise_state="none", promise_due_at__isnull=True)
                | (~Q(promise_state="none") & Q(promise_due_at__isnull=False)),
                name="ticket_promise_due_matches_state",
            ),
            # The warning starts with the promise and no later than its due time.
            models.CheckConstraint(
                condition=Q(promise_due_at__isnull=True, promise_warn_at__isnull=True)
                | Q(promise_warn_at__lte=models.F("promise_due_at")),
                name="ticket_promise_warn_before_due",
            ),
            # Resolved and closed tickets know when they were resolved; open ones don't.
            models.CheckConstraint(
                condition=Q(status__in=["resolved", "closed"], resolved_at__isnull=False)
                | Q(status__in=OPEN_STATUSES, resolved_at__isnull=True),
                name="ticket_resolved_at_matches_status",
            ),
            # Only a ticket waiting on the customer has a paused clock.
            models.CheckConstraint(
                condition=Q(paused_at__isnull=True) | Q(status="waiting"), name="ticket_paused_only_while_waiting"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        _require_the_gate()
        super().save(*args, **kwargs)

    @property
    def reference(self) -> str:
        return reference_of(self.pk) if self.pk else ""

    @property
    def is_open(self) -> bool:
        return self.status in Ticket.OPEN_STATUSES

    def allowed_statuses(self) -> list[str]:
        """Statuses this ticket may move to next, in the order of the Status choices."""
        return allowed_statuses(self.status)
