"""A customer is one person per mailbox, recognised however they type their address."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from customers.models import Customer
from customers.services import record_customer

pytestmark = pytest.mark.django_db


def test_a_new_address_makes_a_new_customer_with_a_normalised_email():
    customer = record_customer(email="  Mia.Wong@Example.COM ", name=" Mia Wong ", phone="+44 20 7946 0000")

    assert (customer.email, customer.name, customer.phone) == ("mia.wong@example.com", "Mia Wong", "+44 20 7946 0000")


def test_a_known_address_in_another_case_is_the_same_customer_with_the_latest_name(dave):
    again = record_customer(email="DAVE@example.com", name="David Jones")

    assert again.pk == dave.pk
    assert Customer.objects.get().name == "David Jones"


def test_a_blank_name_or_phone_does_not_erase_what_we_know(dave):
    dave.phone = "555-0100"
    dave.save()

    record_customer(email="dave@example.com", name="", phone="")

    dave.refresh_from_db()
    assert (dave.name, dave.phone) == ("Dave Jones", "555-0100")


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
            record_customer(email=spelling, name="Zoe Park")
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
