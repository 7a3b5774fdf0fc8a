"""The tickets domain: teams, escalation paths, categories, tickets, their log, promises, notifications.

Reads are QuerySet methods named for the question they answer; writes go through
``tickets.services`` (``Ticket.save`` refuses to run anywhere else, so the interaction log stays
complete). Constraints live in the database too, not only in Python.
"""

from __future__ import annotations

import enum
import hashlib
import re
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from customers.models import Customer
from helpdesk.statements import Slots, Statement
from tickets.attachments import storage_name

REFERENCE_PREFIX = "PD-"
# References start at PD-1001 so the first customers don't see "ticket #1".
REFERENCE_OFFSET = 1000
_REFERENCE_RE = re.compile(rf"^{REFERENCE_PREFIX}(\d+)$", re.IGNORECASE)


def reference_of(pk: int) -> str:
    """A ticket's public reference from its id (``Ticket.reference``, for rows read without the model)."""
    return f"{REFERENCE_PREFIX}{pk + REFERENCE_OFFSET}"


class Role:
    """Staff roles are Django groups (created by a data migration)."""

    AGENTS = "Agents"
    SUPERVISORS = "Supervisors"


class Sight(enum.Enum):
    """Which tickets someone sees (``TicketQuerySet.visible_to`` says which those are)."""

    NONE = "none"  # not active staff
    ALL = "all"  # supervisors and superusers
    AGENT = "agent"  # their teams' and those assigned to them


def sight_of(user: Any) -> Sight:
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return Sight.NONE
    return Sight.ALL if is_supervisor(user) else Sight.AGENT


def is_supervisor(user: Any) -> bool:
    """Supervisors see and act on every ticket. Remembered on the user object for the request."""
    if not hasattr(user, "_is_supervisor"):
        user._is_supervisor = bool(
            user.is_authenticated and (user.is_superuser or user.groups.filter(name=Role.SUPERVISORS).exists())
        )
    return bool(user._is_supervisor)


def remember_supervisor(user: Any, *, in_group: bool) -> None:
    """Tell ``is_supervisor`` the answer a query of the caller's already gave (the API's token lookup)."""
    user._is_supervisor = bool(user.is_superuser or in_group)


def team_ids_of(user: Any) -> list[int]:
    """The ids of the teams ``user`` is in, in order. Remembered on the user object for the request."""
    if not hasattr(user, "_team_ids"):
        user._team_ids = [row["team_id"] for row in _team_ids_statement().rows({"user": user.pk})]
    return list(user._team_ids)


def remember_teams(user: Any, team_ids: Sequence[int]) -> None:
    """Tell ``team_ids_of`` the answer a query of the caller's already gave (the API's token lookup)."""
    user._team_ids = list(team_ids)


def team_ids_query(user: Any) -> models.QuerySet[Any]:
    """The ids of the teams of ``user`` (an id, or an ``OuterRef`` to one), in order, as a query."""
    return Team.members.through.objects.filter(user=user).order_by("team_id").values("team_id")


@lru_cache(maxsize=1)
def _team_ids_statement() -> Statement:
    slots = Slots()
    slots.number("user")
    return Statement.of(lambda values: team_ids_query(values["user"]), slots)


def display_name(user: Any, *, nobody: str = "—") -> str:
    """A staff member as people call them: full name, else username; ``nobody`` when there is none."""
    if user is None:
        return nobody
    return name_of(first=user.first_name, last=user.last_name, username=user.username)


def name_of(*, first: str, last: str, username: str) -> str:
    """``display_name`` from the columns alone (for rows read without the user object)."""
    return f"{first} {last}".strip() or username


# --- Configuration ------------------------------------------------------------------------------


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="led_teams"
    )

    class Meta:
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=~Q(name=""), name="team_name_not_empty")]

    def __str__(self) -> str:
        return self.name


