"""The shapes of the demo data: staff, paths, categories, customers, tickets and their steps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from customers.models import CustomerTier
from tickets.models import (
    Channel,
    Priority,
    Role,
)

# --- The shapes of the data --------------------------------------------------------------------


class StaffRole(StrEnum):
    ADMIN = "admin"
    AGENT = "agent"
    SUPERVISOR = "supervisor"


# The Django group each role needs; the admin is a superuser and needs none.
ROLE_GROUPS: dict[StaffRole, str] = {StaffRole.AGENT: Role.AGENTS, StaffRole.SUPERVISOR: Role.SUPERVISORS}


@dataclass(frozen=True)
class DemoUser:
    """A staff login printed at the end of the command, so the password must be simple to type."""

    username: str
    first_name: str
    last_name: str
    role: StaffRole
    password: str
    team: str = ""

    @property
    def role_label(self) -> str:
        if self.role == StaffRole.ADMIN:
            return "admin (superuser)"
        return f"{self.role}, {self.team}" if self.team else str(self.role)


@dataclass(frozen=True)
class DemoPath:
    name: str
    description: str
    levels: tuple[tuple[str, str], ...]  # (level name, team name), from position 1 up


@dataclass(frozen=True)
class DemoCategory:
    name: str
    slug: str
    description: str
    default_priority: Priority
    path: str
    default_target: timedelta
    warn_min: timedelta | None = None  # a shorter warning for fast-moving topics


@dataclass(frozen=True)
class DemoCustomer:
    name: str
    email: str
    organisation: str = ""
    tier: CustomerTier = CustomerTier.STANDARD
    preferred_name: str = ""
    phone: str = ""
    time_zone: str = ""
    notes: str = ""


class Action(StrEnum):
    CUSTOMER = "customer"
    REPLY = "reply"
    NOTE = "note"
    CALL = "call"
    ASSIGN = "assign"
    WAIT = "wait"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"


@dataclass(frozen=True)
class Step:
    """One thing that happens on a ticket, ``after`` the previous step (or the opening message)."""

    action: Action
    after: timedelta
    text: str = ""
    by: str = ""  # a demo username; blank: the demo agent of the ticket's team
    call_length: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        # Strictly later than the previous step, so the timeline reads in the order it was written.
        if self.after <= timedelta(0):
            raise ValueError(f"A demo step must come after the previous one: {self}")


@dataclass(frozen=True)
class DemoPromise:
    """A promise made ``made_after`` the ticket opened, due ``due_in`` after that.

    For open tickets the due time lands just after seeding, so a fresh ``make run`` shows promises
    going at risk and breaching (and escalating) by themselves within minutes.
    """

    made_after: timedelta
    due_in: timedelta
    words: str
    reason: str = ""  # needed when sooner than the category's estimate


@dataclass(frozen=True)
class DemoTicket:
    email: str  # the customer's
    subject: str
    category: str  # slug
    opened_ago: timedelta
    body: str
    steps: tuple[Step, ...] = ()
    channel: Channel = Channel.WEB
    priority: Priority | None = None
    as_name: str = ""  # the name they gave on this ticket, when it is not the one they use today
    promise: DemoPromise | None = None


@dataclass(frozen=True)
class SeedReport:
    """Row counts before and after a run: what the demo holds, and what this run added."""

    before: dict[str, int]
    after: dict[str, int]
    logins: tuple[DemoUser, ...] = ()

    def created(self, label: str) -> int:
        return self.after[label] - self.before[label]
