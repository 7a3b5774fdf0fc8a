"""The rules for business calendars, called by the Configuration pages and the configuration API alike.

A category that runs in business time runs on its calendar: that of the first team of its escalation path
(``Category.calendar``). That calendar's hours, that team's calendar and the category's choice each decide when
its promises are warned about. Changing any of them never moves a promise already made (the customer was told
an instant), but re-times the warnings and the sweep's checks of the promises that run in those hours
(``hours_changed``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from tickets.models import AROUND_THE_CLOCK, Calendar, Category, ClosedDay, Estimate, Team, Ticket
from tickets.models.calendar import public_holidays, spans_text
from tickets.services.configuration import check_name, delete_unless_used, join_words, save_together
from tickets.services.promises import retime_warnings

PREVIEW_DAYS = 14


def save_calendar(calendar: Calendar, *, closed_days: Iterable[ClosedDay] | None = None) -> Calendar:
    """Check and save a calendar (and, when given, replace its closed days), then re-time the promises that
    run in it. Refused with ``ValidationError``: the around-the-clock calendar, a taken name, an unknown zone or
    region, hours never open, a date closed twice."""
    fixed = calendar_fixed(calendar)
    if fixed:
        raise ValidationError(fixed)
    check_name(Calendar, calendar.name, pk=calendar.pk, noun="calendar")
    calendar.full_clean(exclude=["name"], validate_unique=False)
    days = None if closed_days is None else list(closed_days)
    if days is not None:
        check_closed_days([day.date for day in days])

    def write() -> Calendar:
        calendar.save()
        if days is not None:
            calendar.closed_days.all().delete()
            for day in days:
                day.calendar = calendar
            ClosedDay.objects.bulk_create(days)
        hours_changed(Category.objects.on_calendar(calendar))
        return calendar

    return save_together(write)


def calendar_fixed(calendar: Calendar) -> str:
    """Why the calendar can't be changed, or "". The around-the-clock calendar is the one every new team starts
    on, found by its name, and its name says what it is: changing it would change every team that set none."""
    if calendar.pk is None or not Calendar.objects.filter(pk=calendar.pk, name=AROUND_THE_CLOCK).exists():
        return ""
    return (
        f"{AROUND_THE_CLOCK} can't be changed: it is the calendar of every team that sets none. "
        "Create a calendar with the hours you want and choose it on the teams' pages."
    )


def check_closed_days(dates: list[date]) -> None:
    """Each date once: a calendar keeps one set of hours a day."""
    twice = sorted({f"{day:%Y-%m-%d}" for day in dates if dates.count(day) > 1})
    if twice:
        are = "is" if len(twice) == 1 else "are"
        raise ValidationError({"closed_days": f"{join_words(twice)} {are} listed twice: give each date once."})


def calendar_in_use(calendar: Calendar) -> str:
    """Why the calendar can't be deleted, or "" when no team works to it."""
    if calendar.name == AROUND_THE_CLOCK:
        return f"{calendar} can't be deleted: it is the calendar of every team that sets none."
    teams = [team.name for team in Team.objects.filter(calendar=calendar).order_by("name")]
    if not teams:
        return ""
    work, pronoun = ("works", "it") if len(teams) == 1 else ("work", "them")
    return f"{calendar} can't be deleted: {join_words(teams)} {work} to it; give {pronoun} another calendar first."


def delete_calendar(calendar: Calendar) -> None:
    delete_unless_used(calendar, lambda: calendar_in_use(calendar))


def hours_changed(categories: QuerySet[Category]) -> int:
    """Re-time the warnings of the promises of these categories that run in business time: after their calendar
    changed its hours (``save_calendar``), or their path's first team changed calendar (the team's form)."""
    return retime_warnings(Ticket.objects.filter(category__in=categories.values("pk"), category__business_hours=True))


def category_changed(category: Category, *, business_hours_before: bool) -> int:
    """After a category is saved: if its choice changed, its promises move to or from business time, and its
    estimates, measured in the other clock, are dropped (the guard uses its default target until the next
    periodic refresh measures them again)."""
    if category.business_hours == business_hours_before:
        return 0
    Estimate.objects.filter(category=category).delete()
    return retime_warnings(Ticket.objects.filter(category=category))


# --- The preview of the next two weeks ----------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewDay:
    day: date
    hours: str  # "09:00-12:30, 13:30-17:00", or "closed"
    why: str  # the holiday's or the closed day's name, "" for a usual day


def preview(calendar: Calendar, *, start: datetime, days: int = PREVIEW_DAYS) -> list[PreviewDay]:
    """The open hours of the ``days`` days from ``start``'s date in the calendar's zone, as its supervisors
    will check them: each day's spans, and why a day differs from its weekday."""
    first = start.astimezone(calendar.zone).date()
    own = {day.date: day for day in calendar.closed_days.all()}
    public = public_holidays(calendar.country, calendar.subdivision) if calendar.country else {}
    hours = calendar.hours()
    shown = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        why = (own[day].reason or ("half day" if own[day].spans else "closed")) if day in own else public.get(day, "")
        shown.append(PreviewDay(day, spans_text(hours.spans_of(day)), why))
    return shown
