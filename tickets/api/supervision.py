"""The supervisors' figures (``/api/v1/metrics/promises/``): who keeps their word, per team and per agent.

The dashboard's figures, from the same place (``tickets.supervision.figures``) and checked by the same form:

1. The period is a rolling one (``?days=7|30|90``, the default the last 30 days) or chosen dates
   (``?start=&end=``, days in ``?time_zone=``). The page's ``PeriodForm`` judges it, so the API accepts and
   refuses exactly what the page does, in the same words.
2. A rolling period is read from its snapshot, computed ahead, and says ``as_of`` when; chosen dates are
   computed when asked (twelve queries, whatever the data).
3. Every number is a field or property of the report's ``Row`` (or, for the guard's calibration, of its
   ``Group``): nothing is worked out again here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.urls import path
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api.base import ApiView
from helpdesk.api.errors import GENERAL
from helpdesk.api.fields import QueryParameters
from helpdesk.text import validate_time_zone
from tickets.api.access import IsSupervisor
from tickets.supervision.calibration import BANDS, MIN_SETTLED
from tickets.supervision.figures import FIGURES, Period, Report, Week, report
from tickets.supervision.forms import LONGEST_RANGE, PeriodForm
from tickets.supervision.snapshots import ROLLING_DAYS, desk_zone, rolling

# --- The period asked for ---------------------------------------------------------------------------

# The page's form names the choice "period"; the API says "days" (its dates are start and end, as on the page).
FORM_TO_API = {"period": "days", "__all__": GENERAL}


def _form_message(name: str, code: str) -> str:
    """The page's words for a fault, so both faces of the figures explain it the same way."""
    return str(PeriodForm.base_fields[name].error_messages[code])


