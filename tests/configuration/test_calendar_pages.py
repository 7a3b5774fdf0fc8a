"""Supervisors keep business calendars here: a name, a time zone, each weekday's open hours as they say them
("09:00-12:30, 13:30-17:00", "closed"), a country's public holidays and the calendar's own closed days, with
the next two weeks' open hours shown beside the form; a team chooses one, a category chooses business time,
and either re-times the warnings of promises already made."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

import holidays
import pytest
from django.utils import timezone

from tests.configuration import (
    BERLIN,
    NINE_TO_FIVE,
    WARNED_AROUND_THE_CLOCK,
    WARNED_IN_OFFICE_HOURS,
    calendar_data,
    category_data,
    promised_on_monday,
    refused,
    said,
    saved,
    signed_in,
    team_data,
    text,
    url,
    world_as_saved,
)
from tickets.models import AROUND_THE_CLOCK, Calendar, ClosedDay

pytestmark = pytest.mark.django_db


@pytest.fixture
def supervisor(carol):
    return signed_in(carol)


@pytest.fixture
def office(db):
    """Monday to Friday, nine to five, Berlin time, with Bavaria's public holidays and Christmas Eve's morning."""
    calendar = Calendar.objects.create(
        name="Berlin office", time_zone="Europe/Berlin", weekly=NINE_TO_FIVE, country="DE", subdivision="BY"
    )
    ClosedDay.objects.create(calendar=calendar, date=date(2025, 12, 24), spans=[["09:00", "12:00"]], reason="")
    return calendar


@pytest.fixture
def on_monday_22_december_2025(monkeypatch):
    """The clock the pages read stands at Monday 22 December 2025, 09:00 in Berlin."""
    moment = datetime(2025, 12, 22, 9, tzinfo=BERLIN)
    monkeypatch.setattr(timezone, "now", lambda: moment)


def row_of(page: str, attribute: str, value: Any) -> str:
    """The HTML of the table row or list item with ``attribute="value"``, from its tag to its end."""
    start = page.rindex("<", 0, page.index(f'{attribute}="{value}"'))
    return page[start : page.index("</tr>" if page.startswith("<tr", start) else "</li>", start)]


# --- Creating and editing ---------------------------------------------------------------------------------


def test_a_new_calendar_is_saved_with_its_hours_holidays_and_closed_days(supervisor):
    # when carol creates the Berlin office: weekdays with a lunch break, Saturday mornings, Bavaria's holidays
    # and two days of her own
    data = calendar_data(
        name="Berlin office",
        time_zone="Europe/Berlin",
        monday="09:00-12:30, 13:30-17:00",
        saturday="10:00-13:00",
        country="DE",
        subdivision="BY",
        days=[
            {"date": "2026-12-24", "hours": "09:00-12:00", "reason": "Christmas Eve"},
            {"date": "2026-12-31", "hours": "", "reason": "Year end"},
        ],
    )
    response = supervisor.post(url("calendar-new"), data)

    # then she is back on the overview, told so, and the calendar is as she typed it
    assert saved(response) == ["Created calendar “Berlin office”."]
    calendar = Calendar.objects.get(name="Berlin office")
    assert (calendar.time_zone, calendar.country, calendar.subdivision) == ("Europe/Berlin", "DE", "BY")
    assert calendar.weekly == [
        [["09:00", "12:30"], ["13:30", "17:00"]], *[[["09:00", "17:00"]]] * 4, [["10:00", "13:00"]], []
    ]  # fmt: skip
    assert list(calendar.closed_days.values_list("date", "spans", "reason")) == [
        (date(2026, 12, 24), [["09:00", "12:00"]], "Christmas Eve"),
        (date(2026, 12, 31), [], "Year end"),
    ]


def test_the_overview_lists_each_calendar_with_its_week_in_short_its_holidays_and_teams(
    supervisor, office, billing, technical
):
    billing.calendar = technical.calendar = office
    billing.save()
    technical.save()
    page = text(supervisor.get(url("index")))
    row = row_of(page, "data-calendar", office.pk)
    assert "<td>Berlin office</td>" in row
    assert "<td>Europe/Berlin</td>" in row
    assert "Mon-Fri 09:00-17:00" in row
    assert "Germany (BY)" in row
    assert "Billing, Technical" in row
    around_the_clock = row_of(page, "data-calendar", Calendar.default_id())
    assert "Every day 00:00-24:00" in around_the_clock
    assert ">View<" in around_the_clock  # it can't be edited
    assert "<td>Berlin office</td>" in row_of(page, "data-team", billing.pk)  # the teams' table says it too


def test_a_new_calendars_page_starts_nine_to_five_in_the_sites_zone(supervisor, settings):
    page = text(supervisor.get(url("calendar-new")))
    assert f'value="{settings.TIME_ZONE}"' in page
    assert page.count('value="09:00-17:00"') == 5
    assert page.count('value="closed"') == 2
    assert '<option value="Europe/Berlin">' in page  # the zones the browser suggests
    assert "Once the calendar is created, its open hours for the next two weeks show here" in page


def test_the_edit_page_shows_the_calendar_as_saved(supervisor, office):
    page = text(supervisor.get(url("calendar-edit", office.pk)))
    assert 'value="Berlin office"' in page
    assert 'value="Europe/Berlin"' in page
    assert '<option value="DE" selected>Germany (DE)</option>' in page
    assert 'value="BY"' in page
    assert '<option value="BY">Bayern</option>' in page  # Germany's states suggested by name
    assert 'name="closed-0-date" type="date" value="2025-12-24"' in page
    assert 'name="closed-0-hours" placeholder="closed" type="text" value="09:00-12:00"' in page
    assert "No team works to this calendar yet" in page


def test_the_page_previews_the_next_two_weeks_naming_holidays_and_days_off(
    supervisor, office, on_monday_22_december_2025
):
    page = text(supervisor.get(url("calendar-edit", office.pk)))

    days = re.findall(r'<li class="preview-day([^"]*)" data-day="([\d-]+)"', page)
    assert [day for _, day in days] == [f"{date(2025, 12, 22) + timedelta(days=n):%Y-%m-%d}" for n in range(14)]
    assert "Mon 22 Dec" in row_of(page, "data-day", "2025-12-22")
    assert "09:00-17:00" in row_of(page, "data-day", "2025-12-22")
    half_day = row_of(page, "data-day", "2025-12-24")
    assert "half-day" in half_day and "09:00-12:00" in half_day and "half day" in half_day
    christmas = row_of(page, "data-day", "2025-12-25")
    assert "closed" in christmas and "Christmas Day" in christmas
    assert "Second Day of Christmas" in row_of(page, "data-day", "2025-12-26")
    assert "Closed" in row_of(page, "data-day", "2025-12-27")  # a Saturday
    assert "New Year" in row_of(page, "data-day", "2026-01-01")
    assert "Epiphany" not in page  # 6 January is past the two weeks
    assert "As saved, in Europe/Berlin time, with the public holidays of Germany (BY)." in page


def test_save_and_check_the_preview_comes_back_to_the_calendar(supervisor, office):
    response = supervisor.post(
        url("calendar-edit", office.pk), {**calendar_data(office, saturday="10:00-13:00"), "again": "1"}
    )
    assert response.status_code == 302
    assert response["Location"] == url("calendar-edit", office.pk)
    assert said(response) == ["Saved calendar “Berlin office”."]
    office.refresh_from_db()
    assert office.weekly[5] == [["10:00", "13:00"]]


def test_closed_days_are_added_and_removed_in_one_save(supervisor, office):
    # given the office closes on 24 December (row 0); carol ticks it for removal and fills in two blank rows
    days = [
        {"date": "2025-12-24", "hours": "09:00-12:00", "reason": "", "DELETE": "on"},
        {"date": "2026-12-24", "hours": "09:00-12:00", "reason": "Christmas Eve"},
        {"date": "2026-12-31", "hours": "closed", "reason": "Year end"},
        {"date": "", "hours": "", "reason": ""},  # a blank row left blank
    ]
    saved(supervisor.post(url("calendar-edit", office.pk), calendar_data(office, days=days)))
    assert list(office.closed_days.values_list("date", "reason")) == [
        (date(2026, 12, 24), "Christmas Eve"),
        (date(2026, 12, 31), "Year end"),
    ]


def test_a_region_typed_by_name_or_in_other_letters_is_kept_as_its_codes(supervisor, office):
    saved(supervisor.post(url("calendar-edit", office.pk), calendar_data(office, country="deu", subdivision="Bayern")))
    office.refresh_from_db()
    assert (office.country, office.subdivision) == ("DE", "BY")
    saved(supervisor.post(url("calendar-edit", office.pk), calendar_data(office, country="", subdivision="")))
    office.refresh_from_db()
    assert (office.country, office.subdivision) == ("", "")


GERMANY = ", ".join(holidays.list_supported_countries()["DE"])


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "Give the calendar a name."),
        ({"name": "around the CLOCK"}, "The name “Around the clock” is taken by another calendar: choose another."),
        ({"time_zone": ""}, "Give the time zone its hours are in, e.g. Europe/Berlin."),
        ({"time_zone": "Europe/Bonn"}, "'Europe/Bonn' is not a time zone; use a name such as Europe/Paris."),
        ({"monday": "9-5"}, "Monday: write open hours as 09:00-17:00, several separated by commas."),
        ({"friday": "09:00-17:00; 18:00-20:00"}, "Friday: write open hours as 09:00-17:00, several separated by "
                                                 "commas."),
        ({"tuesday": "08:00-25:00"}, "Tuesday: 08:00-25:00 is not a time of day (00:00 to 24:00)."),
        (dict.fromkeys(["monday", "tuesday", "wednesday", "thursday", "friday"], "closed"),
         "This calendar is never open: give at least one weekday some open hours."),
        ({"country": "XX"}, "We have no public holidays for 'XX': use a code such as DE."),
        ({"subdivision": "ZZ"}, f"DE has no subdivision 'ZZ'; it has: {GERMANY}."),
        ({"country": "", "subdivision": "BY"}, "Choose the country first."),
    ],
)  # fmt: skip
def test_a_bad_calendar_is_refused_saying_what_to_fix(change, message, supervisor, office):
    before = world_as_saved()
    page = refused(supervisor.post(url("calendar-edit", office.pk), calendar_data(office, **change)))
    assert message in page
    assert "Nothing was saved" in page
    assert world_as_saved() == before


def test_a_day_that_cant_be_read_does_not_also_make_a_new_calendar_never_open(supervisor, db):
    page = refused(supervisor.post(url("calendar-new"), calendar_data(name="Lisbon office", tuesday="9-5")))
    assert "Tuesday: write open hours as 09:00-17:00, several separated by commas." in page
    assert "never open" not in page
    assert not Calendar.objects.filter(name="Lisbon office").exists()


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ([{"date": "2026-12-24"}, {"date": "2026-12-24", "reason": "Again"}],
         "2026-12-24 is listed twice: give each date once."),
        ([{"date": "24.12.2026"}], "Write the date as 2026-12-24."),
        ([{"date": "", "reason": "Christmas Eve"}], "Give the date."),
        ([{"date": "2026-12-24", "hours": "mornings"}],
         "2026-12-24: write open hours as 09:00-17:00, several separated by commas."),
        ([{"date": "2026-12-24", "reason": "x" * 101}], "Ensure this value has at most 100 characters (it has 101)."),
    ],
    ids=["date twice", "date as written elsewhere", "no date", "bad hours", "reason too long"],
)  # fmt: skip
def test_a_bad_closed_day_is_refused_saying_what_to_fix(days, message, supervisor, office):
    before = world_as_saved()
    rows = [{"date": "", "hours": "", "reason": "", **day} for day in days]
    page = refused(supervisor.post(url("calendar-edit", office.pk), calendar_data(office, days=rows)))
    assert message in page
    assert world_as_saved() == before


# --- The around-the-clock calendar, and deleting --------------------------------------------------------------


def test_the_around_the_clock_calendar_is_shown_but_can_not_be_changed(supervisor, billing):
    around_the_clock = Calendar.objects.get(name=AROUND_THE_CLOCK)
    page = text(supervisor.get(url("calendar-edit", around_the_clock.pk)))
    assert "It can't be changed or deleted." in page
    assert "Billing works to this calendar." in page
    assert 'name="monday"' not in page  # no form
    assert page.count("00:00-24:00") == 14  # the preview: open all day, every day

    before = world_as_saved()
    data = calendar_data(around_the_clock, name="Office hours", **{"monday": "09:00-17:00"})
    page = refused(supervisor.post(url("calendar-edit", around_the_clock.pk), data))
    assert "Around the clock can't be changed: it is the calendar of every team that sets none." in page
    assert world_as_saved() == before


def test_deleting_a_calendar_no_team_works_to_works(supervisor, office):
    assert saved(supervisor.post(url("calendar-delete", office.pk))) == ["Deleted calendar “Berlin office”."]
    assert not Calendar.objects.filter(pk=office.pk).exists()
    assert not ClosedDay.objects.exists()


def test_deleting_a_calendar_a_team_works_to_is_refused_naming_the_team(supervisor, office, billing):
    billing.calendar = office
    billing.save()
    before = world_as_saved()
    response = supervisor.post(url("calendar-delete", office.pk))
    assert response.status_code == 302
    assert response["Location"] == url("calendar-edit", office.pk)
    assert said(response) == ["Berlin office can't be deleted: Billing works to it; give it another calendar first."]
    assert world_as_saved() == before


def test_the_around_the_clock_calendar_is_never_deleted(supervisor, db):
    around_the_clock = Calendar.objects.get(name=AROUND_THE_CLOCK)
    [message] = said(supervisor.post(url("calendar-delete", around_the_clock.pk)))
    assert message == "Around the clock can't be deleted: it is the calendar of every team that sets none."
    assert Calendar.objects.filter(pk=around_the_clock.pk).exists()


# --- A team's calendar and a category's business time, on their pages --------------------------------------


def test_a_teams_page_offers_the_calendars_and_saves_the_one_chosen(supervisor, billing, office):
    page = text(supervisor.get(url("team-edit", billing.pk)))
    assert f'<option value="{billing.calendar_id}" selected>Around the clock</option>' in page
    assert f'<option value="{office.pk}">Berlin office</option>' in page
    saved(supervisor.post(url("team-edit", billing.pk), team_data(billing, calendar=office.pk)))
    billing.refresh_from_db()
    assert billing.calendar == office


def test_a_calendar_that_does_not_exist_is_refused_on_the_teams_page(supervisor, billing):
    page = refused(supervisor.post(url("team-edit", billing.pk), team_data(billing, calendar=999_999)))
    assert "Select a valid choice. That choice is not one of the available choices." in page


def test_moving_a_team_to_another_calendar_re_times_its_business_time_warnings(
    supervisor, billing, office, category, ticket, alice
):
    # given Billing's category runs in business time, and alice promised around the clock
    category.business_hours = True
    category.save()
    assert promised_on_monday(ticket, alice).promise_warn_at == WARNED_AROUND_THE_CLOCK
    # when carol moves Billing to the Berlin office's hours
    saved(supervisor.post(url("team-edit", billing.pk), team_data(billing, calendar=office.pk)))
    # then the promise is still due when it was, and warned in office hours
    ticket.refresh_from_db()
    assert ticket.promise_due_at == datetime(2026, 12, 8, 17, tzinfo=BERLIN)
    assert ticket.promise_warn_at == ticket.next_check_at == WARNED_IN_OFFICE_HOURS


def test_a_category_moved_to_business_time_re_times_its_warnings(supervisor, billing, office, category, ticket, alice):
    # given Billing works to the Berlin office, and alice promised in a category that runs around the clock
    billing.calendar = office
    billing.save()
    assert promised_on_monday(ticket, alice).promise_warn_at == WARNED_AROUND_THE_CLOCK
    page = text(supervisor.get(url("category-edit", category.pk)))
    assert "Promises run in business time" in page
    # when carol ticks business time for the category
    saved(supervisor.post(url("category-edit", category.pk), category_data(category, business_hours="on")))
    # then its promise is warned in office hours, and unticking it puts the warning back
    category.refresh_from_db()
    assert category.business_hours
    ticket.refresh_from_db()
    assert ticket.promise_warn_at == WARNED_IN_OFFICE_HOURS
    saved(supervisor.post(url("category-edit", category.pk), category_data(category, business_hours="")))
    ticket.refresh_from_db()
    assert ticket.promise_warn_at == WARNED_AROUND_THE_CLOCK
