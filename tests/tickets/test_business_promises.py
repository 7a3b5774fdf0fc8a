"""Promises in the time the desk works: warnings, pauses and due times follow the category's calendar where the
category runs in business time, and nothing changes where it does not."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from tickets import services
from tickets.models import AROUND_THE_CLOCK, Calendar, Category, ClosedDay, PromiseState, Ticket, TicketStatus
from tickets.models.calendar import parse_spans, spans_text, stored_spans
from tickets.promise_rules import clock_of
from tickets.services.calendars import hours_changed
from tickets.sweep import sweep

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)
NINE_TO_FIVE = [stored_spans(((datetime(2000, 1, 1, 9).time(), datetime(2000, 1, 1, 17).time()),))] * 5 + [[]] * 2


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


@pytest.fixture
def office(billing):
    """Billing works Monday to Friday, nine to five, Berlin time, with Bavaria's public holidays."""
    calendar = Calendar.objects.create(
        name="Berlin office", time_zone="Europe/Berlin", weekly=NINE_TO_FIVE, country="DE", subdivision="BY"
    )
    billing.calendar = calendar
    billing.save()
    return calendar


@pytest.fixture
def in_business_time(category, office):
    category.business_hours = True
    category.save()
    return category


def clock(ticket):
    ticket.refresh_from_db()  # the fixtures changed its team's calendar after it was made
    return clock_of(ticket).hours


def promise(ticket, by, *, at: datetime, due: datetime):
    ticket.created_at = ticket.created_at or at
    return services.make_promise(ticket, due_at=due, by=by, words="We'll have it fixed.", now=at, reason="Known fix.")


# --- The default: around the clock --------------------------------------------------------------------------


def test_every_team_starts_on_the_around_the_clock_calendar(billing, category, ticket):
    assert billing.calendar.name == AROUND_THE_CLOCK
    assert billing.calendar.is_around_the_clock
    assert not category.business_hours
    assert clock_of(ticket).hours.between(berlin(2026, 12, 4, 17), berlin(2026, 12, 7, 9)) == 64 * H


def test_a_category_that_runs_around_the_clock_ignores_its_teams_calendar(ticket, alice, office):
    friday = berlin(2026, 12, 4, 16, 30)
    promise(ticket, alice, at=friday, due=friday + 8 * H)

    assert ticket.promise_due_at == friday + 8 * H
    assert ticket.promise_warn_at == friday + 8 * H - timedelta(minutes=96)  # 20 % of 8 h, elapsed


# --- Business time ------------------------------------------------------------------------------------------------


def test_a_friday_evening_promise_is_not_warned_until_monday_morning(ticket, alice, in_business_time):
    friday, monday_noon = berlin(2026, 12, 4, 16, 30), berlin(2026, 12, 7, 12)
    promise(ticket, alice, at=friday, due=monday_noon)  # 30 min on Friday and 3 h on Monday: 3.5 business hours

    assert ticket.promise_warn_at == berlin(2026, 12, 7, 11, 18)  # 20 % of 3.5 h = 42 min before noon
    assert (ticket.promise_state, ticket.next_check_at) == (PromiseState.ON_TRACK, ticket.promise_warn_at)
    for night in (berlin(2026, 12, 4, 23), berlin(2026, 12, 5, 3), berlin(2026, 12, 6, 12), berlin(2026, 12, 7, 8)):
        assert sweep(now=night).at_risk == 0
    assert sweep(now=berlin(2026, 12, 7, 11, 18)).at_risk == 1
    ticket.refresh_from_db()
    assert ticket.promise_state == PromiseState.AT_RISK


def test_a_public_holiday_is_closed_time(ticket, alice, in_business_time):
    """Christmas Day and Boxing Day 2026 are a Friday and a Saturday: Thursday 24th's last hour, then Monday."""
    hours = clock(ticket)
    assert hours.add(berlin(2026, 12, 24, 16), 2 * H) == berlin(2026, 12, 28, 10)  # 25th, 26th, weekend closed
    assert not hours.is_open(berlin(2026, 12, 25, 10))


def test_a_company_day_off_and_a_half_day(ticket, office, in_business_time):
    ClosedDay.objects.create(calendar=office, date=date(2026, 12, 9), reason="Team day")
    ClosedDay.objects.create(calendar=office, date=date(2026, 12, 10), spans=stored_spans(parse_spans("09:00-12:00")))
    hours = clock(ticket)

    assert hours.add(berlin(2026, 12, 8, 16), 2 * H) == berlin(2026, 12, 10, 10)  # 1 h Tuesday, none Wednesday
    assert hours.add(berlin(2026, 12, 10, 11), 2 * H) == berlin(2026, 12, 11, 10)  # Thursday closes at noon


