"""``/api/v1/calendars/``: what only calendars do. A calendar's JSON says its week as people write it, its
region, closed days and teams, and one calendar its next two weeks; a write is judged by the page's forms, so
it is refused in the page's words under the API's names (``weekly.monday``, ``closed_days.1.hours``). A team's
calendar and a category's business time, changed here, re-time the warnings as the pages do.

(Who may call what, the 404s, the 409 of a calendar in use and what a list costs are in
tests/api/test_configuration.py, with the other configuration rows.)"""

from __future__ import annotations

from datetime import date, datetime

import holidays
import pytest
from django.urls import reverse
from django.utils import timezone

from tests.api.conftest import error_of
from tests.configuration import (
    BERLIN,
    NINE_TO_FIVE,
    WARNED_AROUND_THE_CLOCK,
    WARNED_IN_OFFICE_HOURS,
    promised_on_monday,
    world_as_saved,
)
from tickets.models import AROUND_THE_CLOCK, Calendar, ClosedDay

pytestmark = pytest.mark.django_db

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def url(name: str, *args: object) -> str:
    return reverse(f"api:{name}", args=args)


def fields_of(response) -> dict:
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "invalid"
    return error["fields"]


@pytest.fixture
def supervisor(api, carol):
    return api(carol)


@pytest.fixture
def office(db):
    """Monday to Friday, nine to five, Berlin time, with Bavaria's public holidays and Christmas Eve's morning."""
    calendar = Calendar.objects.create(
        name="Berlin office", time_zone="Europe/Berlin", weekly=NINE_TO_FIVE, country="DE", subdivision="BY"
    )
    ClosedDay.objects.create(
        calendar=calendar, date=date(2025, 12, 24), spans=[["09:00", "12:00"]], reason="Christmas Eve"
    )
    return calendar


# --- Reading and writing ------------------------------------------------------------------------------


def test_a_supervisor_creates_a_calendar_and_gets_it_back_with_its_next_two_weeks(supervisor):
    body = {
        "name": "Lisbon office",
        "time_zone": "Europe/Lisbon",
        "weekly": {"monday": "09:00-12:30, 13:30-18:00", "saturday": "10:00-13:00"},
        "country": "PRT",
        "closed_days": [
            {"date": "2026-12-24", "hours": "09:00-12:00", "reason": "Christmas Eve"},
            {"date": "2026-12-31"},
        ],
    }
    response = supervisor.post(url("calendars"), body, format="json")

    assert response.status_code == 201, response.content
    lisbon = Calendar.objects.get(name="Lisbon office")
    answer = response.json()
    preview = answer.pop("preview")
    assert answer == {
        "id": lisbon.pk,
        "name": "Lisbon office",
        "time_zone": "Europe/Lisbon",
        "weekly": {
            "monday": "09:00-12:30, 13:30-18:00",
            **dict.fromkeys(["tuesday", "wednesday", "thursday", "friday"], "09:00-17:00"),  # a new one's
            "saturday": "10:00-13:00",
            "sunday": "closed",
        },
        "country": "PT",  # its two-letter code
        "subdivision": "",
        "closed_days": [
            {"date": "2026-12-24", "hours": "09:00-12:00", "reason": "Christmas Eve"},
            {"date": "2026-12-31", "hours": "closed", "reason": ""},
        ],
        "teams": [],
    }
    today = timezone.now().astimezone(lisbon.zone).date()
    assert len(preview) == 14
    assert preview[0]["date"] == f"{today:%Y-%m-%d}"
    assert set(preview[0]) == {"date", "hours", "why"}


def test_the_preview_names_holidays_and_days_off(supervisor, office, monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: datetime(2025, 12, 22, 9, tzinfo=BERLIN))
    days = {
        day["date"]: (day["hours"], day["why"]) for day in supervisor.get(url("calendar", office.pk)).json()["preview"]
    }
    assert min(days) == "2025-12-22"
    assert days["2025-12-22"] == ("09:00-17:00", "")
    assert days["2025-12-24"] == ("09:00-12:00", "Christmas Eve")
    assert days["2025-12-25"] == ("closed", "Christmas Day")
    assert days["2025-12-27"] == ("closed", "")  # a Saturday
    assert days["2026-01-01"] == ("closed", "New Year's Day")


