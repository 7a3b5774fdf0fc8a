"""What ``/api/v1/calendars/`` reads and writes: a calendar's JSON (its week as text, per weekday, its region,
closed days and teams; one calendar also its next two weeks), and the input a write takes.

As for the other configuration rows (``tickets.api.configuration_serializers``), the input is typed here and
judged by the desk's forms (``tickets.calendar_forms``): the calendar by ``CalendarDetailsForm``, each closed
day by ``ClosedDayForm``, in the order sent (a fault named ``closed_days.<i>.<field>``), so the API refuses
in the page's words. The weekdays are the form's fields ``monday``..``sunday``, named ``weekly.<day>`` here.
"""

from __future__ import annotations

from typing import Any, cast

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from helpdesk.api.fields import StrictSerializer
from tickets.api.configuration_serializers import FormInput, named_errors
from tickets.api.serializers import NameRef
from tickets.calendar_forms import WEEKDAY_FIELDS, CalendarDetailsForm, ClosedDayForm, posted_values
from tickets.models import Calendar
from tickets.models.calendar import spans_text
from tickets.services.calendars import check_closed_days, preview

WEEKLY = "weekly"
CLOSED_DAYS = "closed_days"
HOURS = 'Open hours as people write them: "09:00-12:30, 13:30-17:00", or "closed".'


def hours(**kwargs: Any) -> serializers.CharField:
    return serializers.CharField(help_text=HOURS, **kwargs)


# --- Output ------------------------------------------------------------------------------------------


class HoursText(serializers.CharField):
    """Stored spans as people write them."""

    def to_representation(self, value: Any) -> str:
        return spans_text(value)


class WeeklyHoursSerializer(serializers.Serializer):
    """Each weekday's open hours, in the calendar's zone."""

    monday = hours()
    tuesday = hours()
    wednesday = hours()
    thursday = hours()
    friday = hours()
    saturday = hours()
    sunday = hours()

    def to_representation(self, instance: Any) -> dict[str, str]:
        calendar = cast(Calendar, instance)
        return {day: spans_text(spans) for day, spans in zip(WEEKDAY_FIELDS, calendar.weekdays, strict=True)}


class ClosedDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    hours = HoursText(source="spans", help_text='"closed" (a day off), or a half day\'s hours: "09:00-13:00".')
    reason = serializers.CharField()


class PreviewDaySerializer(serializers.Serializer):
    date = serializers.DateField(source="day", help_text="In the calendar's zone.")
    hours = serializers.CharField(help_text='Its open hours: "09:00-17:00", or "closed".')
    why = serializers.CharField(help_text='Why the day differs from its weekday ("Christmas Day", "half day"), or "".')


class CalendarSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    time_zone = serializers.CharField(help_text="The IANA zone its hours are in, e.g. Europe/Berlin.")
    weekly = WeeklyHoursSerializer(source="*")
    country = serializers.CharField(help_text='Public holidays of this country (ISO code, e.g. "DE"); "": none.')
    subdivision = serializers.CharField(help_text='And of this state or region (e.g. "BY"); "": national only.')
    closed_days = ClosedDaySerializer(
        many=True, source="closed_days.all", help_text="Its own days off and half days, by date."
    )
    teams = NameRef(many=True, source="teams.all", help_text="The teams that work to it, by name.")


class CalendarDetailSerializer(CalendarSerializer):
    """One calendar, with its open hours day by day for the next two weeks (as its page shows them)."""

    preview = serializers.SerializerMethodField(help_text="The next 14 days from today in its zone.")

    @extend_schema_field(PreviewDaySerializer(many=True))
    def get_preview(self, calendar: Calendar) -> Any:
        return PreviewDaySerializer(preview(calendar, start=self.context["now"]), many=True).data


# --- Input: typed here, judged by the desk's forms and the rules -------------------------------------------


class WeeklyHoursInput(StrictSerializer):
    """The weekdays to change; those left out keep their hours."""

    monday = hours(required=False, allow_blank=True)
    tuesday = hours(required=False, allow_blank=True)
    wednesday = hours(required=False, allow_blank=True)
    thursday = hours(required=False, allow_blank=True)
    friday = hours(required=False, allow_blank=True)
    saturday = hours(required=False, allow_blank=True)
    sunday = hours(required=False, allow_blank=True)


class ClosedDayInput(StrictSerializer):
    # a PATCH leaves a missing date to the form (DRF skips required fields in partial input): one refusal for both
    date = serializers.DateField(
        error_messages={"required": ClosedDayForm.base_fields["date"].error_messages["required"]}
    )
    hours = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text='Left out, "" or "closed": closed all day; "09:00-13:00": a half day.',
    )
    reason = serializers.CharField(required=False, allow_blank=True, help_text="Shown in the preview.")


class CalendarWriteSerializer(FormInput):
    """A calendar: its name, zone, weekly hours, region and closed days. A new one starts Monday to Friday,
    09:00-17:00, in the site's zone, with no holidays; a PATCH changes what it sends."""

    form_class = CalendarDetailsForm
    name = serializers.CharField(allow_blank=True, help_text="Unique, whatever the case.")
    time_zone = serializers.CharField(required=False, allow_blank=True, help_text="An IANA zone, e.g. Europe/Berlin.")
    weekly = WeeklyHoursInput(required=False, help_text="Weekdays left out keep their hours.")
    country = serializers.CharField(
        required=False, allow_blank=True, help_text='A country the holidays package knows ("DE", "DEU"); "": none.'
    )
    subdivision = serializers.CharField(
        required=False, allow_blank=True, help_text='Its state or region, by code or name ("BY", "Bayern"); "": none.'
    )
    closed_days = ClosedDayInput(
        many=True, required=False, help_text="Replaces the list (each date once); left out, the list stays."
    )

    def bound_form(self, row: Any) -> CalendarDetailsForm:
        """The form starts from the calendar as its page shows it (every weekday as text), then what was sent."""
        sent = {name: value for name, value in self.validated_data.items() if name not in (WEEKLY, CLOSED_DAYS)}
        data = {**posted_values(row), **self.validated_data.get(WEEKLY, {}), **sent}
        return CalendarDetailsForm(data, instance=row)

    def perform(self, row: Any) -> Calendar:
        """Judge the calendar and every closed day at once (a 400 naming every fault), then save them together."""
        form = self.bound_form(row)
        sent = self.validated_data.get(CLOSED_DAYS)
        days = None if sent is None else [ClosedDayForm(day) for day in sent]
        faults = {} if form.is_valid() else self.weekly_named(named_errors(form, self))
        item = cast(serializers.ListSerializer, self.fields[CLOSED_DAYS]).child
        for at, day in enumerate(days or []):
            if not day.is_valid():
                faults.update(named_errors(day, item, within=f"{CLOSED_DAYS}.{at}"))
        if days is not None and all(day.is_valid() for day in days):
            try:
                check_closed_days([day.cleaned_data["date"] for day in days])
            except ValidationError as refusal:
                faults[CLOSED_DAYS] = refusal.messages
        if faults:
            raise serializers.ValidationError(faults)
        return form.save_with(None if days is None else [day.closed_day() for day in days])

    @staticmethod
    def weekly_named(faults: dict[str, list[str]]) -> dict[str, list[str]]:
        return {f"{WEEKLY}.{name}" if name in WEEKDAY_FIELDS else name: messages for name, messages in faults.items()}
