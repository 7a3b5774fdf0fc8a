"""The vocabularies of the desk: priorities, channels, statuses, promise states, log kinds, email states."""

from __future__ import annotations

from django.db import models


class Priority(models.IntegerChoices):
    LOW = 1, "Low"
    NORMAL = 2, "Normal"
    HIGH = 3, "High"
    URGENT = 4, "Urgent"


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


class PromiseOutcome(models.TextChoices):
    PENDING = "pending", "Pending"
    KEPT = "kept", "Kept"
    BROKEN = "broken", "Broken"
    SUPERSEDED = "superseded", "Superseded"


class EmailState(models.TextChoices):
    """Where an outbox row's email stands; ``tickets.outbox`` moves it, one row at a time."""

    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Being sent"
    SENT = "sent", "Sent"
    NO_ADDRESS = "no_address", "Not sent: no address"
    GIVEN_UP = "given_up", "Given up: a person decides"


# The rows the outbox still works on or that wait for a person: what the drain and /healthz read.
OUTBOX_OPEN_STATES = [EmailState.PENDING, EmailState.SENDING, EmailState.GIVEN_UP]


class NotificationEvent(models.TextChoices):
    AT_RISK = "at_risk", "Promise at risk"
    BREACH = "breach", "Promise breached"
    ESCALATION = "escalation", "Escalated to you"
    TRANSFER = "transfer", "Transferred to you"
    ASSIGNMENT = "assignment", "Assigned to you"
    CUSTOMER_REPLY = "customer_reply", "Customer replied"
    NEW_PROMISE_NEEDED = "new_promise_needed", "New promise needed"
