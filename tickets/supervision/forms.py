"""Choosing what the figures cover: a period (the last 7, 30 or 90 days, or dates), and for a drill-down,
the figure, whose, and for promises which category and whether they followed the guard. Every value is
checked against a list or a range; bad input gets a clear message."""

from __future__ import annotations

import zoneinfo
from datetime import date, timedelta
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.utils import timezone

from helpdesk.forms import QuickSelect
from tickets.forms import PersonField
from tickets.models import Category, Team
from tickets.supervision.calibration import GUARDS
from tickets.supervision.figures import FIGURES, PROMISES, Period

PERIODS = {"7": "Last 7 days", "30": "Last 30 days", "90": "Last 90 days", "dates": "Dates"}
DEFAULT_PERIOD = "30"
LONGEST_RANGE = timedelta(days=366)  # a year of figures at most: bounds what one page asks of the database
EARLIEST = date(2000, 1, 1)
LATEST = date(2999, 12, 31)  # far enough for any plan; the day after, in any zone, stays in Python's calendar


class PeriodForm(forms.Form):
    period = forms.ChoiceField(
        choices=PERIODS.items(),
        required=False,
        widget=QuickSelect,
        error_messages={"invalid_choice": "Choose the last 7, 30 or 90 days, or dates."},
    )
    start = forms.DateField(
        required=False,
        label="From",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter the first day as a date, e.g. 2026-11-01."},
    )
    end = forms.DateField(
        required=False,
        label="To",
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "Enter the last day as a date, e.g. 2026-11-30."},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("period") != "dates":
            return data
        start, end = data.get("start"), data.get("end")
        if "start" in self.errors or "end" in self.errors:
            return data
        if start is None or end is None:
            raise forms.ValidationError("For dates, give both the first and the last day.")
        if start > end:
            raise forms.ValidationError("The first day must not be after the last day.")
        if start < EARLIEST:
            raise forms.ValidationError(f"Choose a first day from {EARLIEST:%d %B %Y} on.")
        if end > LATEST:
            raise forms.ValidationError(f"Choose a last day up to {LATEST:%d %B %Y}.")
        if end - start >= LONGEST_RANGE:
            raise forms.ValidationError("Choose at most a year (366 days) at a time.")
        return data

    def choice(self) -> str:
        """The period chosen: 7, 30 or 90 (days), or "dates"; the default when nothing (valid) was asked."""
        return (self.cleaned_data.get("period") if self.is_valid() else "") or DEFAULT_PERIOD

    def rolling_days(self) -> int | None:
        """7, 30 or 90 for a rolling period (computed ahead), None for chosen dates."""
        choice = self.choice()
        return None if choice == "dates" else int(choice)

    def chosen(self) -> Period:
        """The period asked for; the last 30 days when nothing (valid) was asked."""
        days = self.rolling_days()
        if days is not None:
            return Period.last(days, now=timezone.now())
        zone = timezone.get_current_timezone()
        assert isinstance(zone, zoneinfo.ZoneInfo)
        return Period.dates(self.cleaned_data["start"], self.cleaned_data["end"], zone=zone)

    def query(self) -> dict[str, str]:
        """The period as query parameters, for links to drill-downs and exports."""
        choice = self.choice()
        if choice == "dates":
            return {
                "period": choice,
                "start": self.cleaned_data["start"].isoformat(),
                "end": self.cleaned_data["end"].isoformat(),
            }
        return {"period": choice}


class DrillDownForm(PeriodForm):
    """The rows behind one figure: for everyone, one team, or one agent; promises also of one category, and
    of those the guard's calibration counts or leaves out (``guard``)."""

    figure = forms.ChoiceField(
        choices=[(name, figure.label) for name, figure in FIGURES.items()],
        error_messages={
            "required": "Say which figure to list.",
            "invalid_choice": "%(value)s is not one of the figures.",
        },
    )
    team = forms.ModelChoiceField(
        Team.objects.all(),
        required=False,
        widget=QuickSelect,
        error_messages={"invalid_choice": "There is no such team."},
    )
    agent = PersonField(
        User.objects.all(),  # the figures still list people who have since left the staff
        required=False,
        error_messages={"invalid_choice": "There is no such staff member."},
    )
    category = forms.ModelChoiceField(
        Category.objects.all(),
        required=False,
        widget=QuickSelect,
        error_messages={"invalid_choice": "There is no such category."},
    )
    guard = forms.ChoiceField(
        choices=[("", "Any"), *((name, label) for name, (label, _) in GUARDS.items())],
        required=False,
        error_messages={"invalid_choice": "%(value)s is not a way to follow the guard: say followed or default."},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("team") and data.get("agent"):
            raise forms.ValidationError("List by a team or by an agent, not both.")
        figure = data.get("figure")
        if figure and (data.get("category") or data.get("guard")) and FIGURES[figure].source is not PROMISES:
            raise forms.ValidationError("Only promise figures are listed by category or by the guard.")
        return data
