"""The database itself refuses data that breaks the model's rules, whatever code writes it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.models import Customer
from tests.factories import CategoryFactory, EscalationPathFactory, TeamFactory
from tickets.models import (
    Category,
    EscalationLevel,
    Interaction,
    Notification,
    Promise,
    Team,
    Ticket,
    ticket_writes,
)

pytestmark = pytest.mark.django_db


def refused(constraint: str):
    """Expect the database to reject the write, naming the constraint that caught it."""
    return pytest.raises(IntegrityError, match=constraint)


def in_savepoint(write):
    with transaction.atomic():
        write()


# --- Customer ---------------------------------------------------------------------------------


def test_customer_email_is_unique_whatever_its_case(dave):
    # bulk_create skips save()'s normalisation, so this reaches the database as typed.
    with refused("customer_email_ci_unique"):
        in_savepoint(lambda: Customer.objects.bulk_create([Customer(name="Impostor", email="DAVE@Example.COM")]))


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"email": ""}, "customer_email_not_empty"),
        ({"name": ""}, "customer_name_not_empty"),
        ({"tier": "platinum"}, "customer_tier_valid"),
    ],
)
def test_customer_rules_are_enforced(dave, fields, constraint):
    with refused(constraint):
        in_savepoint(lambda: Customer.objects.filter(pk=dave.pk).update(**fields))


# --- Configuration ----------------------------------------------------------------------------


def test_team_names_are_unique_and_not_empty(billing):
    with refused("tickets_team_name_key"):
        in_savepoint(lambda: Team.objects.create(name="Billing"))
    with refused("team_name_not_empty"):
        in_savepoint(lambda: Team.objects.create(name=""))


def test_an_escalation_path_has_one_level_per_position(standard_path, billing):
    with refused("escalation_level_unique_position"):
        in_savepoint(lambda: EscalationLevel.objects.create(path=standard_path, position=1, name="Again", team=billing))


def test_escalation_levels_start_at_one(standard_path, billing):
    with refused("escalation_level_position_from_1"):
        in_savepoint(lambda: EscalationLevel.objects.create(path=standard_path, position=0, name="Zero", team=billing))


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"default_target": timedelta(0)}, "category_target_positive"),
        ({"warn_min": timedelta(minutes=-1)}, "category_warn_min_not_negative"),
        ({"warn_fraction": 1.5}, "category_warn_fraction_0_to_1"),
        ({"warn_fraction": -0.1}, "category_warn_fraction_0_to_1"),
        ({"default_priority": 9}, "category_priority_valid"),
    ],
)
def test_category_rules_are_enforced(category, fields, constraint):
    with refused(constraint):
        in_savepoint(lambda: Category.objects.filter(pk=category.pk).update(**fields))


def test_category_names_are_unique(category):
    path = EscalationPathFactory(teams=[TeamFactory()])
    with refused("tickets_category_name_key"):
        in_savepoint(
            lambda: CategoryFactory._meta.model.objects.create(
                name=category.name, slug="other-slug", escalation_path=path
            )
        )


# --- Ticket -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        # An unknown status also fails the resolved_at rule; either name proves the refusal.
        ({"status": "lost"}, "ticket_status_valid|ticket_resolved_at_matches_status"),
        ({"channel": "pigeon"}, "ticket_channel_valid"),
        ({"priority": 7}, "ticket_priority_valid"),
        ({"promise_state": "hopeful", "promise_due_at": timezone.now()}, "ticket_promise_state_valid"),
        ({"subject": ""}, "ticket_subject_not_empty"),
        ({"token": "short"}, "ticket_token_strong"),
        ({"token": "has spaces and ! marks in it, 30+"}, "ticket_token_strong"),
        ({"promise_state": "on_track"}, "ticket_promise_due_matches_state"),
        ({"promise_due_at": timezone.now()}, "ticket_promise_due_matches_state"),
        ({"status": "resolved"}, "ticket_resolved_at_matches_status"),
        ({"resolved_at": timezone.now()}, "ticket_resolved_at_matches_status"),
        ({"paused_at": timezone.now()}, "ticket_paused_only_while_waiting"),
    ],
)
def test_ticket_rules_are_enforced(ticket, fields, constraint):
    with refused(constraint), ticket_writes():  # past the services' gate: the database refuses too
        in_savepoint(lambda: Ticket.objects.filter(pk=ticket.pk).update(**fields))


def test_status_tokens_are_unique(ticket, dave, category):
    from tests.factories import TicketFactory

    other = TicketFactory(customer=dave, category=category)
    with refused("tickets_ticket_token_key"), ticket_writes():
        in_savepoint(lambda: Ticket.objects.filter(pk=other.pk).update(token=ticket.token))


def test_status_tokens_carry_at_least_128_random_bits(ticket):
    # 43 URL-safe base64 characters = 256 bits; 22 would already be 128.
    assert len(ticket.token) >= 43
    assert ticket.token != Ticket.objects.exclude(pk=ticket.pk).values_list("token", flat=True).first()


# --- Interaction ------------------------------------------------------------------------------


def interaction(ticket, **fields):
    values = {
        "ticket": ticket,
        "kind": "note",
        "author_kind": "system",
        "customer_name": "Dave Jones",
        "is_public": False,
        "created_at": timezone.now(),
        **fields,
    }
    return lambda: Interaction.objects.create(**values)


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"kind": "gossip"}, "interaction_kind_valid"),
        ({"author_kind": "robot"}, "interaction_author_kind_valid"),
        ({"customer_name": ""}, "interaction_customer_name_not_empty"),
        ({"author_kind": "staff"}, "interaction_author_matches_kind"),
        ({"kind": "note", "is_public": True}, "interaction_note_is_internal"),
    ],
)
def test_interaction_rules_are_enforced(ticket, fields, constraint):
    with refused(constraint):
        in_savepoint(interaction(ticket, **fields))


def test_a_customer_entry_cannot_claim_a_staff_author(ticket, alice):
    with refused("interaction_author_matches_kind"):
        in_savepoint(interaction(ticket, author_kind="customer", author=alice))


# --- Promise ----------------------------------------------------------------------------------


def promise(ticket, made_by, **fields):
    now = timezone.now()
    values = {
        "ticket": ticket,
        "team": ticket.team,
        "made_by": made_by,
        "made_at": now,
        "due_at": now + timedelta(hours=2),
        "words": "We'll have it fixed within two hours.",
        **fields,
    }
    return lambda: Promise.objects.create(**values)


def test_a_ticket_has_one_pending_promise_at_most(ticket, alice):
    promise(ticket, alice)()
    with refused("promise_one_pending_per_ticket"):
        in_savepoint(promise(ticket, alice))


def test_settled_promises_do_not_count_as_pending(ticket, alice):
    promise(ticket, alice, outcome="superseded", settled_at=timezone.now())()
    promise(ticket, alice)()

    assert ticket.promises.count() == 2


@pytest.mark.parametrize(
    ("fields", "constraint"),
    [
        ({"due_at": timezone.now() - timedelta(hours=1)}, "promise_due_after_made"),
        ({"outcome": "forgotten"}, "promise_outcome_valid"),
        ({"outcome": "kept"}, "promise_settled_when_not_pending"),
        ({"settled_at": timezone.now()}, "promise_settled_when_not_pending"),
        ({"overrode_estimate": True}, "promise_override_has_reason"),
        ({"words": ""}, "promise_words_not_empty"),
    ],
)
def test_promise_rules_are_enforced(ticket, alice, fields, constraint):
    with refused(constraint):
        in_savepoint(promise(ticket, alice, **fields))


# --- Notification -----------------------------------------------------------------------------


def notification(ticket, recipient, **fields):
    values = {
        "ticket": ticket,
        "recipient": recipient,
        "event": "breach",
        "dedupe_key": f"breach:ticket={ticket.pk}:user={recipient.pk}",
        "message": "A promise was broken",
        "created_at": timezone.now(),
        **fields,
    }
    return lambda: Notification.objects.create(**values)


def test_an_event_notifies_each_person_once(ticket, alice):
    notification(ticket, alice)()
    with refused("notification_dedupe_key_unique"):
        in_savepoint(notification(ticket, alice))


def test_notification_events_are_known(ticket, alice):
    with refused("notification_event_valid"):
        in_savepoint(notification(ticket, alice, event="gossip", dedupe_key="x"))
