"""Seeding: make the demo world exist, idempotently, through the ticket services."""

from __future__ import annotations

from datetime import datetime, timedelta
from operator import attrgetter

from django.contrib.auth.models import Group, User
from django.db import models, transaction

from customers.models import Customer
from customers.services import recognise_customer
from helpdesk.text import normalise_email
from tickets import services
from tickets.demo.history import ensure_history
from tickets.demo.shapes import (
    ROLE_GROUPS,
    Action,
    DemoCustomer,
    DemoPromise,
    DemoTicket,
    DemoUser,
    SeedReport,
    StaffRole,
    Step,
)
from tickets.demo.world import (
    CUSTOMERS_BY_EMAIL,
    DEMO_CALENDARS,
    DEMO_CATEGORIES,
    DEMO_CUSTOMERS,
    DEMO_PATHS,
    DEMO_USERS,
    SUPERVISOR,
    TEAM_NAMES,
    TICKETS_BY_EMAIL,
)
from tickets.estimates.refresh import refresh_estimates
from tickets.models import (
    Calendar,
    Category,
    Channel,
    EscalationLevel,
    EscalationPath,
    Interaction,
    Team,
    Ticket,
    TicketStatus,
)
from tickets.models.calendar import WEEKDAYS, parse_spans, stored_spans
from tickets.services.calendars import save_calendar

# --- Seeding -----------------------------------------------------------------------------------

COUNTED_MODELS: tuple[tuple[str, type[models.Model]], ...] = (
    ("users", User),
    ("calendars", Calendar),
    ("teams", Team),
    ("escalation paths", EscalationPath),
    ("escalation levels", EscalationLevel),
    ("categories", Category),
    ("customers", Customer),
    ("tickets", Ticket),
    ("interactions", Interaction),
)


def count_rows() -> dict[str, int]:
    return {label: model._default_manager.count() for label, model in COUNTED_MODELS}


def seed(*, now: datetime) -> SeedReport:
    """Load the demo world, everything dated relative to ``now``; safe to run again (see the module docstring)."""
    before = count_rows()
    with transaction.atomic():
        users = _ensure_staff()
        _ensure_calendars()
        teams = _ensure_teams(users)
        paths = _ensure_paths(teams)
        categories = _ensure_categories(paths)
        _ensure_customers_and_tickets(now=now, users=users, categories=categories)
        ensure_history(now=now, users=users, categories=categories)
        # The overpromise guard's figures from the demo's history, before anyone promises anything.
        refresh_estimates(now=now)
    return SeedReport(before=before, after=count_rows(), logins=DEMO_USERS)


def _ensure_staff() -> dict[str, User]:
    """Create the demo logins if missing, and make what the logins table says about them true again."""
    users = {}
    for spec in DEMO_USERS:
        user, _ = User.objects.get_or_create(
            username=spec.username,
            defaults={
                "first_name": spec.first_name,
                "last_name": spec.last_name,
                "email": f"{spec.username}@tillwise.example",
            },
        )
        user.is_active = True
        user.is_staff = True
        user.is_superuser = user.is_superuser or spec.role == StaffRole.ADMIN
        user.set_password(spec.password)
        user.save(update_fields=["is_active", "is_staff", "is_superuser", "password"])
        if spec.role in ROLE_GROUPS:
            user.groups.add(Group.objects.get_or_create(name=ROLE_GROUPS[spec.role])[0])
        users[spec.username] = user
    return users


def _ensure_calendars() -> None:
    """The demo's calendars, through the calendar rules, each made once (one changed since is left as it is)."""
    for spec in DEMO_CALENDARS:
        if not Calendar.objects.filter(name=spec["name"]).exists():
            weekly = [
                stored_spans(parse_spans(day, day=name)) for day, name in zip(spec["weekly"], WEEKDAYS, strict=True)
            ]
            save_calendar(Calendar(**{**spec, "weekly": weekly}))


def _ensure_teams(users: dict[str, User]) -> dict[str, Team]:
    """The three teams, led by the supervisor when new; each demo agent is (again) a member of theirs."""
    teams = {
        name: Team.objects.get_or_create(name=name, defaults={"lead": users[SUPERVISOR]})[0] for name in TEAM_NAMES
    }
    for spec in DEMO_USERS:
        if spec.team:
            teams[spec.team].members.add(users[spec.username])
    return teams


def _ensure_paths(teams: dict[str, Team]) -> dict[str, EscalationPath]:
    """Each path with its levels; the levels of a path that already exists are left as they are."""
    paths = {}
    for spec in DEMO_PATHS:
        path, created = EscalationPath.objects.get_or_create(name=spec.name, defaults={"description": spec.description})
        if created:
            for position, (level_name, team_name) in enumerate(spec.levels, start=1):
                EscalationLevel.objects.create(path=path, position=position, name=level_name, team=teams[team_name])
        paths[spec.name] = path
    return paths


def _ensure_categories(paths: dict[str, EscalationPath]) -> dict[str, Category]:
    return {
        spec.slug: Category.objects.get_or_create(
            slug=spec.slug,
            defaults={
                "name": spec.name,
                "description": spec.description,
                "default_priority": spec.default_priority,
                "escalation_path": paths[spec.path],
                "default_target": spec.default_target,
                "warn_min": spec.warn_min,
            },
        )[0]
        for spec in DEMO_CATEGORIES
    }


