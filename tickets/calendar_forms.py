"""Supervisors' calendar forms: a calendar's name, time zone, weekly hours, public holidays and closed days.

The forms read what was typed ("09:00-12:30, 13:30-17:00", "closed", Bayern for BY) and save through
``tickets.services.calendars``, the rules the API shares: the API hands each calendar to
``CalendarDetailsForm`` and each closed day to ``ClosedDayForm``, so it refuses in the pages' words.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time
from functools import lru_cache
from typing import Any, cast
from zoneinfo import available_timezones

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms.formsets import DELETION_FIELD_NAME
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from holidays.registry import COUNTRIES

from helpdesk.forms import QuickInput, QuickSelect
from tickets.business_time import Span, weekly
from tickets.configuration import NamedForm
from tickets.models import Calendar, ClosedDay
from tickets.models.calendar import (
    SHORT_DAYS,
    WEEKDAYS,
    parse_spans,
    public_holidays,
    spans_text,
    stored_spans,
    validate_region,
    weekday_runs,
)
from tickets.services.calendars import check_closed_days, save_calendar

WEEKDAY_FIELDS = tuple(day.lower() for day in WEEKDAYS)  # the form's and the API's names: "monday", ...
NEW_CALENDAR_HOURS = weekly(((time(9), time(17)),))  # a new calendar's page starts Monday to Friday, nine to five
HOURS_HELP = (
    "Write open hours as 09:00-17:00, several separated by commas (09:00-12:30, 13:30-17:00), or “closed”. "
    "24:00 is midnight at the end of the day; 22:00-06:00 runs past midnight."
)


# --- Regions: the holidays package's countries and subdivisions, as people name them ---------------------------


def _words(module: str) -> str:
    small = {"and", "of", "the"}
    return " ".join(
        word.upper() if word == "dr" else word if word in small else word.capitalize() for word in module.split("_")
    )


@lru_cache(maxsize=1)
def countries() -> dict[str, str]:
    """Two-letter code -> English name, for every country the holidays package knows (its registry: nothing
    imported), by name."""
    names = {entry[1]: _words(module) for module, entry in COUNTRIES.items()}
    return dict(sorted(names.items(), key=lambda item: item[1]))


@lru_cache(maxsize=1)
def _country_codes() -> dict[str, str]:
    """Every code the package accepts for a country (DE, DEU; GB, GBR, UK) -> its two-letter code."""
    return {code: entry[1] for entry in COUNTRIES.values() for code in entry[1:]}


def country_code(text: str) -> str:
    """A country as typed (DE, de, DEU, UK) -> the two-letter code kept; an unknown one as typed, for the
    rules to refuse."""
    code = text.strip().upper()
    return _country_codes().get(code, code)


def country_name(code: str) -> str:
    return countries().get(code, code)


def subdivisions(country: str) -> list[tuple[str, str]]:
    """A country's subdivisions as (code, name), for the page to suggest; none for an unknown country."""
    if country not in countries():
        return []
    known = public_holidays(country, "")
    names: dict[str, str] = {}
    for name, code in getattr(known, "subdivisions_aliases", {}).items():
        names.setdefault(code, name)
    return [(code, names.get(code, "")) for code in known.subdivisions]


def subdivision_code(country: str, text: str) -> str:
    """A subdivision as typed (BY, by, Bayern) -> the package's code; anything else as typed."""
    text = text.strip()
    known = subdivisions(country)
    if not text or any(code == text for code, _ in known):
        return text
    for code, name in known:
        if text.upper() == code.upper() or (name and text.casefold() == name.casefold()):
            return code
    return text


@lru_cache(maxsize=1)
def zone_names() -> list[tuple[str, str]]:
    return [(zone, "") for zone in sorted(available_timezones())]


# --- What the overview shows ---------------------------------------------------------------------------------


def week_in_short(weekdays: Sequence[tuple[Span, ...]]) -> str:
    """The week as one line: "Mon-Fri 09:00-17:00 · Sat 10:00-14:00", "Every day 00:00-24:00"."""
    if all(spans == weekdays[0] for spans in weekdays):
        return f"Every day {spans_text(weekdays[0])}" if weekdays[0] else "Closed every day"
    return " · ".join(
        f"{SHORT_DAYS[first]}{'-' + SHORT_DAYS[last] if last > first else ''} {spans_text(spans)}"
        for first, last, spans in weekday_runs(weekdays)
        if spans
    )