class EscalationPath(models.Model):
    """The ordered levels a ticket climbs when a promise breaks or an agent escalates."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EscalationLevelQuerySet(models.QuerySet["EscalationLevel"]):
    def first_of(self, path_id: int) -> EscalationLevel | None:
        """Level 1 of a path, with its team: where every ticket of that path starts (one query)."""
        return self.select_related("team").filter(path_id=path_id).order_by("position").first()


class EscalationLevel(models.Model):
    path = models.ForeignKey(EscalationPath, on_delete=models.CASCADE, related_name="levels")
    position = models.PositiveSmallIntegerField(help_text="1 is where tickets start; each escalation moves up one.")
    name = models.CharField(max_length=100)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="escalation_levels")
    notify = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="notified_at_levels",
        blank=True,
        help_text="People told when a ticket reaches this level. Empty: the team's lead and members.",
    )

    objects = EscalationLevelQuerySet.as_manager()

    class Meta:
        ordering = ["path", "position"]
        constraints = [
            models.UniqueConstraint(fields=["path", "position"], name="escalation_level_unique_position"),
            models.CheckConstraint(condition=Q(position__gte=1), name="escalation_level_position_from_1"),
        ]

    def __str__(self) -> str:
        return f"{self.path} · {self.position}. {self.name}"

    def next_level(self) -> EscalationLevel | None:
        return self.path.levels.filter(position__gt=self.position).order_by("position").first()


class Priority(models.IntegerChoices):
    LOW = 1, "Low"
    NORMAL = 2, "Normal"
    HIGH = 3, "High"
    URGENT = 4, "Urgent"


class Category(models.Model):
    """A help topic on the web form, with the defaults its tickets start from."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True, help_text="Shown to customers on the form.")
    default_priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    escalation_path = models.ForeignKey(EscalationPath, on_delete=models.PROTECT, related_name="categories")
    default_target = models.DurationField(
        default=timedelta(hours=8), help_text="Promise target used while history is too thin to estimate from."
    )
    warn_min = models.DurationField(null=True, blank=True, help_text="Overrides PROMISE_WARN_MIN for this category.")
    warn_fraction = models.FloatField(
        null=True, blank=True, help_text="Overrides PROMISE_WARN_FRACTION (0 to 1) for this category."
    )
    is_active = models.BooleanField(default=True, help_text="Offered on the web form.")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"
        constraints = [
            models.CheckConstraint(condition=Q(default_target__gt=timedelta(0)), name="category_target_positive"),
            models.CheckConstraint(
                condition=Q(warn_min__isnull=True) | Q(warn_min__gte=timedelta(0)),
                name="category_warn_min_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(warn_fraction__isnull=True) | Q(warn_fraction__gte=0, warn_fraction__lte=1),
                name="category_warn_fraction_0_to_1",
            ),
            models.CheckConstraint(condition=Q(default_priority__in=Priority.values), name="category_priority_valid"),
        ]

    def __str__(self) -> str:
        return self.name


# --- Tickets ------------------------------------------------------------------------------------

_ticket_writes_allowed: ContextVar[bool] = ContextVar("ticket_writes_allowed", default=False)


@contextmanager
def ticket_writes() -> Iterator[None]:
    """Open the gate ``Ticket.save`` checks. Used only by ``tickets.services``."""
    token = _ticket_writes_allowed.set(True)
    try:
        yield
    finally:
        _ticket_writes_allowed.reset(token)


class TicketWriteOutsideServices(RuntimeError):
    pass


def new_status_token() -> str:
    """256 random bits, URL-safe: the secret in a customer's status link."""
    return secrets.token_urlsafe(32)


def status_token_digest(token: str) -> str:
    """What is kept of a replaced status link's token: enough to recognise it, nothing to open anything with."""
    return hashlib.sha256(token.encode()).hexdigest()


