"""A small, fixed world whose every figure is worked out by hand in the tests.

All tickets open on Wednesday 4 November 2026 at 09:00 UTC (T). Estimates are the category's 4 h target.

- A  alice promises 6 h at T, replies at T+10 min, resolves at T+3 h (kept, 3 h early); rated 5.
- B  alice promises 6 h at T, replies at T+30 min, changes it at T+1 h to T+11 h, resolves at T+12 h
     (the first changed; the second broken, 1 h late).
- C  alice promises 2 h at T, sooner than the 4 h estimate with a reason, resolves at T+30 min (kept); rated 2.
- D  alice promises 6 h at T; the sweep breaks it at T+7 h and escalates to Technical; bob replies and
     promises 5 h at T+8 h, resolves at T+10 h (bob's kept 3 h early; alice's 4 h late); rated 4.
- E  alice promises 48 h at T: still pending.
- F  alice promises 6 h at T, resolves at T+1 h (kept); the customer reopens at T+3 h; alice promises 6 h
     again and resolves at T+10 h (broken, 1 h late).
- G  40 days before T, alice promises 6 h and resolves after 1 h (kept): outside 30 days, inside 90.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import CategoryFactory, EscalationPathFactory, TicketFactory
from tickets import services
from tickets.models import Promise, PromiseOutcome
from tickets.sweep import sweep

T = datetime(2026, 11, 4, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
MIN = timedelta(minutes=1)


def promise(ticket, by, *, at, hours, **extra):
    return services.make_promise(ticket, due_at=at + hours * H, by=by, words=f"Within {hours} h.", now=at, **extra)


@pytest.fixture
def world(category, alice, bob, dave):
    def opened(name, *, at=T):
        return TicketFactory(customer=dave, category=category, subject=f"Ticket {name}", now=at)

    d = opened("D")
    promise(d, alice, at=T, hours=6)
    sweep(now=T + 7 * H)
    services.reply(d, by=bob, body="Specialist here.", now=T + 8 * H)
    promise(d, bob, at=T + 8 * H, hours=5)
    services.resolve(d, by=bob, summary="Fixed.", now=T + 10 * H)
    services.rate(d, rating=4, now=T + 11 * H)

    a = opened("A")
    promise(a, alice, at=T, hours=6)
    services.reply(a, by=alice, body="On it.", now=T + 10 * MIN)
    services.resolve(a, by=alice, summary="Fixed.", now=T + 3 * H)
    services.rate(a, rating=5, now=T + 4 * H)

    b = opened("B")
    promise(b, alice, at=T, hours=6)
    services.reply(b, by=alice, body="On it.", now=T + 30 * MIN)
    promise(b, alice, at=T + H, hours=10, change_reason="The bank needs longer.")
    services.resolve(b, by=alice, summary="Fixed.", now=T + 12 * H)

    c = opened("C")
    promise(c, alice, at=T, hours=2, reason="A known fix: one click.")
    services.resolve(c, by=alice, summary="Fixed.", now=T + 30 * MIN)
    services.rate(c, rating=2, comment="Slow to explain.", now=T + H)

    e = opened("E")
    promise(e, alice, at=T, hours=48)

    f = opened("F")
    promise(f, alice, at=T, hours=6)
    services.resolve(f, by=alice, summary="Fixed.", now=T + H)
    services.reopen(f, reason="Still broken.", now=T + 3 * H)
    promise(f, alice, at=T + 3 * H, hours=6)
    services.resolve(f, by=alice, summary="Fixed again.", now=T + 10 * H)

    g = opened("G", at=T - timedelta(days=40))
    promise(g, alice, at=T - timedelta(days=40), hours=6)
    services.resolve(g, by=alice, summary="Fixed.", now=T - timedelta(days=40) + H)
    return {"A": a, "B": b, "C": c, "D": d, "E": e, "F": f, "G": g}


def settled_promise(ticket, by, *, kept, at=T, percentile=0.8, basis="category", sooner=False, estimate=4 * H):
    """A settled promise, stored directly: the guard's calibration reads only its estimate and whether it was
    followed, its outcome, its team and the ticket's category (the services make these as the desk does)."""
    return Promise.objects.create(
        ticket=ticket,
        team=ticket.team,
        made_by=by,
        made_at=at,
        due_at=at + 6 * H,
        words="Within 6 h.",
        estimate=estimate,
        estimate_percentile=percentile,
        estimate_basis=basis,
        overrode_estimate=sooner,
        override_reason="A known fix." if sooner else "",
        outcome=PromiseOutcome.KEPT if kept else PromiseOutcome.BROKEN,
        settled_at=at + 6 * H,
        resolved_at=at + (3 if kept else 7) * H,
    )


@pytest.fixture
def calibrated_at(category, alice, bob, technical):
    """``calibrated_at(moment)``: promises made at that moment that followed the guard (its 80th percentile,
    from history), settled:

    - Billing question (Billing team): 16 kept of 20: in band.
    - Refunds (Billing team): 3 kept of 4: too few to judge.
    - Outage (Technical team): 10 kept of 20: out of band, below.
    So Billing (the team) kept 19 of 24: in band. Not counted, in Billing question: two sooner than the
    estimate, one without an estimate (made before the guard), one pending, one made 40 days earlier, and two
    on the category's default target (counted apart). Returns the three tickets, by category.
    """

    def make(at):
        refunds = CategoryFactory(name="Refunds", escalation_path=category.escalation_path)
        outage = CategoryFactory(name="Outage", escalation_path=EscalationPathFactory(name="Tech", teams=[technical]))
        tickets = {
            one.name: TicketFactory(category=one, subject=f"About {one.name}", now=at - timedelta(days=41))
            for one in (category, refunds, outage)
        }

        def settle(name, by, kept, broken, *, when=at, **extra):
            for n in range(kept + broken):
                settled_promise(tickets[name], by, kept=n < kept, at=when, **extra)

        settle("Billing question", alice, 16, 4)
        settle("Refunds", alice, 3, 1)
        settle("Outage", bob, 10, 10)
        settle("Billing question", alice, 1, 1, sooner=True)
        settle("Billing question", alice, 1, 0, estimate=None, percentile=None, basis="")
        settle("Billing question", alice, 1, 1, basis="default")
        settle("Billing question", alice, 1, 0, when=at - timedelta(days=40))
        pending = settled_promise(tickets["Billing question"], alice, kept=True, at=at)
        Promise.objects.filter(pk=pending.pk).update(outcome=PromiseOutcome.PENDING, settled_at=None, resolved_at=None)
        return tickets

    return make


@pytest.fixture
def calibrated(calibrated_at):
    """The calibrated world, made at T (the fixed world's moment)."""
    return calibrated_at(T)
