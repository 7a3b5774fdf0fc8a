"""A customer is one person per mailbox, recognised however they type their address; what a sender types never
changes a known customer's record."""

from __future__ import annotations

import threading
import unicodedata

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from customers.models import Customer
from customers.services import recognise_customer
from helpdesk.text import normalise_email

pytestmark = pytest.mark.django_db


def test_a_new_address_makes_a_new_customer_with_a_normalised_email():
    customer = recognise_customer(email="  Mia.Wong@Example.COM ", name=" Mia Wong ", phone="+44 20 7946 0000")

    assert (customer.email, customer.name, customer.phone) == ("mia.wong@example.com", "Mia Wong", "+44 20 7946 0000")


def test_a_known_address_in_another_case_is_the_same_customer_and_their_record_is_left_as_it_was(dave):
    dave.phone = "555-0100"
    dave.save()

    again = recognise_customer(email="DAVE@example.com", name="Mallory Impostor", phone="555-6666")

    assert again.pk == dave.pk
    dave.refresh_from_db()
    assert (dave.name, dave.phone) == ("Dave Jones", "555-0100")
    assert Customer.objects.count() == 1


NFC, NFD = unicodedata.normalize("NFC", "zoë"), unicodedata.normalize("NFD", "zoë")


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (f"{NFC}@example.com", f"{NFC}@example.com"),
        (f"{NFD}@example.com", f"{NFC}@example.com"),  # the same letters, decomposed
        (f"{NFD.upper()}@EXAMPLE.com", f"{NFC}@example.com"),
        ("anna@müller.de", "anna@xn--mller-kva.de"),  # the domain as it goes on the wire
        ("anna@MÜLLER.DE", "anna@xn--mller-kva.de"),
        ("anna@xn--mller-kva.de", "anna@xn--mller-kva.de"),  # punycode, as some mail clients show it
        ("anna@XN--MLLER-KVA.de", "anna@xn--mller-kva.de"),
        (f"anna@{unicodedata.normalize('NFD', 'müller')}.de", "anna@xn--mller-kva.de"),
        ("bob@straße.de", "bob@xn--strae-oqa.de"),  # IDNA 2008: ß is its own letter, not "ss"
    ],
)
def test_every_spelling_of_a_mailbox_is_one_address(typed, stored):
    assert normalise_email(typed) == stored
    assert normalise_email(stored) == stored  # normalising twice changes nothing


def test_a_domain_that_is_not_an_idn_is_left_for_the_email_check_to_refuse():
    assert normalise_email("x@exa mple.com") == "x@exa mple.com"
    assert normalise_email("no-at-sign") == "no-at-sign"


@pytest.mark.parametrize("spelling", [f"{NFD}@example.com", f"{NFC.upper()}@Example.com"])
def test_the_same_mailbox_written_another_way_is_the_same_customer(spelling):
    zoe = recognise_customer(email=f"{NFC}@example.com", name="Zoë Park")

    assert recognise_customer(email=spelling, name="Zoe").pk == zoe.pk


@pytest.mark.parametrize("spelling", ["anna@xn--mller-kva.de", "Anna@MÜLLER.de"])
def test_an_international_domain_as_unicode_or_punycode_is_the_same_customer(spelling):
    anna = recognise_customer(email="anna@müller.de", name="Anna Müller")

    assert recognise_customer(email=spelling, name="Anna").pk == anna.pk
    assert Customer.objects.get().email == "anna@xn--mller-kva.de"


def test_the_greeting_uses_the_preferred_name_else_the_first_name(dave):
    assert dave.greeting_name == "Dave"
    dave.preferred_name = "DJ"
    assert dave.greeting_name == "DJ"


def test_an_unknown_time_zone_is_refused_clearly(dave):
    dave.time_zone = "Atlantis/Capital"
    with pytest.raises(ValidationError, match="not a time zone"):
        dave.full_clean()


@pytest.mark.django_db(transaction=True)
def test_simultaneous_first_contacts_make_one_customer():
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def first_contact(spelling: str) -> None:
        try:
            barrier.wait()
            recognise_customer(email=spelling, name="Zoe Park")
        except BaseException as error:  # collected and asserted below
            errors.append(error)
        finally:
            connection.close()

    spellings = ["zoe@example.com", "ZOE@example.com", "Zoe@Example.com", "zoe@EXAMPLE.COM"]
    threads = [threading.Thread(target=first_contact, args=(s,)) for s in spellings]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Customer.objects.filter(email="zoe@example.com").count() == 1