def test_a_wait_over_the_weekend_moves_the_promise_by_the_open_time_waited(ticket, alice, in_business_time):
    friday = berlin(2026, 12, 4, 10)
    promise(ticket, alice, at=friday, due=berlin(2026, 12, 7, 12))
    services.change_status(ticket, to=TicketStatus.WAITING, by=alice, now=berlin(2026, 12, 4, 16))
    services.change_status(ticket, to=TicketStatus.OPEN, by=alice, now=berlin(2026, 12, 7, 10))

    made = ticket.promises.get()
    assert made.paused_for == 2 * H  # Friday 16-17 and Monday 9-10; the weekend was closed anyway
    assert ticket.promise_due_at == made.due_at == berlin(2026, 12, 7, 14)


def test_a_promise_with_no_open_time_before_it_is_warned_in_elapsed_time(ticket, alice, in_business_time):
    friday_evening, saturday = berlin(2026, 12, 4, 18), berlin(2026, 12, 5, 10)
    promise(ticket, alice, at=friday_evening, due=saturday)  # promised for when the desk is closed: kept as said

    assert ticket.promise_due_at == saturday
    assert ticket.promise_warn_at == saturday - timedelta(minutes=192)  # 20 % of the 16 h it runs


# --- Calendars as supervisors write them --------------------------------------------------------------------------


def test_spans_read_as_people_write_them():
    assert spans_text(parse_spans("9:00-12:30, 13:30-17:00")) == "09:00-12:30, 13:30-17:00"
    assert spans_text(parse_spans("22:00-06:00")) == "22:00-06:00"
    assert spans_text(parse_spans("00:00-24:00")) == "00:00-24:00"
    assert parse_spans("closed") == parse_spans("") == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [("9-17", "write open hours as 09:00-17:00"), ("09:00-25:00", "not a time of day"), ("9:75-10:00", "not a time"),
     ("09:00-17:00, 10:00-12:00", "the spans overlap")],
)  # fmt: skip
def test_spans_that_are_not_times_are_refused_clearly(text, message):
    with pytest.raises(ValidationError, match=message):
        parse_spans(text, day="Monday")


def test_a_calendar_never_open_is_refused_clearly(db):
    calendar = Calendar(name="Never", weekly=[[]] * 7)
    with pytest.raises(ValidationError, match="never open"):
        calendar.clean()


@pytest.mark.parametrize(
    ("country", "subdivision", "field", "message"),
    [("XX", "", "country", "no public holidays for 'XX'"), ("DE", "ZZ", "subdivision", "has no subdivision 'ZZ'"),
     ("", "BY", "subdivision", "Choose the country first")],
)  # fmt: skip
def test_an_unknown_region_is_refused_clearly(db, country, subdivision, field, message):
    calendar = Calendar(name="Somewhere", weekly=NINE_TO_FIVE, country=country, subdivision=subdivision)
    with pytest.raises(ValidationError, match=message) as refused:
        calendar.clean()
    assert field in refused.value.message_dict


def test_an_unknown_zone_is_refused_clearly(db):
    calendar = Calendar(name="Nowhere", weekly=NINE_TO_FIVE, time_zone="Mars/Olympus")
    with pytest.raises(ValidationError, match="not a time zone; use a name such as Europe/Paris"):
        calendar.full_clean()


# --- Changing the hours -----------------------------------------------------------------------------------------


def test_a_calendar_change_keeps_the_promise_but_re_times_its_warning_and_check(
    ticket, alice, office, in_business_time
):
    monday = berlin(2026, 12, 7, 9)
    promise(ticket, alice, at=monday, due=berlin(2026, 12, 8, 17))  # 16 business hours: warned 3 h 12 min before
    assert ticket.promise_warn_at == berlin(2026, 12, 8, 13, 48)

    office.weekly = [stored_spans(parse_spans("09:00-13:00"))] * 5 + [[]] * 2  # mornings only from now on
    office.save()
    assert services.retime_warnings(Ticket.objects.filter(team__calendar=office)) == 1

    ticket.refresh_from_db()
    made = ticket.promises.get()
    assert ticket.promise_due_at == made.due_at == berlin(2026, 12, 8, 17)  # the customer was told an instant
    # 8 business hours to Tuesday 13:00 (the rest of Tuesday is closed now): warned 1 h 36 min before that
    assert ticket.promise_warn_at == ticket.next_check_at == berlin(2026, 12, 8, 11, 24)
    assert ticket.promise_state == PromiseState.ON_TRACK


