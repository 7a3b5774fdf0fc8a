"""The calendar rules the Configuration pages and the API share: saving, deleting, the two weeks' preview, and the
warnings re-timed when hours change."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from tests.factories import history_says
from tickets import services
from tickets.models import AROUND_THE_CLOCK, Calendar, ClosedDay, Estimate
from tickets.models.calendar import parse_spans, stored_spans
from tickets.services.calendars import category_changed, delete_calendar, preview, save_calendar

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS_9_TO_5 = [stored_spans(parse_spans("09:00-17:00"))] * 5 + [[]] * 2


def office(**fields) -> Calendar:
    return Calendar(**{"name": "Berlin office", "time_zone": "Europe/Berlin", "weekly": WEEKDAYS_9_TO_5, **fields})


def test_a_calendar_is_saved_with_its_closed_days():
    calendar = save_calendar(office(country="DE"), closed_days=[ClosedDay(date=date(2026, 12, 31), reason="Year end")])

    assert list(calendar.closed_days.values_list("date", "reason")) == [(date(2026, 12, 31), "Year end")]
    save_calendar(calendar, closed_days=[])
    assert not calendar.closed_days.exists()


def test_a_date_closed_twice_is_refused_and_nothing_is_saved():
    with pytest.raises(ValidationError, match="2026-12-31 is listed twice"):
        save_calendar(office(), closed_days=[ClosedDay(date=date(2026, 12, 31))] * 2)
    assert not Calendar.objects.filter(name="Berlin office").exists()


def test_a_taken_name_is_refused_whatever_its_case():
    save_calendar(office())
    with pytest.raises(ValidationError, match="“Berlin office” is taken by another calendar"):
        save_calendar(Calendar(name="berlin OFFICE", weekly=WEEKDAYS_9_TO_5))


def test_the_around_the_clock_calendar_is_never_changed(db):
    around_the_clock = Calendar.objects.get(name=AROUND_THE_CLOCK)
    around_the_clock.name, around_the_clock.weekly = "Office hours", WEEKDAYS_9_TO_5
    with pytest.raises(ValidationError, match="Around the clock can't be changed: it is the calendar of every team"):
        save_calendar(around_the_clock)
    assert Calendar.objects.get(pk=around_the_clock.pk).name == AROUND_THE_CLOCK


def test_dates_closed_twice_are_named_together():
    days = [ClosedDay(date=date(2026, 12, day)) for day in (24, 31, 24, 31)]
    with pytest.raises(ValidationError, match=r"2026-12-24 and 2026-12-31 are listed twice: give each date once\."):
        save_calendar(office(), closed_days=days)


def test_hours_never_open_are_refused():
    with pytest.raises(ValidationError, match="never open"):
        save_calendar(office(weekly=[[]] * 7))


def test_a_calendar_a_team_works_to_cant_be_deleted(billing):
    calendar = save_calendar(office())
    billing.calendar = calendar
    billing.save()
    with pytest.raises(ValidationError, match="Billing works to it; give it another calendar first"):
        delete_calendar(calendar)

    billing.calendar_id = Calendar.default_id()
    billing.save()
    delete_calendar(calendar)
    assert not Calendar.objects.filter(pk=calendar.pk).exists()


def test_the_around_the_clock_calendar_is_never_deleted(db):
    with pytest.raises(ValidationError, match="the calendar of every team that sets none"):
        delete_calendar(Calendar.objects.get(name=AROUND_THE_CLOCK))


def test_the_preview_shows_two_weeks_with_holidays_and_days_off_named():
    calendar = save_calendar(
        office(country="DE", subdivision="BE"),
        closed_days=[ClosedDay(date=date(2026, 12, 23), spans=stored_spans(parse_spans("09:00-12:00")))],
    )

    days = preview(calendar, start=datetime(2026, 12, 21, 23, 30, tzinfo=BERLIN))

    assert len(days) == 14
    shown = {day.day: (day.hours, day.why) for day in days}
    assert shown[date(2026, 12, 21)] == ("09:00-17:00", "")
    assert shown[date(2026, 12, 23)] == ("09:00-12:00", "half day")
    assert shown[date(2026, 12, 25)] == ("closed", "Christmas Day")
    assert shown[date(2026, 12, 27)] == ("closed", "")  # a Sunday
    assert shown[date(2027, 1, 1)] == ("closed", "New Year's Day")


def test_changing_a_calendar_re_times_the_warnings_of_its_teams_business_time_promises(
    ticket, alice, billing, category
):
    category.business_hours = True
    category.save()
    calendar = save_calendar(office())
    billing.calendar = calendar
    billing.save()
    monday = datetime(2026, 12, 7, 9, tzinfo=BERLIN)
    ticket.refresh_from_db()
    services.make_promise(ticket, due_at=monday + timedelta(days=1, hours=8), by=alice, words="Tomorrow.", now=monday)
    ticket.refresh_from_db()
    assert ticket.promise_warn_at == datetime(2026, 12, 8, 13, 48, tzinfo=BERLIN)

    calendar.weekly = [stored_spans(parse_spans("09:00-13:00"))] * 5 + [[]] * 2
    save_calendar(calendar)

    ticket.refresh_from_db()
    assert ticket.promise_due_at == datetime(2026, 12, 8, 17, tzinfo=BERLIN)
    assert ticket.promise_warn_at == datetime(2026, 12, 8, 11, 24, tzinfo=BERLIN)


def test_a_category_moving_to_business_time_re_times_its_promises(ticket, alice, billing, category):
    billing.calendar = save_calendar(office())
    billing.save()
    monday = datetime(2026, 12, 7, 9, tzinfo=BERLIN)
    ticket.refresh_from_db()
    services.make_promise(ticket, due_at=monday + timedelta(days=1, hours=8), by=alice, words="Tomorrow.", now=monday)
    ticket.refresh_from_db()
    assert ticket.promise_warn_at == datetime(2026, 12, 8, 10, 36, tzinfo=BERLIN)  # 20 % of 32 h, around the clock

    history_says(category, timedelta(hours=5), priority=ticket.priority, seen=412)
    assert category_changed(category, business_hours_before=False) == 0  # no change, nothing re-timed
    assert Estimate.objects.filter(category=category).exists()
    category.business_hours = True
    category.save()
    assert category_changed(category, business_hours_before=False) == 1
    assert not Estimate.objects.filter(category=category).exists()  # measured around the clock: dropped

    ticket.refresh_from_db()
    assert ticket.promise_warn_at == datetime(2026, 12, 8, 13, 48, tzinfo=BERLIN)
