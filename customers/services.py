"""Writes to customers. Recognising a returning customer by email lives here, in one place."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from customers.models import Customer, normalise_email


def record_customer(*, email: str, name: str, phone: str = "") -> Customer:
    """Find the customer with this email (any case) or create them, keeping the latest name and phone.

    Safe under concurrent first contacts: the case-insensitive unique constraint decides the race,
    and the loser reads the winner's row.
    """
    email = normalise_email(email)
    name = name.strip()
    try:
        with transaction.atomic():
            customer, created = Customer.objects.get_or_create(
                email=email, defaults={"name": name, "phone": phone.strip()}
            )
    except IntegrityError:
        customer, created = Customer.objects.get(email=email), False
    if not created:
        given = {"name": name, "phone": phone.strip()}
        changed = [field for field, value in given.items() if value and getattr(customer, field) != value]
        for field in changed:
            setattr(customer, field, given[field])
        if changed:
            customer.save(update_fields=[*changed, "updated_at"])
    return customer