def test_the_list_leaves_the_preview_out(api, alice, office):
    listed = api(alice).get(url("calendars")).json()["results"]
    assert [calendar["name"] for calendar in listed] == [AROUND_THE_CLOCK, "Berlin office"]
    assert "preview" not in listed[1]
    assert listed[1]["weekly"]["monday"] == "09:00-17:00"
    assert listed[0]["weekly"] == dict.fromkeys(WEEKDAYS, "00:00-24:00")


def test_a_patch_of_one_weekday_keeps_the_others_and_the_closed_days(supervisor, office):
    response = supervisor.patch(url("calendar", office.pk), {"weekly": {"saturday": "10:00-13:00"}}, format="json")
    assert response.status_code == 200, response.content
    office.refresh_from_db()
    assert office.weekly == [*NINE_TO_FIVE[:5], [["10:00", "13:00"]], []]
    assert (office.time_zone, office.country, office.subdivision) == ("Europe/Berlin", "DE", "BY")
    assert list(office.closed_days.values_list("date", flat=True)) == [date(2025, 12, 24)]


def test_closed_days_sent_replace_the_list(supervisor, office):
    days = [{"date": "2026-12-31", "reason": "Year end"}]
    response = supervisor.patch(url("calendar", office.pk), {"closed_days": days}, format="json")
    assert response.json()["closed_days"] == [{"date": "2026-12-31", "hours": "closed", "reason": "Year end"}]
    assert list(office.closed_days.values_list("date", "reason")) == [(date(2026, 12, 31), "Year end")]
    supervisor.patch(url("calendar", office.pk), {"closed_days": []}, format="json")
    assert not office.closed_days.exists()


def test_a_region_is_kept_as_its_codes_and_can_be_taken_off(supervisor, office):
    response = supervisor.patch(url("calendar", office.pk), {"country": "at", "subdivision": "Wien"}, format="json")
    assert (response.json()["country"], response.json()["subdivision"]) == ("AT", "9")
    response = supervisor.patch(url("calendar", office.pk), {"country": "", "subdivision": ""}, format="json")
    assert (response.json()["country"], response.json()["subdivision"]) == ("", "")


GERMANY = ", ".join(holidays.list_supported_countries()["DE"])
NEVER_OPEN = "This calendar is never open: give at least one weekday some open hours."
TAKES = "closed_days, country, name, subdivision, time_zone, weekly"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"name": " "}, {"name": ["Give the calendar a name."]}),
        ({"name": "around the clock"},
         {"name": ["The name “Around the clock” is taken by another calendar: choose another."]}),
        ({"time_zone": "Europe/Bonn"},
         {"time_zone": ["'Europe/Bonn' is not a time zone; use a name such as Europe/Paris."]}),
        ({"time_zone": ""}, {"time_zone": ["Give the time zone its hours are in, e.g. Europe/Berlin."]}),
        ({"weekly": {"monday": "9-5"}},
         {"weekly.monday": ["Monday: write open hours as 09:00-17:00, several separated by commas."]}),
        ({"weekly": {"tuesday": "08:00-25:00"}},
         {"weekly.tuesday": ["Tuesday: 08:00-25:00 is not a time of day (00:00 to 24:00)."]}),
        ({"weekly": {"funday": "10:00-12:00"}},
         {"weekly.funday": ["funday is not a field this takes (it takes friday, monday, saturday, sunday, thursday, "
                            "tuesday, wednesday)."]}),
        ({"country": "XX"}, {"country": ["We have no public holidays for 'XX': use a code such as DE."]}),
        ({"subdivision": "ZZ"}, {"subdivision": [f"DE has no subdivision 'ZZ'; it has: {GERMANY}."]}),
        ({"country": "", "subdivision": "BY"}, {"subdivision": ["Choose the country first."]}),
        ({"closed_days": [{"date": "2026-12-24"}, {"date": "2026-12-24", "reason": "Again"}]},
         {"closed_days": ["2026-12-24 is listed twice: give each date once."]}),
        ({"closed_days": [{"date": "24.12.2026"}]},
         {"closed_days.0.date": ["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."]}),
        ({"closed_days": [{"reason": "Christmas Eve"}]}, {"closed_days.0.date": ["Give the date."]}),
        ({"closed_days": [{"date": "2026-12-31"}, {"date": "2026-12-24", "hours": "mornings"}]},
         {"closed_days.1.hours": ["2026-12-24: write open hours as 09:00-17:00, several separated by commas."]}),
        ({"closed_days": [{"date": "2026-12-24", "reason": "x" * 101}]},
         {"closed_days.0.reason": ["Ensure this value has at most 100 characters (it has 101)."]}),
        ({"holidays": "DE"}, {"holidays": [f"holidays is not a field this takes (it takes {TAKES})."]}),
    ],
)  # fmt: skip
def test_a_bad_calendar_is_refused_saying_what_to_fix(body, fields, supervisor, office):
    before = world_as_saved()
    assert fields_of(supervisor.patch(url("calendar", office.pk), body, format="json")) == fields
    assert world_as_saved() == before


