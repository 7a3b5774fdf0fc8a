"""What people are told of a promise in business time: the guard's words to the rep, the customer's status page,
email and expectation, and the API, all with the hours the promise runs in."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from tickets import services
from tickets.customer_emails import expectation
from tickets.models import Calendar, CustomerEmail
from tickets.models.calendar import hours_in_words, parse_spans, stored_spans, zone_in_words
from tickets.promise_rules import judge, quick_picks

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)
FRIDAY_4PM = datetime(2026, 12, 4, 16, tzinfo=BERLIN)


@pytest.fixture
def business_ticket(ticket, billing, category):
    """Dave's ticket, in a category that runs in business time, with Billing working Monday to Friday 9 to 17
    in Berlin; the category's target is 16 business hours (two business days)."""
    billing.calendar = Calendar.objects.create(
        name="Berlin office",
        time_zone="Europe/Berlin",
        weekly=[stored_spans(parse_spans("09:00-17:00"))] * 5 + [[]] * 2,
    )
    billing.save()
    category.business_hours, category.default_target = True, 16 * H
    category.save()
    ticket.refresh_from_db()
    return ticket


def test_hours_are_said_as_people_say_them():
    week = tuple([parse_spans("09:00-12:30, 13:30-17:00")] * 4 + [parse_spans("09:00-15:00"), (), ()])
    assert hours_in_words(week) == "Monday to Thursday, 9 to 12:30 and 13:30 to 17; Friday, 9 to 15"
    assert hours_in_words(week, short=True) == "Mon-Thu 9-12:30 and 13:30-17, Fri 9-15"
    assert hours_in_words((parse_spans("00:00-24:00"),) * 7) == "around the clock"
    assert (zone_in_words("America/New_York"), zone_in_words("UTC")) == ("New York time", "UTC")


def test_the_guard_speaks_in_business_days_and_says_the_hours(business_ticket, alice):
    verdict = judge(business_ticket, due_at=FRIDAY_4PM + 3 * H, by=alice, now=FRIDAY_4PM)

    assert "the category's target is about 2 business days (we work Mon-Fri 9-17)." in verdict.explain()
    # 1 h on Friday, 8 h on Monday, 7 h on Tuesday: the earliest realistic time is Tuesday at 16:00
    assert verdict.earliest_realistic == datetime(2026, 12, 8, 16, tzinfo=BERLIN)
    assert verdict.sooner_than_estimate


def test_around_the_clock_the_guard_says_what_it_always_said(ticket, alice, category):
    verdict = judge(ticket, due_at=FRIDAY_4PM + 3 * H, by=alice, now=FRIDAY_4PM)

    assert "the category's target is 4 h." in verdict.explain()
    assert verdict.earliest_realistic == FRIDAY_4PM + 4 * H


def test_the_customer_is_told_the_expectation_with_the_hours(business_ticket):
    assert expectation(business_ticket) == (
        "about 2 business days (we are open Monday to Friday, 9 to 17, Berlin time)"
    )


def test_the_promise_the_customer_reads_says_the_hours_it_was_made_in(business_ticket, alice, client, api, carol):
    services.make_promise(
        business_ticket, due_at=datetime(2026, 12, 8, 16, tzinfo=BERLIN), by=alice, words="Fixed on Tuesday.",
        now=FRIDAY_4PM,
    )  # fmt: skip
    said = "(we are open Monday to Friday, 9 to 17, Berlin time)."

    email = CustomerEmail.objects.filter(ticket=business_ticket).latest("pk")
    assert said in email.text_body and said in email.html_body
    page = client.get(reverse("customers:status", args=[business_ticket.token])).content.decode()
    assert said in page

    # the calendar changes later: what the customer was told stays what it was
    business_ticket.team.calendar.weekly = [stored_spans(parse_spans("08:00-16:00"))] * 5 + [[]] * 2
    business_ticket.team.calendar.save()
    assert said in client.get(reverse("customers:status", args=[business_ticket.token])).content.decode()

    answer = api(carol).get(f"/api/v1/tickets/{business_ticket.reference}/").json()
    assert answer["promise"]["working_hours"] == "Monday to Friday, 9 to 17, Berlin time"


