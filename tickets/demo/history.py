"""Eight weeks of settled promises, so the supervisor's figures and charts have a story to tell.

Generated, not hand-written like the world's conversations, but deterministic (a fixed seed) and played
through the services like everything else. Each agent has a habit: Priya promises sooner than history
says and often breaks her word, Tom promises what history says and keeps it, Samuel (second level)
takes the escalated ones. Idempotent: nothing is played once the history's customers exist.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.contrib.auth.models import User

from customers.models import Customer
from tickets import services
from tickets.models import Category, Ticket
from tickets.promise_rules import estimate_for

HISTORY_DOMAIN = "history.tillwise-customers.example"
WEEKS = 8
TICKETS = 72
SEED = 1042

# username -> (promise as a share of the estimate, actual time as a share of the promise: low, high)
HABITS = {
    "priya": (0.6, (0.7, 1.6)),
    "tom": (1.1, (0.5, 1.05)),
    "sam": (0.9, (0.6, 1.3)),
}

CUSTOMER_NAMES = (
    "Hannah Lee", "Marco Rossi", "Aisha Bello", "Jonas Weber", "Sofia Alves", "Liam Byrne", "Mei Chen",
    "Omar Haddad", "Nora Jensen", "Diego Ruiz", "Zara Khan", "Felix Braun",
)  # fmt: skip
SUBJECTS = {
    "Billing": ("Charged twice this month", "Invoice shows the old address", "Payout is three days late"),
    "Standard": ("Card reader will not pair", "Cannot sign in on the new tablet", "Order arrived damaged"),
}


def ensure_history(*, now: datetime, users: dict[str, User], categories: dict[str, Category]) -> None:
    """Play the history once: a ticket every 18 hours or so over the eight weeks before the last three days."""
    if Customer.objects.filter(email__endswith=f"@{HISTORY_DOMAIN}").exists():
        return
    rng = random.Random(SEED)  # noqa: S311 - a repeatable demo, not a secret
    start = now - timedelta(weeks=WEEKS)
    step = (timedelta(weeks=WEEKS) - timedelta(days=3)) / TICKETS
    for number in range(TICKETS):
        category = list(categories.values())[number % len(categories)]
        _play(number, category, at=start + number * step, rng=rng, users=users)


def _play(number: int, category: Category, *, at: datetime, rng: random.Random, users: dict[str, User]) -> None:
    name = CUSTOMER_NAMES[number % len(CUSTOMER_NAMES)]
    path = category.escalation_path.name
    ticket = services.open_ticket(
        name=name,
        email=f"{name.split()[0].lower()}@{HISTORY_DOMAIN}",
        subject=rng.choice(SUBJECTS.get(path, SUBJECTS["Standard"])),
        body="It stopped working this morning and I need it for tomorrow.",
        category=category,
        now=at,
    )
    agent = users["tom"] if ticket.team.name == "Billing" else users["priya"]
    at += timedelta(minutes=rng.randint(4, 150))
    services.reply(ticket, by=agent, body="Thanks for telling us: I am looking into it now.", now=at)
    if agent.username == "priya" and rng.random() < 0.25:
        at += timedelta(minutes=rng.randint(10, 60))
        services.escalate(ticket, by=agent, note="Needs technical support: the logs show a device fault.", now=at)
        agent = users["sam"]
        at += timedelta(minutes=rng.randint(10, 90))
    _promise_and_resolve(ticket, agent, at=at, rng=rng)


def _promise_and_resolve(ticket: Ticket, agent: User, *, at: datetime, rng: random.Random) -> None:
    """Promise after the agent's habit, sometimes renegotiate, resolve early or late, sometimes get rated."""
    share, (low, high) = HABITS[agent.username]
    estimate = estimate_for(ticket.category, ticket.priority).remaining
    span = estimate * share * rng.uniform(0.8, 1.2)
    reason = "The customer needs it for tomorrow and the fix is a known one."  # stored only if sooner
    services.make_promise(
        ticket, due_at=at + span, by=agent, words="We will have it fixed by then.", reason=reason, now=at
    )
    if rng.random() < 0.15:
        at += span / 2
        span = span * 1.5
        services.make_promise(
            ticket,
            due_at=at + span,
            by=agent,
            words="We need a little longer: the new time is the one we will keep.",
            reason=reason,
            change_reason="The supplier needs another day for the part.",
            now=at,
        )
    took = span * rng.uniform(low, high)
    resolved = at + took
    services.resolve(ticket, by=agent, summary="Fixed: everything works again on your account.", now=resolved)
    if rng.random() < 0.6:
        stars = 5 if took < span * 0.8 else 4 if took <= span else rng.choice((2, 3))
        services.rate(ticket, rating=stars, now=resolved + timedelta(hours=rng.randint(1, 20)))