class PeriodParameters(QueryParameters):
    also_accepts = ()  # one report, not a list: no pages

    days = serializers.ChoiceField(
        choices=[(days, f"the last {days} days") for days in ROLLING_DAYS],
        required=False,
        help_text="A rolling period: the last 7, 30 or 90 days, computed ahead (see `as_of`). The default, "
        "when no dates are given either: 30.",
        error_messages={"invalid_choice": _form_message("period", "invalid_choice")},
    )
    start = serializers.DateField(
        required=False,
        help_text=f"The first day of chosen dates (with `end`), computed live: at most {LONGEST_RANGE.days} days.",
        error_messages={"invalid": _form_message("start", "invalid")},
    )
    end = serializers.DateField(
        required=False,
        help_text="The last day of chosen dates, included.",
        error_messages={"invalid": _form_message("end", "invalid")},
    )
    time_zone = serializers.CharField(
        required=False,
        max_length=64,
        validators=[validate_time_zone],
        help_text="The IANA zone `start` and `end` are days in (default: the desk's). Weeks start on Monday "
        "in the desk's zone whatever this says, as on the dashboard.",
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        """The page's form judges the period (its limits, its default), so the two never disagree; only
        "days and dates at once" is the API's own fault (the page has one choice for both)."""
        dated = "start" in data or "end" in data
        if dated and "days" in data:
            raise serializers.ValidationError("Give days or dates (start and end), not both.")
        period = "dates" if dated else data.get("days", "")
        form = PeriodForm({"period": period, "start": data.get("start"), "end": data.get("end")})
        if not form.is_valid():
            raise serializers.ValidationError(
                {FORM_TO_API.get(name, name): messages for name, messages in form.errors.items()}
            )
        zone = ZoneInfo(data["time_zone"]) if "time_zone" in data else desk_zone()
        return {**data, "days": form.rolling_days(), "zone": zone}

    def figures(self, *, now: datetime) -> tuple[Report, datetime]:
        """The figures asked for and when they were computed: a rolling period from its snapshot, dates now
        (weeks counted in the desk's zone, as on the page)."""
        data = self.validated_data
        if data["days"] is not None:
            return rolling(data["days"], now=now)
        return report(Period.dates(data["start"], data["end"], zone=data["zone"]), zone=desk_zone()), now


# --- The figures, as JSON ---------------------------------------------------------------------------


class MedianSeconds(serializers.IntegerField):
    """A median duration in whole seconds; null when there is nothing to measure."""

    def __init__(self, source: str, help_text: str) -> None:
        super().__init__(source=source, allow_null=True, help_text=help_text)

    def to_representation(self, value: Any) -> int:
        return round(value)


def count(figure: str, **kwargs: Any) -> serializers.IntegerField:
    """A count of the rows behind one of the dashboard's figures, described by the figure's own label."""
    return serializers.IntegerField(help_text=f"{FIGURES[figure].label}.", **kwargs)


def rate(help_text: str) -> serializers.FloatField:
    return serializers.FloatField(
        allow_null=True, min_value=0, max_value=1, help_text=f"{help_text} A fraction; null with nothing to measure."
    )


class FiguresRow(serializers.Serializer):
    """One line of the figures: everyone, a team or an agent. Promises count in the period they were made,
    for whoever made them and the team that had the ticket then; first responses and ratings likewise."""

    id = serializers.IntegerField(
        source="key", allow_null=True, help_text="The team's or agent's id; null for everyone."
    )
    name = serializers.CharField()
    made = count("made")
    kept = count("kept")
    broken = count("broken")
    changed = count("changed")
    pending = count("pending")
    sooner = count("sooner")
    sooner_kept = count("sooner_kept")
    sooner_broken = count("sooner_broken")
    kept_rate = rate("Kept / (kept + broken): pending and changed promises have no outcome of their own.")
    changed_rate = rate("Changed (renegotiated) / made.")
    sooner_kept_rate = rate("Of the promises sooner than the estimate, kept / (kept + broken).")
    median_slack_seconds = MedianSeconds(
        "slack_seconds", "Due time minus resolution (positive: early), over the resolved promises."
    )
    first_responses = count("first_response", source="first_response")
    median_first_response_seconds = MedianSeconds("first_response_seconds", "Ticket opened to first reply.")
    ratings = count("rating", source="rating")
    rating_average = serializers.FloatField(allow_null=True, help_text="Stars (1 to 5); null without ratings.")


class AgentFiguresRow(FiguresRow):
    """An agent's line, with how well calibrated their promises are (over their resolved promises)."""

    median_promised_seconds = MedianSeconds("promised_seconds", "Made to due, less time paused.")
    median_actual_seconds = MedianSeconds("actual_seconds", "Made to resolved, less time paused.")
    median_estimate_seconds = MedianSeconds("estimate_seconds", "The guard's estimate when they promised.")


class TeamWeek(serializers.Serializer):
    team = serializers.IntegerField(help_text="The team's id (named in `teams`).")
    kept = serializers.IntegerField()
    broken = serializers.IntegerField()
    kept_rate = rate("Kept / (kept + broken), of the promises made that week.")


class WeekFigures(serializers.Serializer):
    start = serializers.DateTimeField(help_text="Monday at midnight in the desk's time zone.")
    teams = serializers.SerializerMethodField(help_text="The teams with a kept or broken promise made that week.")

    @extend_schema_field(TeamWeek(many=True))
    def get_teams(self, week: Week) -> list[dict[str, Any]]:
        teams = sorted(week.kept.keys() | week.broken.keys())
        return [
            {"team": team, "kept": week.kept.get(team, 0), "broken": week.broken.get(team, 0),
             "kept_rate": week.kept_rate(team)}
            for team in teams
        ]  # fmt: skip


class CalibrationGroup(serializers.Serializer):
    """Everyone, a team or a category: its promises made at or after the guard's estimate, and settled."""

    id = serializers.IntegerField(
        source="key", allow_null=True, help_text="The team's or category's id; null for everyone."
    )
    name = serializers.CharField()
    settled = serializers.IntegerField(help_text="Made at or after the guard's estimate, and kept or broken.")
    kept = serializers.IntegerField()
    broken = serializers.IntegerField()
    kept_rate = rate("Kept / settled.")
    aim = rate("The share the guard aimed to keep: the percentile of each promise's estimate, averaged.")
    interval = serializers.ListField(
        child=serializers.FloatField(min_value=0, max_value=1),
        min_length=2,
        max_length=2,
        allow_null=True,
        help_text="The 95 % Wilson score interval around the kept rate, [low, high]; null with none settled.",
    )
    band = serializers.ChoiceField(
        choices=list(BANDS.items()),
        help_text=f"too_few under {MIN_SETTLED} settled; out_of_band when the aim lies outside the interval; "
        "else in_band.",
    )
    drift = serializers.ChoiceField(
        choices=[("below", "kept less often than the aim"), ("above", "kept more often than the aim")],
        allow_null=True,
        help_text="Which side of the band, when out of it; else null.",
    )
    on_default = serializers.IntegerField(
        help_text="Settled promises made at or after the category's default target: not counted (no percentile)."
    )


class CalibrationFigures(serializers.Serializer):
    """How often promises that followed the guard were kept, against its percentile (README, *Calibration*)."""

    min_settled = serializers.IntegerField(help_text="Settled promises a group needs before it is judged.")
    confidence = serializers.FloatField(help_text="Of the interval around each kept rate: 0.95.")
    total = CalibrationGroup(help_text="Everyone.")
    teams = CalibrationGroup(many=True, help_text="Per team that had the ticket when promised, by name.")
    categories = CalibrationGroup(many=True, help_text="Per ticket category, by name.")


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateTimeField(help_text="Included.")
    end = serializers.DateTimeField(help_text="Excluded.")
    label = serializers.CharField(help_text="As people say it: 'the last 30 days', '01 Nov 2026 to 30 Nov 2026'.")


class PromiseFigures(serializers.Serializer):
    period = PeriodSerializer()
    as_of = serializers.DateTimeField(help_text="When they were computed (a rolling period: its snapshot).")
    total = FiguresRow(help_text="Everyone.")
    teams = FiguresRow(many=True, help_text="Every team, by name.")
    agents = AgentFiguresRow(many=True, help_text="Every agent with figures or a team, by name.")
    weeks = WeekFigures(many=True, help_text="The kept rate per team and week, oldest first.")
    calibration = CalibrationFigures(help_text="The guard's calibration: per team and per category.")


class PromiseMetrics(ApiView):
    """Who keeps their word: the promise figures for a period, for everyone, each team and each agent."""

    permission_classes = [IsSupervisor]
    query_parameters = PeriodParameters

    @extend_schema(parameters=[PeriodParameters], responses=PromiseFigures, summary="The promise figures")
    def get(self, request: Request) -> Response:
        figures, as_of = self.query.figures(now=timezone.now())
        return Response(PromiseFigures({"as_of": as_of, **vars(figures)}).data)


urlpatterns = [path("metrics/promises/", PromiseMetrics.as_view(), name="metrics-promises")]