def test_the_apis_verdict_says_its_seconds_are_open_seconds(business_ticket, alice, api):
    due = (timezone.now() + H).isoformat()
    answer = api(alice).post(
        f"/api/v1/tickets/{business_ticket.reference}/promise/", {"due_at": due, "words": "Soon."}, format="json"
    )

    assert answer.status_code == 409, answer.content  # sooner than two business days, without a reason
    verdict = answer.json()["error"]["verdict"]
    assert (verdict["working_hours"], verdict["estimate_seconds"]) == ("Mon-Fri 9-17", 16 * 3600)


def test_the_api_and_the_desk_show_the_same_due_time(business_ticket, alice, api, client_for):
    services.make_promise(
        business_ticket, due_at=datetime(2026, 12, 8, 16, tzinfo=BERLIN), by=alice, words="Fixed on Tuesday.",
        now=FRIDAY_4PM,
    )  # fmt: skip
    desk = client_for(alice)
    desk.cookies["tz"] = "America/New_York"  # the agent's browser is in New York

    answer = api(alice).get(f"/api/v1/tickets/{business_ticket.reference}/").json()
    page = desk.get(reverse("desk:ticket", args=[business_ticket.reference])).content.decode()

    due = datetime(2026, 12, 8, 16, tzinfo=BERLIN)
    assert parse_datetime(answer["promise_due_at"]) == parse_datetime(answer["promise"]["due_at"]) == due
    assert "due Tue 8 Dec, 10:00 EST" in page  # the same instant, in the agent's zone
    assert "in business hours (Monday to Friday, 9 to 17, Berlin time)" in page


# --- The promise form's quick picks ----------------------------------------------------------------------------


def test_quick_picks_count_business_time(business_ticket):
    picks = [(pick.label, pick.due_at) for pick in quick_picks(business_ticket, now=FRIDAY_4PM)]

    assert picks == [
        ("In 2 business hours", datetime(2026, 12, 7, 10, tzinfo=BERLIN)),
        ("End of the next business day", datetime(2026, 12, 7, 17, tzinfo=BERLIN)),
        ("The guard's estimate: about 2 business days", datetime(2026, 12, 8, 16, tzinfo=BERLIN)),
    ]


def test_quick_picks_around_the_clock_are_rounded_up_to_the_minute(ticket):
    now = datetime(2026, 12, 4, 16, 0, 30, tzinfo=BERLIN)

    picks = [(pick.label, pick.due_at) for pick in quick_picks(ticket, now=now)]

    assert picks == [
        ("In 2 hours", datetime(2026, 12, 4, 18, 1, tzinfo=BERLIN)),
        ("This time tomorrow", datetime(2026, 12, 5, 16, 1, tzinfo=BERLIN)),
        ("The guard's estimate: 4 h", datetime(2026, 12, 4, 20, 1, tzinfo=BERLIN)),
    ]


def test_the_promise_form_offers_the_picks_in_the_agents_time(business_ticket, alice, client_for, monkeypatch):
    desk = client_for(alice)
    desk.cookies["tz"] = "America/New_York"  # the agent is in New York, the desk's calendar in Berlin
    monkeypatch.setattr(timezone, "now", lambda: FRIDAY_4PM)

    page = desk.get(reverse("desk:ticket", args=[business_ticket.reference])).content.decode()

    # Monday 10:00 and 17:00 and Tuesday 16:00 in Berlin are 04:00, 11:00 and 10:00 in New York
    assert 'data-value="2026-12-07T04:00">In 2 business hours' in page
    assert 'data-value="2026-12-07T11:00">End of the next business day' in page
    assert 'data-value="2026-12-08T10:00">The guard&#x27;s estimate: about 2 business days' in page