class TicketQuerySet(models.QuerySet["Ticket"]):
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
        """The one gate for who may see which tickets, used by every page, action and export.

        Supervisors (and superusers) see all; agents see their teams' tickets and those assigned to them;
        anyone else sees none.
        """
        sight = sight_of(user)
        if sight is Sight.NONE:
            return self.none()
        if sight is Sight.ALL:
            return self.all()
        return self.seen_by_agent(user.pk)

    def seen_by_agent(self, pk: Any) -> TicketQuerySet:
        """What the agent with this id sees: their teams' tickets and those assigned to them."""
        return self.filter(Q(team__in=Team.objects.filter(members=pk).values("pk")) | Q(assignee=pk))

    def seen_by_agent_in_parts(self, pk: Any, team_ids: Sequence[Any]) -> list[TicketQuerySet]:
        """``seen_by_agent(pk)`` as parts that each read one index in the queue's order, given the agent's
        teams: each team's open tickets (``ticket_team_queue_idx``), the open tickets assigned to them
        (``ticket_assignee_queue_idx``), and the settled ones (``ticket_queue_order_idx`` from "settled" on).

        Together the parts hold the same tickets; they may overlap (a ticket of their team assigned to them).
        One ordered scan of all tickets had to skip every other team's ticket ahead of the agent's: 4,000 at
        100,000 tickets (docs/benchmarks.md, REST API)."""
        open_tickets = self.filter(status__in=OPEN_STATUS_VALUES)
        settled = self.seen_by_agent(pk).alias(open_rank=Ticket.OPEN_FIRST).filter(open_rank=1)
        return [*(open_tickets.filter(team=team) for team in team_ids), open_tickets.filter(assignee=pk), settled]

    def with_parties(self) -> TicketQuerySet:
        """With who and what a ticket page or API answer names: customer, category, team, assignee, level."""
        return self.select_related("customer", "category", "team", "assignee", "escalation_level__path")

    def due_for_check(self, now: Any) -> TicketQuerySet:
        """Tickets whose promise the sweep must look at now (served by ``ticket_due_check_idx``)."""
        return self.filter(next_check_at__lte=now).order_by("next_check_at")


class Channel(models.TextChoices):
    WEB = "web", "Web form"
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    CHAT = "chat", "Chat"
    WALK_IN = "walk_in", "Walk-in"


# The ways a request an agent takes down can come (the web form's requests arrive by themselves).
TAKEN_DOWN_CHANNELS = [(value, label) for value, label in Channel.choices if value != Channel.WEB]


class TicketStatus(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    WAITING = "waiting", "Waiting on customer"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"


# The allowed status moves. Resolving and reopening need words (a summary, a reason), so they have
# their own services; every move, whichever service makes it, is checked against this table.
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    TicketStatus.NEW: frozenset({TicketStatus.OPEN, TicketStatus.WAITING, TicketStatus.RESOLVED}),
    TicketStatus.OPEN: frozenset({TicketStatus.WAITING, TicketStatus.RESOLVED}),
    TicketStatus.WAITING: frozenset({TicketStatus.OPEN, TicketStatus.RESOLVED}),
    TicketStatus.RESOLVED: frozenset({TicketStatus.OPEN, TicketStatus.CLOSED}),
    TicketStatus.CLOSED: frozenset(),
}


def allowed_statuses(status: str) -> list[str]:
    """The statuses a ticket in ``status`` may move to next, in the order of the Status choices."""
    allowed = STATUS_TRANSITIONS[status]
    return [to for to in TicketStatus.values if to in allowed]


class PromiseState(models.TextChoices):
    NONE = "none", "No promise"
    ON_TRACK = "on_track", "On track"
    AT_RISK = "at_risk", "At risk"
    BREACHED = "breached", "Breached"
    KEPT = "kept", "Kept"
    BROKEN = "broken", "Broken"


# Open tickets, as the indexes' conditions and the queue's first key say it (plain strings: migrations compare them).
OPEN_STATUS_VALUES = ["new", "open", "waiting"]
# The keys of the queue's order (``Ticket.QUEUE_ORDER``) as an index reads them: open first; plain ASC, as
# PostgreSQL puts NULLs last by default and SQLite refuses NULLS LAST in an index; the id last, so the API's
# keyset pages (which end every order with the id) read the same indexes.
QUEUE_INDEX_KEYS = (
    models.Case(models.When(status__in=OPEN_STATUS_VALUES, then=0), default=1),
    models.F("promise_due_at").asc(),
    models.F("priority").desc(),
    models.F("created_at").asc(),
    models.F("id").asc(),
)


