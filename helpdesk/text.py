"""Checks on text people type, shared by every app: email spelling, time zones, control characters, phones."""

from __future__ import annotations

import contextlib
import unicodedata
import zoneinfo

import idna
from django.core.exceptions import ValidationError


def normalise_email(email: str) -> str:
    """One spelling per mailbox, however it was typed: the same person must not become two customers.

    1. Trimmed, in Unicode's composed form (NFC: "é" typed as one character or as "e" and an accent are the
       same), and lower-cased (mailboxes are case-insensitive in practice).
    2. The domain in its ASCII form (IDNA 2008 with UTS 46 mapping: "müller.de" and "xn--mller-kva.de" are
       one domain). ASCII is what goes on the wire, so the address we store is the one mail is sent to.
       A domain that is not a valid IDN is left as typed; the email field's own check refuses it.
    """
    email = unicodedata.normalize("NFC", email.strip().lower())
    local, at, domain = email.rpartition("@")
    if not at:
        return email
    with contextlib.suppress(idna.IDNAError):
        domain = idna.encode(domain, uts46=True).decode("ascii")
    return f"{local}@{domain}"


def validate_time_zone(value: str) -> None:
    if value:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValidationError(f"{value!r} is not a time zone; use a name such as Europe/Paris.") from None


ALLOWED_CONTROLS = {"\n", "\r", "\t"}


def no_control_characters(value: str) -> None:
    """Text a customer sent, or that is said of them: no invisible control characters but line breaks and tabs."""
    if any(unicodedata.category(c) == "Cc" and c not in ALLOWED_CONTROLS for c in value):
        raise ValidationError("Please remove the invisible control characters from this text.")


def one_line(value: str) -> None:
    """A name or subject: one line, as it goes into email headers and one-line fields (a line break there
    could add a header, and a mail server refuses it). No control characters at all."""
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in value):  # Zl, Zp: U+2028, U+2029
        raise ValidationError("Please keep this to one line, without tabs or invisible control characters.")


def check_phone(phone: str) -> str:
    """A phone number as people write one (digits, spaces, + - ( ) and "ext"), trimmed."""
    phone = phone.strip()
    if phone and not all(c.isdigit() or c in " +-().ext" for c in phone):
        raise ValidationError("Use digits, spaces and + - ( ) only, e.g. +44 20 7946 0000.")
    return phone