def _ensure_customers_and_tickets(*, now: datetime, users: dict[str, User], categories: dict[str, Category]) -> None:
    """Create missing customers, then play the tickets of every demo customer who has none yet.

    The tickets are played oldest first across all customers, so references (PD-1001, …) rise with
    time, and a customer's name on each ticket is the one they used then.
    """
    to_play: list[DemoTicket] = []
    for spec in DEMO_CUSTOMERS:
        history = TICKETS_BY_EMAIL[spec.email]
        first_contact = now - max((ticket.opened_ago for ticket in history), default=timedelta(0))
        customer = _ensure_customer(spec, first_contact=first_contact)
        if not customer.tickets.exists():
            to_play.extend(history)
    for ticket in sorted(to_play, key=attrgetter("opened_ago"), reverse=True):
        _play(ticket, now=now, users=users, category=categories[ticket.category])


def _ensure_customer(spec: DemoCustomer, *, first_contact: datetime) -> Customer:
    """The customer with this email, created (and dated from their first ticket) only if missing."""
    existing = Customer.objects.filter(email=normalise_email(spec.email)).first()
    if existing is not None:
        return existing
    customer = recognise_customer(email=spec.email, name=spec.name, phone=spec.phone)
    details = {
        "preferred_name": spec.preferred_name,
        "organisation": spec.organisation,
        "tier": spec.tier,
        "time_zone": spec.time_zone,
        "notes": spec.notes,
        "created_at": first_contact,
    }
    for name, value in details.items():
        setattr(customer, name, value)
    customer.save(update_fields=[*details, "updated_at"])
    return customer


def _play(spec: DemoTicket, *, now: datetime, users: dict[str, User], category: Category) -> Ticket:
    """Open the ticket and replay its conversation through the services, each step at its own moment."""
    customer = CUSTOMERS_BY_EMAIL[spec.email]
    at = now - spec.opened_ago
    first_level = EscalationLevel.objects.first_of(category.escalation_path_id)
    assert first_level is not None
    agent = _agent_for(first_level.team, users)
    ticket = services.open_ticket(
        name=spec.as_name or customer.name,
        email=customer.email,
        subject=spec.subject,
        body=spec.body,
        category=category,
        channel=spec.channel,
        priority=spec.priority,
        # A phone ticket is typed in by the agent who took the call.
        by=agent if spec.channel == Channel.PHONE else None,
        now=at,
    )
    promise_at = at + spec.promise.made_after if spec.promise else None
    for step in spec.steps:
        at += step.after
        if at >= now:
            raise ValueError(f"The demo ticket {spec.subject!r} runs into the future at step {step}.")
        if spec.promise and promise_at and promise_at <= at:
            _promise(ticket, spec.promise, at=promise_at, by=agent)
            promise_at = None
        _perform(ticket, step, at=at, by=users[step.by] if step.by else agent, agent=agent)
    if spec.promise and promise_at:
        _promise(ticket, spec.promise, at=promise_at, by=agent)
    return ticket


def _promise(ticket: Ticket, spec: DemoPromise, *, at: datetime, by: User) -> None:
    services.make_promise(ticket, due_at=at + spec.due_in, by=by, words=spec.words, reason=spec.reason, now=at)


def _agent_for(team: Team, users: dict[str, User]) -> User:
    """The demo agent working this team's queue; the supervisor covers a team without one."""
    username = next((spec.username for spec in DEMO_USERS if spec.team == team.name), SUPERVISOR)
    return users[username]


def _perform(ticket: Ticket, step: Step, *, at: datetime, by: User, agent: User) -> None:
    match step.action:
        case Action.CUSTOMER:
            services.receive_customer_message(ticket, body=step.text, now=at)
        case Action.REOPEN:
            services.reopen(ticket, reason=step.text, now=at)
        case Action.REPLY:
            services.reply(ticket, by=by, body=step.text, now=at)
        case Action.NOTE:
            services.add_note(ticket, by=by, body=step.text, now=at)
        case Action.CALL:
            services.log_call(ticket, by=by, summary=step.text, duration=step.call_length, now=at)
        case Action.ASSIGN:
            services.assign(ticket, assignee=agent, by=by, now=at)
        case Action.WAIT:
            services.change_status(ticket, to=TicketStatus.WAITING, by=by, note=step.text, now=at)
        case Action.RESOLVE:
            services.resolve(ticket, by=by, summary=step.text, now=at)
        case Action.CLOSE:
            services.change_status(ticket, to=TicketStatus.CLOSED, by=by, note=step.text, now=at)


# --- The report --------------------------------------------------------------------------------


def format_report(report: SeedReport, *, sign_in_url: str) -> str:
    """The command's output: what the demo holds (and what this run added), then the logins."""
    lines = ["Demo data ready (in the database, added by this run):"]
    width = max(len(label) for label in report.after)
    lines += [f"  {label:<{width}}  {report.after[label]:>4}  (+{report.created(label)})" for label in report.after]
    lines += ["", f"Demo logins: sign in at {sign_in_url}", *_table(report.logins)]
    return "\n".join(lines) + "\n"


def _table(logins: tuple[DemoUser, ...]) -> list[str]:
    rows = [("username", "role", "password"), *((u.username, u.role_label, u.password) for u in logins)]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    return ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