class Ticket(models.Model):
    Channel = Channel
    Status = TicketStatus
    PromiseState = PromiseState
    OPEN_STATUSES = (TicketStatus.NEW, TicketStatus.OPEN, TicketStatus.WAITING)
    # The queue's order: open tickets first ("All I may see" also holds settled ones), then the nearest promise,
    # the unpromised after, the urgent and the old first. Every view of the queue sorts by all of it, even the
    # views of open tickets only: the indexes (QUEUE_INDEX_KEYS) begin with "open first", and a sort without it
    # walked the promise-due index past every closed ticket (docs/benchmarks.md, Mixed load).
    OPEN_FIRST = QUEUE_INDEX_KEYS[0]  # the very CASE the indexes begin with
    QUEUE_ORDER = (OPEN_FIRST, models.F("promise_due_at").asc(nulls_last=True), "-priority", "created_at")

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="tickets")
    subject = models.CharField(max_length=200)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="tickets")
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.WEB)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_tickets"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="tickets")
    escalation_level = models.ForeignKey(EscalationLevel, on_delete=models.PROTECT, related_name="tickets")
    token = models.CharField(max_length=64, unique=True, default=new_status_token, editable=False)
    # The web form's one-time key: a double click or a browser retry finds this ticket instead of a new one.
    submission_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)

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
    # Who answered first, and for which team: the supervisor's first-response figures per agent and team.
    first_response_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="first_responses"
    )
    first_response_team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="first_responses"
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
                condition=Q(status__in=OPEN_STATUS_VALUES),
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
                condition=Q(status__in=OPEN_STATUS_VALUES, assignee__isnull=True),
                name="ticket_unassigned_queue_idx",
            ),
            models.Index(*QUEUE_INDEX_KEYS, condition=Q(status="waiting"), name="ticket_waiting_queue_idx"),
            # The queue's tab counts: COUNT(*) FILTER (...) over open tickets, from the index alone.
            models.Index(
                fields=["team", "assignee", "promise_state", "status"],
                condition=Q(status__in=OPEN_STATUS_VALUES),
                name="ticket_open_counts_idx",
            ),
            # "Mine": an assignee's open tickets in the queue's order.
            models.Index(
                "assignee",
                *QUEUE_INDEX_KEYS,
                condition=Q(status__in=OPEN_STATUS_VALUES),
                name="ticket_assignee_queue_idx",
            ),
            # The dashboard's first-response figures: WHERE first_response_at in a period.
            models.Index(
                fields=["first_response_at"],
                condition=Q(first_response_at__isnull=False),
                name="ticket_first_response_idx",
            ),
        ]
        constraints = [
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
                | Q(status__in=OPEN_STATUS_VALUES, resolved_at__isnull=True),
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
        if not _ticket_writes_allowed.get():
            raise TicketWriteOutsideServices(
                "Tickets change only through tickets.services, which records each change in the interaction log."
            )
        super().save(*args, **kwargs)

    @property
    def reference(self) -> str:
        return reference_of(self.pk) if self.pk else ""

    @property
    def is_open(self) -> bool:
        return self.status in Ticket.OPEN_STATUSES

    def latest_handoff(self) -> Interaction | None:
        """The last transfer or escalation note: what the people who have the ticket now read first."""
        return (
            self.interactions.filter(kind__in=[InteractionKind.TRANSFER, InteractionKind.ESCALATION])
            .order_by("-created_at", "-id")
            .first()
        )

    def latest_resolution(self) -> Interaction | None:
        """The last resolution, with its rating (if any) joined in: what the customer rates now."""
        return (
            self.interactions.filter(kind=InteractionKind.RESOLUTION)
            .select_related("rating")
            .order_by("-created_at", "-id")
            .first()
        )

    def allowed_statuses(self) -> list[str]:
        """Statuses this ticket may move to next, in the order of the Status choices."""
        return allowed_statuses(self.status)


# --- The interaction log ------------------------------------------------------------------------


class AppendOnlyError(RuntimeError):
    pass


_APPEND_ONLY = "The interaction log is append-only: interactions are never edited or deleted."


class InteractionQuerySet(models.QuerySet["Interaction"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError(_APPEND_ONLY)

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(_APPEND_ONLY)

    def public(self) -> InteractionQuerySet:
        return self.filter(is_public=True)


class InteractionKind(models.TextChoices):
    CUSTOMER_MESSAGE = "customer_message", "Customer message"
    REPLY = "reply", "Reply"
    NOTE = "note", "Internal note"
    CALL = "call", "Phone call"
    ASSIGNMENT = "assignment", "Assignment"
    STATUS_CHANGE = "status_change", "Status change"
    RESOLUTION = "resolution", "Resolution"
    REOPEN = "reopen", "Reopened"
    PROMISE_MADE = "promise_made", "Promise made"
    PROMISE_CHANGED = "promise_changed", "Promise changed"
    PROMISE_SETTLED = "promise_settled", "Promise settled"
    PROMISE_PAUSED = "promise_paused", "Promise clock paused"
    PROMISE_RESUMED = "promise_resumed", "Promise clock resumed"
    AT_RISK = "at_risk", "Promise at risk"
    BREACH = "breach", "Promise breached"
    ESCALATION = "escalation", "Escalation"
    TRANSFER = "transfer", "Transfer"
    RATING = "rating", "Rating"
    DETAILS_CHANGED = "details_changed", "Details changed"
    CUSTOMER_UPDATED = "customer_updated", "Customer's details updated"
    LINK_REPLACED = "link_replaced", "Status link replaced"


class Author(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    STAFF = "staff", "Staff"
    SYSTEM = "system", "System"


class Interaction(models.Model):
    """One thing that happened on a ticket, with the customer's name as it was at that moment.

    Append-only: the model, its QuerySet and (by migration) a database trigger refuse edits and deletes.
    """

    Kind = InteractionKind
    Author = Author

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="interactions")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    author_kind = models.CharField(max_length=10, choices=Author.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="interactions"
    )
    customer_name = models.CharField(max_length=200, help_text="The customer's name at that moment.")
    body = models.TextField(blank=True)
    is_public = models.BooleanField(help_text="Whether the customer sees it on their status page.")
    data = models.JSONField(default=dict, blank=True, help_text="Structured details: from/to status, call length…")
    created_at = models.DateTimeField()

    objects = InteractionQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The timeline: WHERE ticket_id = … ORDER BY created_at.
            models.Index(fields=["ticket", "created_at"], name="interaction_timeline_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=InteractionKind.values), name="interaction_kind_valid"),
            models.CheckConstraint(condition=Q(author_kind__in=Author.values), name="interaction_author_kind_valid"),
            models.CheckConstraint(condition=~Q(customer_name=""), name="interaction_customer_name_not_empty"),
            # Staff entries name their author; customer and system entries have none.
            models.CheckConstraint(
                condition=Q(author_kind="staff", author__isnull=False)
                | (~Q(author_kind="staff") & Q(author__isnull=True)),
                name="interaction_author_matches_kind",
            ),
            # Internal notes are never shown to the customer.
            models.CheckConstraint(condition=~Q(kind="note", is_public=True), name="interaction_note_is_internal"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on ticket {self.ticket_id} at {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(_APPEND_ONLY)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(_APPEND_ONLY)


# --- Promises -----------------------------------------------------------------------------------


class PromiseOutcome(models.TextChoices):
    PENDING = "pending", "Pending"
    KEPT = "kept", "Kept"
    BROKEN = "broken", "Broken"
    SUPERSEDED = "superseded", "Superseded"


class Promise(models.Model):
    """One promise made to a customer: when, in which words, and against what estimate."""

    Outcome = PromiseOutcome

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="promises")
    # The team that had the ticket when the promise was made: whose word it was, for the team figures.
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="promises")
    due_at = models.DateTimeField()
    made_at = models.DateTimeField()
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="promises_made")
    words = models.TextField(help_text="What the customer was told, in the words used.")
    estimate = models.DurationField(null=True, blank=True, help_text="The guard's estimate at that moment.")
    estimate_sample_size = models.PositiveIntegerField(null=True, blank=True)
    estimate_percentile = models.FloatField(
        null=True, blank=True, help_text="The share of similar tickets the estimate says are solved in time."
    )
    estimate_basis = models.CharField(
        max_length=20, blank=True, default="", db_default="", help_text="Which tickets the estimate came from."
    )
    overrode_estimate = models.BooleanField(default=False, help_text="Promised sooner than the estimate.")
    override_reason = models.TextField(blank=True, help_text="Why sooner than the estimate is realistic.")
    change_reason = models.TextField(blank=True, help_text="Why an earlier promise was changed.")
    paused_for = models.DurationField(default=timedelta(0), help_text="Time added while waiting on the customer.")
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.PENDING)
    settled_at = models.DateTimeField(null=True, blank=True)
    # When the ticket was in fact resolved: at settling for a kept promise or one broken late, at the later
    # resolution for one broken by a breach. Slack is due_at - resolved_at. None for superseded promises.
    resolved_at = models.DateTimeField(null=True, blank=True)

    # Not stored: the guard's verdict when the promise was made, set by services.make_promise for its caller.
    verdict: Any = None

    class Meta:
        ordering = ["made_at", "id"]
        indexes = [
            # The dashboard's figures: promises made in a period.
            models.Index(fields=["made_at"], name="promise_made_at_idx"),
            # ... and their medians, over the promises with a resolution (a fifth of them) alone.
            models.Index(
                fields=["made_at"], condition=Q(resolved_at__isnull=False), name="promise_resolved_made_at_idx"
            ),
        ]
        constraints = [
            # One current (pending) promise per ticket.
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(outcome="pending"), name="promise_one_pending_per_ticket"
            ),
            models.CheckConstraint(condition=Q(due_at__gt=models.F("made_at")), name="promise_due_after_made"),
            models.CheckConstraint(condition=Q(outcome__in=PromiseOutcome.values), name="promise_outcome_valid"),
            models.CheckConstraint(
                condition=Q(outcome="pending", settled_at__isnull=True)
                | (~Q(outcome="pending") & Q(settled_at__isnull=False)),
                name="promise_settled_when_not_pending",
            ),
            models.CheckConstraint(
                condition=Q(overrode_estimate=False) | ~Q(override_reason=""), name="promise_override_has_reason"
            ),
            models.CheckConstraint(condition=~Q(words=""), name="promise_words_not_empty"),
        ]

    def __str__(self) -> str:
        return f"Promise on ticket {self.ticket_id} due {self.due_at:%Y-%m-%d %H:%M} ({self.outcome})"


class Rating(models.Model):
    """How the customer rated one resolution: one row per resolution, enforced by the database. A later rating
    of the same resolution replaces it (each rating is also an Interaction, so the log keeps every one); a
    ticket resolved again after a reopen can be rated again. The supervisor figures count these rows. ``ticket``
    and ``agent`` repeat the resolution's ticket and author, so the figures group without a join."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="ratings")
    resolution = models.OneToOneField(Interaction, on_delete=models.PROTECT, related_name="rating")
    stars = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    # Whose help is rated: the agent who resolved it and the team that had it then.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="ratings_received"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="ratings")
    rated_at = models.DateTimeField(help_text="When the rating (or the one that replaced it) was given.")

    class Meta:
        ordering = ["rated_at", "id"]
        indexes = [
            # The figures' ratings: WHERE rated_at in a period.
            models.Index(fields=["rated_at"], name="rating_rated_at_idx"),
        ]
        constraints = [models.CheckConstraint(condition=Q(stars__gte=1, stars__lte=5), name="rating_stars_1_to_5")]

    def __str__(self) -> str:
        return f"{self.stars}/5 for ticket {self.ticket_id}"


def rating_of(resolution: Interaction) -> Rating | None:
    """The rating of this resolution, or None (read with ``Ticket.latest_resolution``, it costs no query)."""
    try:
        return resolution.rating  # the reverse side of Rating.resolution
    except Rating.DoesNotExist:
        return None


class ReplacedLink(models.Model):
    """A status link that staff replaced with a new one. Only a digest of its token is kept: enough to tell
    whoever opens the old link that it was replaced, instead of the 404 of a link that never existed."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="replaced_links")
    digest = models.CharField(max_length=64, unique=True)
    replaced_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(digest__regex=r"^[0-9a-f]{64}$"), name="replaced_link_digest_sha256")
        ]

    def __str__(self) -> str:
        return f"Replaced status link of ticket {self.ticket_id}"


