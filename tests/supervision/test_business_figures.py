"""The figures measure each promise and first response in the time it ran in: business time where its category
runs in it; and the rows from before calendars keep the elapsed durations the figures always showed."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.factories import TicketFactory
from tests.migrations import migrate, migrate_to_latest
from tickets import services
from tickets.models import Calendar
from tickets.models.calendar import parse_spans, stored_spans
from tickets.supervision.figures import Period, report

BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


@pytest.mark.django_db
def test_a_weekend_counts_for_nothing_in_a_business_time_promise(category, billing, alice, dave):
    billing.calendar = Calendar.objects.create(
        name="Berlin office",
        time_zone="Europe/Berlin",
        weekly=[stored_spans(parse_spans("09:00-17:00"))] * 5 + [[]] * 2,
    )
    billing.save()
    category.business_hours = True
    category.save()
    friday = berlin(2026, 12, 4, 16)
    ticket = TicketFactory(customer=dave, category=category, subject="Charged twice", now=friday)

    # promised on Friday at 16:00 for Monday noon (4 business hours), answered on Monday at 9:30, fixed at 11:00
    services.make_promise(ticket, due_at=berlin(2026, 12, 7, 12), by=alice, words="By Monday noon.", now=friday)
    services.reply(ticket, by=alice, body="On it.", now=berlin(2026, 12, 7, 9, 30))
    services.resolve(ticket, by=alice, summary="Refunded.", now=berlin(2026, 12, 7, 11))

    period = Period(start=friday - timedelta(days=1), end=friday + timedelta(days=4), label="this week")
    alices = next(row for row in report(period, zone=BERLIN).agents if row.key == alice.pk)
    assert (alices.promised_seconds, alices.actual_seconds, alices.slack_seconds) == (4 * 3600, 3 * 3600, 3600)
    assert alices.first_response_seconds == 1.5 * 3600  # 1 h on Friday, 30 min on Monday


@pytest.mark.django_db(transaction=True)
def test_the_rows_from_before_keep_their_elapsed_durations(ticket, alice):
    apps = migrate([("tickets", "0025_promise_working_hours")])
    try:
        made = datetime(2026, 12, 4, 16, tzinfo=BERLIN)
        Ticket = apps.get_model("tickets", "Ticket")
        Ticket.objects.filter(pk=ticket.pk).update(created_at=made - H, first_response_at=made + 2 * H)
        Promise = apps.get_model("tickets", "Promise")
        values = {"ticket_id": ticket.pk, "team_id": ticket.team_id, "made_by_id": alice.pk, "words": "Soon."}
        resolved = Promise.objects.create(
            **values,
            made_at=made,
            due_at=made + 8 * H,
            paused_for=H,
            resolved_at=made + 5 * H,
            settled_at=made + 5 * H,
            outcome="kept",
        )
        late = Promise.objects.create(
            **values, made_at=made, due_at=made + H, resolved_at=made, settled_at=made + H, outcome="broken"
        )
        pending = Promise.objects.create(**values, made_at=made, due_at=made + 3 * H)

        apps = migrate([("tickets", "0026_durations_in_business_time")])

        stored = dict(apps.get_model("tickets", "Promise").objects.values_list("pk", "promised_for"))
        took = dict(apps.get_model("tickets", "Promise").objects.values_list("pk", "took"))
        assert (stored[resolved.pk], took[resolved.pk]) == (7 * H, 4 * H)  # waits left out
        assert (stored[late.pk], took[late.pk]) == (H, timedelta(0))
        assert (stored[pending.pk], took[pending.pk]) == (3 * H, None)
        first = apps.get_model("tickets", "Ticket").objects.get(pk=ticket.pk).first_response_after
        assert first == 3 * H
    finally:
        migrate_to_latest()