def test_a_closed_day_without_a_date_is_refused_alike_in_a_new_calendar(supervisor, db):
    body = {"name": "Lisbon office", "closed_days": [{"reason": "Christmas Eve"}]}
    assert fields_of(supervisor.post(url("calendars"), body, format="json")) == {
        "closed_days.0.date": ["Give the date."]
    }


def test_hours_never_open_are_refused_as_a_whole(supervisor, office):
    closed = dict.fromkeys(WEEKDAYS, "closed")
    response = supervisor.patch(url("calendar", office.pk), {"weekly": closed}, format="json")
    assert fields_of(response) == {}
    assert error_of(response)["message"] == NEVER_OPEN


def test_the_around_the_clock_calendar_can_not_be_changed(supervisor, db):
    around_the_clock = Calendar.objects.get(name=AROUND_THE_CLOCK)
    before = world_as_saved()
    response = supervisor.patch(url("calendar", around_the_clock.pk), {"weekly": {"sunday": "closed"}}, format="json")
    assert fields_of(response) == {}
    assert error_of(response)["message"] == (
        "Around the clock can't be changed: it is the calendar of every team that sets none. Create a calendar "
        "with the hours you want and choose it on the teams' pages."
    )
    assert world_as_saved() == before


def test_the_around_the_clock_calendar_is_never_deleted(supervisor, db):
    response = supervisor.delete(url("calendar", Calendar.default_id()))
    assert response.status_code == 409
    assert error_of(response)["message"] == (
        "Around the clock can't be deleted: it is the calendar of every team that sets none."
    )


# --- A team's calendar and a category's business time ---------------------------------------------------


def test_a_team_is_given_a_calendar_by_its_id(supervisor, billing, office):
    response = supervisor.patch(url("team", billing.pk), {"calendar": office.pk}, format="json")
    assert response.json()["calendar"] == {"id": office.pk, "name": "Berlin office"}
    billing.refresh_from_db()
    assert billing.calendar == office
    assert supervisor.get(url("calendar", office.pk)).json()["teams"] == [{"id": billing.pk, "name": "Billing"}]


def test_moving_a_team_to_another_calendar_re_times_its_business_time_warnings(
    supervisor, billing, office, category, ticket, alice
):
    # given Billing's category runs in business time, and alice promised around the clock
    category.business_hours = True
    category.save()
    assert promised_on_monday(ticket, alice).promise_warn_at == WARNED_AROUND_THE_CLOCK
    # when carol moves Billing to the Berlin office's hours
    assert supervisor.patch(url("team", billing.pk), {"calendar": office.pk}, format="json").status_code == 200
    # then the promise is still due when it was, and warned in office hours
    ticket.refresh_from_db()
    assert ticket.promise_due_at == datetime(2026, 12, 8, 17, tzinfo=BERLIN)
    assert ticket.promise_warn_at == ticket.next_check_at == WARNED_IN_OFFICE_HOURS


def test_a_category_moved_to_business_time_re_times_its_warnings(supervisor, billing, office, category, ticket, alice):
    billing.calendar = office
    billing.save()
    assert promised_on_monday(ticket, alice).promise_warn_at == WARNED_AROUND_THE_CLOCK
    response = supervisor.patch(url("category", category.pk), {"business_hours": True}, format="json")
    assert response.json()["business_hours"] is True
    ticket.refresh_from_db()
    assert ticket.promise_warn_at == WARNED_IN_OFFICE_HOURS