# --- The email outbox ---------------------------------------------------------------------------


class EmailState(models.TextChoices):
    """Where an outbox row's email stands; ``tickets.outbox`` moves it, one row at a time."""

    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    NO_ADDRESS = "no_address", "Not sent: no address"
    GIVEN_UP = "given_up", "Given up: a person decides"


# The rows the outbox still works on or that wait for a person: what the drain and /healthz read.
OUTBOX_OPEN_STATES = [EmailState.PENDING, EmailState.SENDING, EmailState.GIVEN_UP]


class OutboxEmail(models.Model):
    """A row that is also an email to send, the outbox's fields (``tickets.outbox``): Notification, CustomerEmail.

    pending -> sending -> sent (or no address); a failed send goes back to pending until ``next_attempt_at``, or
    is given up after ``outbox.MAX_ATTEMPTS``; a row left sending by a drain that died is *in doubt*: sent once
    more, and given up if it comes into doubt again.
    """

    EmailState = EmailState

    email_state = models.CharField(max_length=10, choices=EmailState.choices, default=EmailState.PENDING)
    # When the mail server accepted it (for no address: when the outbox found that out).
    emailed_at = models.DateTimeField(null=True, blank=True)
    # Sends tried, counted when a drain claims the row, so a send its worker never finished counts too.
    email_attempts = models.PositiveSmallIntegerField(default=0)
    # After a failed send, a pending row waits until then.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # While sending: when the drain that claimed the row began, by the database's clock.
    sending_since = models.DateTimeField(null=True, blank=True)
    # Times a drain found the row left sending by a drain that was gone: the mail may or may not have left.
    times_in_doubt = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(condition=Q(email_state__in=EmailState.values), name="%(class)s_email_state_valid"),
            models.CheckConstraint(
                condition=Q(email_state=EmailState.SENDING, sending_since__isnull=False)
                | (~Q(email_state=EmailState.SENDING) & Q(sending_since__isnull=True)),
                name="%(class)s_sending_since_iff_sending",
            ),
        ]


