"""Imported history feeds the guard at once, and never a queue or an email."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.estimates import HEADER, csv_bytes, imported
from tickets.models import CustomerEmail, Estimate, Notification, Ticket
from tickets.promise_rules import judge

pytestmark = pytest.mark.django_db


def test_an_import_refreshes_the_estimates_so_the_guard_reads_it_now(category, ticket, alice, settings):
    settings.PROMISE_ESTIMATE_MIN_SAMPLE = 30
    now = timezone.now()
    lines = []
    for i in range(40):  # 40 tickets of the last 20 days: 8 in 10 solved within 6 hours
        opened = now - timedelta(days=20) + timedelta(hours=12 * i)
        took = timedelta(hours=6 if i % 5 else 30)
        lines.append(f"R-{i},{opened.isoformat()},{(opened + took).isoformat()},Normal,{category.name},,,0")
    assert judge(ticket, due_at=now + timedelta(hours=7), by=alice, now=now).basis == "default"
    tickets_before = Ticket.objects.count()

    imported(csv_bytes(HEADER, *lines))

    verdict = judge(ticket, due_at=now + timedelta(hours=7), by=alice, now=now)
    # from the 40 imported, all still open at this ticket's age (which is still in its first minutes)
    assert (verdict.basis, verdict.estimate, verdict.sample_size) == ("category_priority", timedelta(hours=6), 40)
    assert Estimate.objects.filter(category=category).count() == 4
    assert Ticket.objects.count() == tickets_before
    assert not CustomerEmail.objects.exclude(ticket=ticket).exists() and not Notification.objects.exists()
