"""One customer per mailbox, however the address was written: a data migration.

Addresses are now normalised with Unicode's composed form (NFC) and the domain's ASCII form (IDNA), so
"zoë@example.com" typed two ways, or "müller.de" and "xn--mller-kva.de", are one mailbox. Customers that
were recorded twice under such spellings are merged into the oldest of them: every ticket moves to it (none is
lost), details it lacks are taken from the others, notes are kept side by side, the highest tier stands.

The normalisation is copied here as it is today, so this migration keeps meaning what it meant when written.
"""

import contextlib
import unicodedata
from collections import defaultdict

import idna
from django.db import migrations

TIERS = ["standard", "priority", "enterprise"]
FILLED = ["preferred_name", "phone", "organisation", "time_zone"]


def normalise_email(email):
    email = unicodedata.normalize("NFC", email.strip().lower())
    local, at, domain = email.rpartition("@")
    if not at:
        return email
    with contextlib.suppress(idna.IDNAError):
        domain = idna.encode(domain, uts46=True).decode("ascii")
    return f"{local}@{domain}"


def merge_spellings(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    Ticket = apps.get_model("tickets", "Ticket")
    mailboxes = defaultdict(list)
    for customer in Customer.objects.order_by("created_at", "pk").iterator(chunk_size=2000):
        mailboxes[normalise_email(customer.email)].append(customer)
    merged = 0
    for email, (keeper, *others) in mailboxes.items():
        if not others and keeper.email == email:
            continue
        for other in others:
            Ticket.objects.filter(customer=other).update(customer=keeper)
            for field in FILLED:
                if not getattr(keeper, field) and getattr(other, field):
                    setattr(keeper, field, getattr(other, field))
            if other.notes and other.notes not in keeper.notes:
                keeper.notes = f"{keeper.notes}\n\n{other.notes}".strip()
            keeper.tier = max(keeper.tier, other.tier, key=lambda tier: TIERS.index(tier) if tier in TIERS else -1)
            other.delete()
            merged += 1
        keeper.email = email
        keeper.save()
    if merged:
        print(f"\n  Merged {merged} customers recorded twice under spellings of one address.")


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0001_initial"),
        ("tickets", "0017_ratings_sender_and_replaced_links"),
    ]

    operations = [migrations.RunPython(merge_spellings, migrations.RunPython.noop)]