def test_re_timing_twice_changes_nothing_more_and_leaves_given_warnings_alone(ticket, alice, office, in_business_time):
    monday = berlin(2026, 12, 7, 9)
    promise(ticket, alice, at=monday, due=berlin(2026, 12, 7, 9, 20))  # inside its window at once: warned now
    assert ticket.promise_state == PromiseState.AT_RISK
    ticket_updated = ticket.updated_at

    assert services.retime_warnings(Ticket.objects.all()) == 0
    assert services.retime_warnings(Ticket.objects.all()) == 0
    ticket.refresh_from_db()
    assert (ticket.promise_state, ticket.next_check_at, ticket.updated_at) == (
        PromiseState.AT_RISK, ticket.promise_due_at, ticket_updated
    )  # fmt: skip


def test_a_promise_keeps_its_categorys_clock_whoever_has_the_ticket(ticket, alice, technical, in_business_time):
    """The category's calendar is its path's first team's (Billing's): a transfer to Technical, who work mornings
    only, changes neither the warning nor what the promise took, so its figures and estimates stay in one clock."""
    weekly = [stored_spans(parse_spans("09:00-13:00"))] * 5 + [[]] * 2
    technical.calendar = Calendar.objects.create(name="Mornings", time_zone="Europe/Berlin", weekly=weekly)
    technical.save()
    monday = berlin(2026, 12, 7, 9)
    promise(ticket, alice, at=monday, due=berlin(2026, 12, 8, 17))

    services.transfer(ticket, by=alice, team=technical, note="Yours: the refund needs a specialist.", now=monday)
    services.resolve(ticket, by=alice, summary="Refunded.", now=berlin(2026, 12, 8, 16))

    made = ticket.promises.get()
    assert ticket.promise_warn_at == berlin(2026, 12, 8, 13, 48)
    assert (made.promised_for, made.took) == (16 * H, 15 * H)  # Billing's 9 to 17, not Technical's mornings


def test_the_first_teams_new_calendar_re_times_its_categories_promises(
    ticket, alice, billing, office, in_business_time
):
    monday = berlin(2026, 12, 7, 9)
    promise(ticket, alice, at=monday, due=berlin(2026, 12, 8, 17))
    mornings = Calendar.objects.create(
        name="Mornings", time_zone="Europe/Berlin", weekly=[stored_spans(parse_spans("09:00-13:00"))] * 5 + [[]] * 2
    )
    billing.calendar = mornings
    billing.save()

    assert hours_changed(Category.objects.starting_with(billing)) == 1

    ticket.refresh_from_db()
    assert ticket.promise_due_at == berlin(2026, 12, 8, 17)
    assert ticket.promise_warn_at == berlin(2026, 12, 8, 11, 24)


def test_re_timing_after_a_wait_in_the_same_hours_moves_nothing(ticket, alice, in_business_time):
    monday = berlin(2026, 12, 7, 9)
    promise(ticket, alice, at=monday, due=berlin(2026, 12, 7, 17))  # 8 h: warned 1 h 36 min before, at 15:24
    services.change_status(ticket, to=TicketStatus.WAITING, by=alice, now=berlin(2026, 12, 7, 10))
    services.change_status(ticket, to=TicketStatus.OPEN, by=alice, now=berlin(2026, 12, 7, 12))
    assert (ticket.promise_due_at, ticket.promise_warn_at) == (berlin(2026, 12, 8, 11), berlin(2026, 12, 8, 9, 24))

    for _ in range(2):
        assert services.retime_warnings(Ticket.objects.all()) == 1
        ticket.refresh_from_db()
        assert (ticket.promise_warn_at, ticket.next_check_at) == (berlin(2026, 12, 8, 9, 24),) * 2


def test_a_warning_that_would_start_as_the_desk_closes_starts_when_it_opens(ticket, alice, in_business_time):
    promise(ticket, alice, at=berlin(2026, 12, 7, 16), due=berlin(2026, 12, 8, 9, 30))  # 1.5 h: a 30 min window

    assert ticket.promise_warn_at == berlin(2026, 12, 8, 9)  # not Monday 17:00, as the desk closes
    assert sweep(now=berlin(2026, 12, 7, 17, 0, 20)).at_risk == 0
