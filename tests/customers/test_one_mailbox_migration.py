"""The data migrations of issue #17: customers recorded twice under spellings of one mailbox are merged without
losing a ticket (customers 0002), and ratings of one resolution count once (tickets 0017)."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.migrations import migrate, migrate_to_latest

BEFORE = [("customers", "0001_initial"), ("tickets", "0016_queue_order_team_and_assignee_indexes")]
AFTER = [("customers", "0002_one_customer_per_mailbox")]

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def at_the_old_schema(ticket):
    """The schema before these migrations, with Dave's ticket in it; the latest schema again afterwards."""
    apps = migrate(BEFORE)
    yield apps
    migrate_to_latest()


def a_ticket(apps, like, customer, *, subject: str):
    Ticket = apps.get_model("tickets", "Ticket")
    now = timezone.now()
    return Ticket.objects.create(
        customer=customer, subject=subject, category_id=like.category_id, team_id=like.team_id,
        escalation_level_id=like.escalation_level_id, token=f"{subject.replace(' ', '-')}-{'x' * 30}",
        created_at=now, last_activity_at=now,
    )  # fmt: skip


def test_spellings_of_one_mailbox_are_merged_into_the_oldest_customer_and_keep_every_ticket(at_the_old_schema, ticket):
    apps = at_the_old_schema
    Customer = apps.get_model("customers", "Customer")
    nfc, nfd = unicodedata.normalize("NFC", "zoë"), unicodedata.normalize("NFD", "zoë")
    zoe = Customer.objects.create(name="Zoë Park", email=f"{nfc}@example.com", tier="standard", notes="Prefers email.")
    zoe_again = Customer.objects.create(name="Zoe Park", email=f"{nfd}@example.com", phone="555-0100", tier="priority",
                                        notes="Owns two shops.")  # fmt: skip
    anna = Customer.objects.create(name="Anna Müller", email="anna@müller.de")
    anna_again = Customer.objects.create(name="Anna M", email="anna@xn--mller-kva.de")
    untouched = Customer.objects.get(pk=ticket.customer_id)
    tickets = {
        name: a_ticket(apps, ticket, customer, subject=name).pk
        for name, customer in [("one", zoe), ("two", zoe_again), ("three", zoe_again), ("four", anna_again)]
    }

    apps = migrate(AFTER)

    Customer, Ticket = apps.get_model("customers", "Customer"), apps.get_model("tickets", "Ticket")
    assert set(Customer.objects.values_list("pk", flat=True)) == {zoe.pk, anna.pk, untouched.pk}
    owners = dict(Ticket.objects.filter(pk__in=tickets.values()).values_list("pk", "customer_id"))
    assert owners == {tickets["one"]: zoe.pk, tickets["two"]: zoe.pk, tickets["three"]: zoe.pk,
                      tickets["four"]: anna.pk}  # fmt: skip
    merged = Customer.objects.get(pk=zoe.pk)
    assert (merged.email, merged.name, merged.phone, merged.tier) == (f"{nfc}@example.com", "Zoë Park", "555-0100",
                                                                      "priority")  # fmt: skip
    assert merged.notes == "Prefers email.\n\nOwns two shops."
    assert Customer.objects.get(pk=anna.pk).email == "anna@xn--mller-kva.de"
    assert Customer.objects.get(pk=untouched.pk).email == "dave@example.com"


def test_each_resolution_keeps_its_latest_rating_and_the_log_keeps_them_all(at_the_old_schema, ticket):
    apps = at_the_old_schema
    Interaction = apps.get_model("tickets", "Interaction")
    at = timezone.now()

    def log(kind, minutes, **fields):
        return Interaction.objects.create(
            ticket_id=ticket.pk, kind=kind, customer_name="Dave Jones", is_public=True,
            created_at=at + timedelta(minutes=minutes), **fields,
        )  # fmt: skip

    first = log("resolution", 0, author_kind="system", body="Refunded.")
    for minutes, stars in ((1, 5), (2, 5), (3, 2)):  # stuffed, then changed
        log("rating", minutes, author_kind="customer", data={"rating": stars, "agent": None, "team": ticket.team_id})
    second = log("resolution", 10, author_kind="system", body="Refunded again.")
    log("rating", 11, author_kind="customer", body="Good now.", data={"rating": 4, "team": ticket.team_id})

    apps = migrate([("tickets", "0017_ratings_sender_and_replaced_links")])

    Rating = apps.get_model("tickets", "Rating")
    ratings = list(Rating.objects.order_by("rated_at").values_list("resolution_id", "stars", "comment", "team_id"))
    assert ratings == [(first.pk, 2, "", ticket.team_id), (second.pk, 4, "Good now.", ticket.team_id)]
    assert apps.get_model("tickets", "Interaction").objects.filter(kind="rating").count() == 4
