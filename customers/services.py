"""Writes to customers. Recognising a returning customer by email lives here, in one place, and so do the
rules a customer's details follow when staff write them."""

from __future__ import annotations

import logging

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from customers.models import Customer, CustomerTier
from helpdesk.text import check_phone, no_control_characters, normalise_email, one_line

log = logging.getLogger(__name__)


def recognise_customer(*, email: str, name: str, phone: str = "") -> Customer:
    """The customer with this email (however it is written: ``normalise_email``), created with this name and
    phone if there is none.

    An existing customer's record is never changed here: anyone can type a known address on the public form,
    and agents would greet the real customer by whatever name the sender chose. What the sender gave stays on
    their request, for staff to apply (``tickets.services.customer.use_sender_details``).

    Safe under concurrent first contacts: the unique constraint on the email decides the race, and the loser
    reads the winner's row.
    """
    email = normalise_email(email)
    try:
        with transaction.atomic():
            customer, _ = Customer.objects.get_or_create(
                email=email, defaults={"name": name.strip(), "phone": phone.strip()}
            )
    except IntegrityError:
        customer = Customer.objects.get(email=email)
    return customer


# --- The customer directory: staff create and correct customers ---------------------------------

REQUIRED = {"name": "Give the customer's name.", "email": "Give the customer's email address."}


def create_customer(
    *,
    name: str,
    email: str,
    preferred_name: str = "",
    phone: str = "",
    organisation: str = "",
    tier: str = CustomerTier.STANDARD,
    time_zone: str = "",
    notes: str = "",
) -> Customer:
    """Add a customer to the directory (before their first request: a call, a new account manager's list).

    Refused with a ValidationError naming each field at fault; an email already on file (in any case) names
    the customer who has it, so the caller can use them instead.
    """
    given = {
        "name": name, "preferred_name": preferred_name, "email": email, "phone": phone,
        "organisation": organisation, "tier": tier, "time_zone": time_zone, "notes": notes,
    }  # fmt: skip
    customer = Customer()
    _write(customer, given)
    return customer


def update_customer(
    customer: Customer,
    *,
    name: str | None = None,
    preferred_name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    organisation: str | None = None,
    tier: str | None = None,
    time_zone: str | None = None,
    notes: str | None = None,
    by: User | None = None,
) -> Customer:
    """Correct a customer's details; ``None`` leaves a field as it is. Saves only what changed, and logs who
    changed which fields (not the values: the log is not the place for personal data)."""
    given = {
        "name": name, "preferred_name": preferred_name, "email": email, "phone": phone,
        "organisation": organisation, "tier": tier, "time_zone": time_zone, "notes": notes,
    }  # fmt: skip
    changed = _write(customer, {field: value for field, value in given.items() if value is not None})
    if changed:
        who = getattr(by, "username", "?")
        log.info("Customer %s: %s changed by %s.", customer.pk, ", ".join(sorted(changed)), who)
    return customer


def _write(customer: Customer, given: dict[str, str]) -> list[str]:
    """Check ``given`` with the customer rules, apply it and save; returns the fields it changed. Refused, the
    customer is left as it was.

    1. Tidy and check each value: no control characters, a phone as people write one, one spelling per email.
    2. Name and email are required.
    3. The model's own checks (lengths, email format, tier, time zone) for the fields not already refused.
    4. The email may belong to no other customer, in any case.
    5. Save (only the changed fields of an existing customer). Two simultaneous writes of one email: the
       unique constraint decides, and the loser gets the same refusal as step 4.
    """
    errors: dict[str, list[str]] = {}
    values = {}
    for field, value in given.items():
        try:
            values[field] = _tidy(field, value)
        except ValidationError as error:
            errors[field] = error.messages
    for field, message in REQUIRED.items():
        if field in values and not values[field]:
            errors[field] = [message]
    changed = [field for field, value in values.items() if field not in errors and getattr(customer, field) != value]
    before = {field: getattr(customer, field) for field in changed}
    for field in changed:
        setattr(customer, field, values[field])
    others = [f.name for f in Customer._meta.get_fields() if f.name not in changed]
    try:
        customer.full_clean(exclude=others, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    if "email" in changed and "email" not in errors:
        clash = _email_clash(customer.email, other_than=customer.pk)
        if clash:
            errors["email"] = [clash]
    try:
        if errors:
            raise ValidationError(errors)
        if changed or not customer.pk:
            _save(customer, changed)
    except ValidationError:
        for field, value in before.items():
            setattr(customer, field, value)
        raise
    return changed


def _save(customer: Customer, changed: list[str]) -> None:
    """Insert or update; the unique index on lower(email) settles a race with another write of the email."""
    try:
        with transaction.atomic():
            if customer.pk:
                customer.save(update_fields=[*changed, "updated_at"])
            else:
                customer.save()
    except IntegrityError:
        clash = _email_clash(customer.email, other_than=customer.pk)
        if clash is None:
            raise
        raise ValidationError({"email": clash}) from None


def _tidy(field: str, value: str) -> str:
    """The web form's own checks (customers.models), so a customer is held to one set of rules."""

    value = value if field == "notes" else value.strip()
    (no_control_characters if field == "notes" else one_line)(value)
    if field == "phone":
        return check_phone(value)
    if field == "email":
        return normalise_email(value)
    return value


def _email_clash(email: str, *, other_than: int | None) -> str | None:
    """The refusal when another customer already has this email, naming them (served by the unique
    index on lower(email))."""
    others = Customer.objects.alias(lower_email=Lower("email")).filter(lower_email=normalise_email(email))
    other = (others.exclude(pk=other_than) if other_than else others).first()
    if other is None:
        return None
    return f"Customer {other.pk} ({other.name}) already has the email {other.email}: use that customer instead."