# --- Notifications ------------------------------------------------------------------------------


class NotificationEvent(models.TextChoices):
    AT_RISK = "at_risk", "Promise at risk"
    BREACH = "breach", "Promise breached"
    ESCALATION = "escalation", "Escalated to you"
    TRANSFER = "transfer", "Transferred to you"
    ASSIGNMENT = "assignment", "Assigned to you"
    CUSTOMER_REPLY = "customer_reply", "Customer replied"
    NEW_PROMISE_NEEDED = "new_promise_needed", "New promise needed"


class Notification(OutboxEmail):
    """An in-app notice, also the outbox for its email. The dedupe key makes each event notify once."""

    Event = NotificationEvent

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="notifications")
    event = models.CharField(max_length=30, choices=Event.choices)
    # e.g. "breach:promise=17:user=4": one notification per (event, promise, recipient), whatever retries.
    dedupe_key = models.CharField(max_length=200, unique=True)
    message = models.CharField(max_length=300)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta(OutboxEmail.Meta):
        ordering = ["-created_at", "-id"]
        indexes = [
            # The header badge: WHERE recipient_id = … AND read_at IS NULL.
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread_idx"),
            # The outbox's claim (WHERE email_state = 'pending' AND due, or 'sending' since long, ORDER BY id) and
            # /healthz's counts: only the rows still open, never the sent ones.
            models.Index(
                fields=["id"], condition=Q(email_state__in=OUTBOX_OPEN_STATES), name="notification_outbox_idx"
            ),
        ]
        constraints = [
            *OutboxEmail.Meta.constraints,
            models.CheckConstraint(condition=Q(event__in=NotificationEvent.values), name="notification_event_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_display()} for {self.recipient} on ticket {self.ticket_id}"


class Attachment(models.Model):
    """A file that came with a message. Stored under a generated name outside the web root; served only
    as a download, by views that check the status token or the agent's access."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="attachments")
    interaction = models.ForeignKey(Interaction, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to=storage_name, max_length=200)
    original_name = models.CharField(max_length=200, help_text="As the customer named it, cleaned for display.")
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(size__gt=0), name="attachment_not_empty")]

    def __str__(self) -> str:
        return f"{self.original_name} on ticket {self.ticket_id}"


class CustomerEmail(OutboxEmail):
    """An email to the customer about one interaction (a reply, a promise, a new link ...): the outbox row,
    rendered when the interaction was written, sent by a worker after commit. One per interaction, whatever retries."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="customer_emails")
    # The interaction it tells about; none for a "your links" email.
    interaction = models.OneToOneField(
        Interaction, null=True, blank=True, on_delete=models.CASCADE, related_name="customer_email"
    )
    to = models.EmailField()
    subject = models.CharField(max_length=300)
    text_body = models.TextField()
    html_body = models.TextField()
    created_at = models.DateTimeField()

    class Meta(OutboxEmail.Meta):
        indexes = [
            # As notification_outbox_idx: the outbox's claim and /healthz's counts.
            models.Index(
                fields=["id"], condition=Q(email_state__in=OUTBOX_OPEN_STATES), name="customer_email_outbox_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Email to {self.to} about ticket {self.ticket_id}"


# --- The promise engine's own state ------------------------------------------------------------


class SweepHeartbeat(models.Model):
    """One row per sweeper: when it last ran and what it did. A stale heartbeat is itself an alert."""

    name = models.CharField(max_length=50, unique=True)
    last_run_at = models.DateTimeField()
    looked_at = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    duration_ms = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} ran at {self.last_run_at:%Y-%m-%d %H:%M:%S}"


class FiguresSnapshot(models.Model):
    """The supervisor figures for a rolling period (the last 7, 30 or 90 days), computed ahead by a periodic
    task so the page reads one row instead of aggregating hundreds of thousands (see supervision.figures)."""

    days = models.PositiveSmallIntegerField(unique=True)
    computed_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0, help_text="How long computing it took.")
    data = models.JSONField()

    def __str__(self) -> str:
        return f"Figures for the last {self.days} days, as of {self.computed_at:%Y-%m-%d %H:%M}"


# --- API access ---------------------------------------------------------------------------------


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def live(self, now: Any) -> ApiTokenQuerySet:
        """Tokens neither revoked nor expired (``ApiToken.is_usable_at`` says the same of one token)."""
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), revoked_at__isnull=True)

    def usable(self, now: Any) -> ApiTokenQuerySet:
        """Tokens that still open the API: live, of an active staff member (the API's token lookup,
        ``tickets.api.access.token_user``, reads them through this)."""
        return self.live(now).filter(user__is_active=True, user__is_staff=True)

    def revoke(self, now: Any) -> int:
        """Revoke those not revoked yet (once: a second revoke keeps the first time); returns how many."""
        return self.filter(revoked_at__isnull=True).update(revoked_at=now)


class ApiToken(models.Model):
    """A personal API token: an integration acts as the staff member who created it, with their permissions.

    Only a SHA-256 digest of the secret is stored, so a copy of the database opens nothing; the secret is
    shown once, when the token is created. (A fast digest is enough: the secret is 256 random bits, not a
    password a person chose, so there is nothing to guess from it.) ``prefix`` is the first characters of
    the secret, shown in lists so people can tell their tokens apart.
    """

    PREFIX = "pd_"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What it is for, e.g. “CRM sync”.")
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="api_token_name_not_empty"),
            models.CheckConstraint(condition=Q(digest__regex=r"^[0-9a-f]{64}$"), name="api_token_digest_sha256"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) of {self.user}"

    def is_usable_at(self, now: Any) -> bool:
        """For the token list: neither revoked nor expired (its owner's status is ``usable``'s to check)."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


# The estimates and the imported history live in their own module; imported here so Django registers them.
from tickets.estimates.models import Estimate as Estimate  # noqa: E402
from tickets.estimates.models import HistoryImport as HistoryImport  # noqa: E402
from tickets.estimates.models import PastTicket as PastTicket  # noqa: E402