def region_in_words(calendar: Calendar) -> str:
    """Whose public holidays the calendar keeps: "Germany (BY)", or "" for none."""
    if not calendar.country:
        return ""
    name = country_name(calendar.country)
    return f"{name} ({calendar.subdivision})" if calendar.subdivision else name


def posted_values(calendar: Calendar) -> dict[str, Any]:
    """The calendar as its page shows it, and would post it back unchanged: where the API's changes start.
    A new calendar starts Monday to Friday, nine to five, in the site's time zone."""
    new = calendar.pk is None and not calendar.weekly
    days = NEW_CALENDAR_HOURS if new else calendar.weekdays
    return {
        "name": calendar.name,
        "time_zone": settings.TIME_ZONE if new else calendar.time_zone,
        **{field: spans_text(spans) for field, spans in zip(WEEKDAY_FIELDS, days, strict=True)},
        "country": calendar.country,
        "subdivision": calendar.subdivision,
    }


# --- The forms ---------------------------------------------------------------------------------------------


class ListedInput(QuickInput):
    """A text input whose browser suggests from a <datalist> (time zones, a country's subdivisions); any
    text may still be typed, and the rules judge it."""

    def __init__(self, attrs: dict[str, Any] | None = None, options: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(attrs)
        self.options = options

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        listed = f"{(attrs or {}).get('id', name)}_options"
        field = super().render(name, value, {**(attrs or {}), "list": listed, "autocomplete": "off"}, renderer)
        options = format_html_join("", '<option value="{}">{}</option>', self.options)
        return field + format_html('<datalist id="{}">{}</datalist>', listed, options)


class DayInput(QuickInput):
    """The browser's date picker, which sends the date as 2026-12-24."""

    input_type = "date"

    def format_value(self, value: Any) -> str | None:
        return value.isoformat() if isinstance(value, date) else super().format_value(value)


class WeekdayField(forms.CharField):
    """One weekday's open hours as people write them, read by ``parse_spans`` (its refusal names the day)."""

    def __init__(self, day: str) -> None:
        super().__init__(label=day, required=False, widget=QuickInput(attrs={"placeholder": "closed"}))
        self.day = day

    def clean(self, value: Any) -> tuple[Span, ...]:
        return parse_spans(super().clean(value), day=self.day)


class CalendarDetailsForm(NamedForm):
    """A calendar's name, zone, weekly hours and region. Saving keeps its closed days as they are; the page's
    ``CalendarForm`` and the API send those along (``save_with``)."""

    noun = "calendar"
    hours_help = HOURS_HELP
    monday = WeekdayField("Monday")
    tuesday = WeekdayField("Tuesday")
    wednesday = WeekdayField("Wednesday")
    thursday = WeekdayField("Thursday")
    friday = WeekdayField("Friday")
    saturday = WeekdayField("Saturday")
    sunday = WeekdayField("Sunday")
    country = forms.CharField(required=False, label="Country", widget=QuickSelect)
    subdivision = forms.CharField(
        required=False,
        label="State or region",
        widget=ListedInput,
        help_text="Its code or name, e.g. BY or Bayern. Empty: the country's national holidays only.",
    )

    class Meta:
        model = Calendar
        fields = ["name", "time_zone", "country", "subdivision"]
        widgets = {"time_zone": ListedInput}
        help_texts = {"time_zone": "The hours below are this zone's wall-clock time, e.g. Europe/Berlin."}
        error_messages = {
            "name": {"required": "Give the calendar a name."},
            "time_zone": {"required": "Give the time zone its hours are in, e.g. Europe/Berlin."},
        }

    field_order = ["name", "time_zone", *WEEKDAY_FIELDS, "country", "subdivision"]

    def __init__(self, data: Any = None, *, instance: Calendar | None = None) -> None:
        instance = instance or Calendar()
        super().__init__(data, instance=instance, initial=posted_values(instance))
        cast(ListedInput, self.fields["time_zone"].widget).options = zone_names()
        choices = [
            ("", "None: no public holidays"),
            *((code, f"{name} ({code})") for code, name in countries().items()),
        ]
        cast(QuickSelect, self.fields["country"].widget).choices = choices
        shown = country_code(str(self.data.get("country", ""))) if self.is_bound else instance.country
        cast(ListedInput, self.fields["subdivision"].widget).options = subdivisions(shown)

    @property
    def weekday_fields(self) -> list[forms.BoundField]:
        return [self[field] for field in WEEKDAY_FIELDS]

    def clean_country(self) -> str:
        code = country_code(self.cleaned_data["country"])
        try:
            validate_region(code, "")
        except ValidationError as refusal:
            raise ValidationError(refusal.message_dict["country"]) from None
        return code

    def clean(self) -> dict[str, Any]:
        """The weekdays become the calendar's week (the model's own check then refuses hours never open; a day
        that could not be read counts as it was, so it alone does not make the week look never open); a
        subdivision typed by name or in another case becomes its code."""
        data = super().clean() or self.cleaned_data
        was = self.instance.weekdays
        self.instance.weekly = [
            stored_spans(data[field] if field in data else was[day]) for day, field in enumerate(WEEKDAY_FIELDS)
        ]
        if "country" in data and "subdivision" in data:
            data["subdivision"] = subdivision_code(data["country"], data["subdivision"])
        return data

    def save(self, commit: bool = True) -> Calendar:
        if not commit:
            raise ValueError("A calendar is saved with its rules (save_calendar): commit=False is not offered.")
        return self.save_with(None)

    def save_with(self, closed_days: list[ClosedDay] | None) -> Calendar:
        """Save through the rules, replacing the closed days when given (``None`` keeps them)."""
        return save_calendar(self.instance, closed_days=closed_days)


class ClosedDayForm(forms.Form):
    """A date the calendar keeps other hours on: closed all day, or a half day's hours."""

    date = forms.DateField(
        input_formats=["%Y-%m-%d"],
        widget=DayInput,
        error_messages={"required": "Give the date.", "invalid": "Write the date as 2026-12-24."},
    )
    hours = forms.CharField(
        label="Open hours",
        required=False,
        widget=QuickInput(attrs={"placeholder": "closed"}),
    )  # the page says how to write it once, above the rows
    reason = forms.CharField(
        required=False,
        max_length=ClosedDay._meta.get_field("reason").max_length,
        widget=QuickInput(attrs={"placeholder": "Reason"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        if "hours" in data:
            day = f"{data['date']:%Y-%m-%d}" if data.get("date") else "That day"
            try:
                data["spans"] = parse_spans(data["hours"], day=day)
            except ValidationError as refusal:
                self.add_error("hours", refusal)
        return data

    def closed_day(self) -> ClosedDay:
        data = self.cleaned_data
        return ClosedDay(date=data["date"], spans=stored_spans(data["spans"]), reason=data["reason"])


class BaseClosedDayFormSet(forms.BaseFormSet):
    """The calendar's closed days, one row each: edit, add (blank rows), remove (tick)."""

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if DELETION_FIELD_NAME in form.fields:
            form.fields[DELETION_FIELD_NAME].widget.attrs["class"] = "form-check-input"

    def kept_forms(self) -> list[ClosedDayForm]:
        """The rows that will be closed days: the listed ones not ticked for removal, and filled-in new ones."""
        initial = self.initial_form_count()
        return [
            form
            for i, form in enumerate(self.forms)
            if not form.cleaned_data.get(DELETION_FIELD_NAME) and (i < initial or form.has_changed())
        ]

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        try:
            check_closed_days([form.cleaned_data["date"] for form in self.kept_forms()])
        except ValidationError as refusal:
            raise ValidationError(refusal.messages) from None

    def days(self) -> list[ClosedDay]:
        return [form.closed_day() for form in self.kept_forms()]


ClosedDayFormSet = forms.formset_factory(
    ClosedDayForm, formset=BaseClosedDayFormSet, extra=3, can_delete=True, can_delete_extra=False
)


class CalendarForm(CalendarDetailsForm):
    """The calendar's page: its details, with its closed days as a formset (``form.closed_days``), saved
    together."""

    def __init__(self, data: Any = None, *, instance: Calendar | None = None) -> None:
        super().__init__(data, instance=instance)
        listed = list(self.instance.closed_days.all()) if self.instance.pk else []
        initial = [{"date": day.date, "hours": spans_text(day.spans), "reason": day.reason} for day in listed]
        self.closed_days = cast(BaseClosedDayFormSet, ClosedDayFormSet(data, initial=initial, prefix="closed"))

    def is_valid(self) -> bool:
        return all([super().is_valid(), self.closed_days.is_valid()])  # both, so every mistake shows at once

    def save(self, commit: bool = True) -> Calendar:
        return self.save_with(self.closed_days.days())
