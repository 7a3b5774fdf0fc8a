"""Times on the desk are shown in the viewer's own zone (the ``tz`` cookie), and countdowns read naturally."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests.desk.helpers import html, ticket_url, utc
from tests.factories import TicketFactory
from tickets import services
from tickets.templatetags.desk import countdown

WINTER = '<time datetime="2026-01-15T10:00:00-05:00">Thu 15 Jan, 10:00</time>'  # 15:00 UTC, EST
SUMMER = '<time datetime="2026-07-15T11:00:00-04:00">Wed 15 Jul, 11:00</time>'  # 15:00 UTC, EDT


@pytest.fixture
def timeline(dave, category, alice):
    """Dave wrote at 15:00 UTC on 15 January; alice noted something at 15:00 UTC on 15 July."""
    ticket = TicketFactory(customer=dave, category=category, now=utc(2026, 1, 15, 15, 0))
    services.add_note(ticket, by=alice, body="Checked the ledger.", now=utc(2026, 7, 15, 15, 0))
    return ticket


def page(client, ticket, tz=None):
    if tz is not None:
        client.cookies["tz"] = tz
    response = client.get(ticket_url(ticket))
    assert response.status_code == 200
    return html(response)


def test_alice_in_new_york_sees_the_timeline_in_new_york_time(client_for, timeline, alice):
    shown = page(client_for(alice), timeline, "America/New_York")
    assert WINTER in shown
    assert SUMMER in shown


def test_alice_in_new_york_sees_the_promise_due_in_new_york_time_with_its_zone(client_for, ticket, alice):
    due = (timezone.now() + timedelta(days=3)).replace(second=0, microsecond=0)
    services.make_promise(ticket, due_at=due, by=alice, words="By Friday.")
    local = due.astimezone(ZoneInfo("America/New_York"))
    shown = page(client_for(alice), ticket, "America/New_York")
    assert f"due {local:%a} {local.day} {local:%b}, {local:%H:%M} {local:%Z}" in shown
    assert local.strftime("%Z") in ("EST", "EDT")


def test_without_the_cookie_times_are_in_the_site_zone(client_for, timeline, alice):
    shown = page(client_for(alice), timeline)
    assert '<time datetime="2026-01-15T15:00:00+00:00">Thu 15 Jan, 15:00</time>' in shown


@pytest.mark.parametrize(
    "cookie", ["Mars/Olympus", "../../../etc/passwd", "/etc/localtime", "America/", "zone.tab", ""]
)
def test_an_invalid_zone_in_the_cookie_falls_back_to_the_site_zone(cookie, client_for, timeline, alice):
    shown = page(client_for(alice), timeline, cookie)
    assert '<time datetime="2026-01-15T15:00:00+00:00">Thu 15 Jan, 15:00</time>' in shown


def test_one_viewers_zone_does_not_leak_into_the_next_request(client_for, timeline, alice, carol):
    page(client_for(alice), timeline, "America/New_York")
    shown = page(client_for(carol), timeline)
    assert '<time datetime="2026-01-15T15:00:00+00:00">' in shown


# --- Countdowns --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("due_in", "says"),
    [
        (timedelta(minutes=42, seconds=20), "due in 42 min"),
        (-timedelta(hours=1, minutes=5, seconds=20), "overdue by 1 h 5 min"),
        (timedelta(hours=2, minutes=15, seconds=20), "due in 2 h 15 min"),
        (timedelta(days=2, hours=3, minutes=10), "due in 2 days 3 h"),
        (timedelta(seconds=20), "due in less than a minute"),
    ],
)
def test_the_countdown_says_how_long_is_left_as_people_say_it(due_in, says):
    assert countdown(timezone.now() + due_in) == says


def test_the_countdown_of_no_promise_is_empty():
    assert countdown(None) == ""


def test_the_ticket_page_shows_the_countdown(client_for, ticket, alice):
    due = timezone.now() + timedelta(hours=5, minutes=30, seconds=20)
    services.make_promise(ticket, due_at=due, by=alice, words="This afternoon.")
    assert "due in 5 h 30 min" in page(client_for(alice), ticket)
