"""The facts the supervisor's figures are read from, recorded by the services as things happen."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tickets import services
from tickets.models import Interaction, Promise, Rating
from tickets.sweep import sweep

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)


def promise(ticket, by, *, now, hours=6, **extra):
    return services.make_promise(ticket, due_at=now + hours * H, by=by, words="By tonight.", now=now, **extra)


def test_a_promise_belongs_to_the_team_that_had_the_ticket_when_it_was_made(ticket, alice, bob, billing, now):
    made = promise(ticket, alice, now=now)
    services.escalate(ticket, by=alice, note="Needs the specialists.", now=now + H)

    made.refresh_from_db()
    assert made.team == billing  # moving the ticket does not move the word given earlier


def test_a_kept_promise_records_the_resolution_it_was_kept_by(ticket, alice, now):
    made = promise(ticket, alice, now=now)
    services.resolve(ticket, by=alice, summary="Refunded.", now=now + 2 * H)

    made.refresh_from_db()
    assert (made.outcome, made.resolved_at) == ("kept", now + 2 * H)


def test_a_changed_promise_has_no_resolution_of_its_own(ticket, alice, now):
    first = promise(ticket, alice, now=now)
    promise(ticket, alice, now=now + H, hours=8, change_reason="The bank needs a day.")
    services.resolve(ticket, by=alice, summary="Refunded.", now=now + 3 * H)

    first.refresh_from_db()
    assert (first.outcome, first.resolved_at) == ("superseded", None)


def test_a_promise_broken_by_a_breach_gets_the_later_resolution(ticket, alice, now):
    broken = promise(ticket, alice, now=now)
    sweep(now=now + 7 * H)
    broken.refresh_from_db()
    assert (broken.outcome, broken.resolved_at) == ("broken", None)  # not resolved yet: no slack to measure

    renewed = promise(ticket, alice, now=now + 8 * H, hours=4)
    services.resolve(ticket, by=alice, summary="Refunded.", now=now + 10 * H)

    broken.refresh_from_db()
    renewed.refresh_from_db()
    assert broken.resolved_at == renewed.resolved_at == now + 10 * H
    assert (broken.outcome, renewed.outcome) == ("broken", "kept")


def test_a_reopened_ticket_keeps_the_first_resolution_on_its_old_promises(ticket, alice, now):
    first = promise(ticket, alice, now=now)
    services.resolve(ticket, by=alice, summary="Refunded.", now=now + H)
    services.reopen(ticket, reason="Still charged twice.", now=now + 2 * H)
    second = promise(ticket, alice, now=now + 2 * H)
    services.resolve(ticket, by=alice, summary="Refunded again.", now=now + 4 * H)

    assert list(Promise.objects.order_by("made_at").values_list("pk", "resolved_at")) == [
        (first.pk, now + H),
        (second.pk, now + 4 * H),
    ]


def test_the_first_reply_records_who_answered_and_for_which_team(ticket, alice, bob, billing, now):
    services.reply(ticket, by=alice, body="Looking into it.", now=now)
    services.escalate(ticket, by=alice, note="Needs the specialists.", now=now + H)
    services.reply(ticket, by=bob, body="Specialist here.", now=now + 2 * H)

    ticket.refresh_from_db()
    assert (ticket.first_response_at, ticket.first_response_by, ticket.first_response_team) == (now, alice, billing)


def test_a_rating_names_the_agent_who_resolved_and_the_team(ticket, alice, billing, now):
    services.resolve(ticket, by=alice, summary="Refunded.", now=now)
    services.rate(ticket, rating=4, comment="Thanks.", now=now + H)

    rating = Rating.objects.get(ticket=ticket)
    assert (rating.stars, rating.comment, rating.agent, rating.team, rating.rated_at) == (
        4,
        "Thanks.",
        alice,
        billing,
        now + H,
    )
    entry = Interaction.objects.get(ticket=ticket, kind="rating")
    assert entry.data == {
        "rating": 4,
        "replaces": None,
        "resolution": rating.resolution_id,
        "agent": alice.pk,
        "team": billing.pk,
    }
