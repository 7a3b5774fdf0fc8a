"""The promise dashboard (supervisors only): what is in danger now, who keeps their word over time, the
rows behind every figure, and CSV of both. Thin: read a form, ask ``tickets.supervision``, render."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from helpdesk.clock import database_now
from tickets.supervision.calibration import GUARDS, narrow
from tickets.supervision.exports import csv_response
from tickets.supervision.figures import FIGURES, Report, Row, Week, report, rows_behind
from tickets.supervision.forms import DrillDownForm, PeriodForm
from tickets.supervision.lists import hours, listing_for, ordered
from tickets.supervision.now import GROUPINGS, danger
from tickets.supervision.snapshots import desk_zone, rolling
from tickets.sweep import behind, is_behind, is_stale, last_beat
from tickets.views.access import StaffRequest, supervisor_only
from tickets.views.desk import IdPage

# --- Now ------------------------------------------------------------------------------------------


DRIFT_DAYS = 30  # the period whose calibration the "now" page warns about: a rolling one, computed ahead


@supervisor_only
@require_GET
def now(request: StaffRequest) -> HttpResponse:
    """At risk and breached, by team or by agent; htmx refreshes the live part every 15 seconds. The whole
    page also warns of the teams and categories where the guard is out of band over the last 30 days."""
    group_by = request.GET.get("by", "team")
    group_by = group_by if group_by in GROUPINGS else "team"
    beat, moment = last_beat(), database_now()
    lapse = behind(now=moment)
    live = request.headers.get("HX-Request")
    context: dict[str, Any] = {
        "danger": danger(request.user, group_by=group_by),
        "group_by": group_by,
        "beat": beat,
        "beat_age": (moment - beat.last_run_at).total_seconds() if beat else None,
        "stale": is_stale(beat, now=moment),
        "lapse": lapse,
        "behind": is_behind(lapse),
        "here": request.get_full_path(),
    }
    if live:
        return render(request, "supervisor/_now_live.html", context)
    recent, as_of = rolling(DRIFT_DAYS, now=timezone.now())
    context.update(
        drifting=recent.calibration.out_of_band(),
        drift_as_of=as_of,
        drift_period=recent.period,
        drift_query=urlencode({"period": DRIFT_DAYS}),
    )
    return render(request, "supervisor/now.html", context)


# --- Over time ------------------------------------------------------------------------------------


def _figures(form: PeriodForm) -> tuple[Report, datetime]:
    """The figures asked for and when they were computed: a rolling period from its snapshot, chosen
    dates now."""
    days = form.rolling_days()
    if days is not None:
        return rolling(days, now=timezone.now())
    return report(form.chosen(), zone=desk_zone()), timezone.now()


@supervisor_only
@require_GET
def figures(request: StaffRequest) -> HttpResponse:
    form = PeriodForm(request.GET)
    if request.GET and not form.is_valid():
        return render(request, "supervisor/figures.html", {"form": form}, status=400)
    shown, as_of = _figures(form)
    period_query = urlencode(form.query())
    context = {
        "form": form,
        "report": shown,
        "as_of": as_of,
        "refresh_minutes": round(settings.FIGURES_REFRESH_INTERVAL / 60, 1),
        "period_query": period_query,
        "drill_base": reverse("desk:drill-down"),
        "charts": _charts(shown, period_query=period_query),
    }
    return render(request, "supervisor/figures.html", context)


def _charts(figures: Report, *, period_query: str) -> dict[str, Any]:
    """The charts' data (read by static/js/figures.js from a JSON script tag, never inline script), with
    the drill-down each point opens: a team's kept promises of that week, an agent's resolved promises."""
    drill = reverse("desk:drill-down")
    teams = [row for row in figures.teams if row.kept or row.broken]
    agents = [row for row in figures.agents if row.slack]

    def week_of(week: Week, team: Row) -> str:
        # The week's days, within the period (a rolling period starts mid-week). Days are read in the
        # viewer's zone, weeks counted in the desk's: the same days unless the two zones differ.
        first = max(week.start.date(), figures.period.start.astimezone(week.start.tzinfo).date())
        last = min(week.start.date() + timedelta(days=6), figures.period.end.astimezone(week.start.tzinfo).date())
        return f"{drill}?" + urlencode(
            {"period": "dates", "start": first, "end": last, "figure": "kept", "team": team.key}
        )

    return {
        "weekly": {
            "labels": [f"{week.start:%d %b}" for week in figures.weeks],
            "series": [
                {
                    "label": team.name,
                    "data": [_percent(week.kept_rate(team.key)) for week in figures.weeks],  # type: ignore[arg-type]
                    "links": [week_of(week, team) for week in figures.weeks],
                }
                for team in teams
            ],
        },
        "calibration": {
            "labels": [agent.name for agent in agents],
            "links": [
                f"{drill}?{period_query}&{urlencode({'figure': 'slack', 'agent': agent.key})}" for agent in agents
            ],
            "series": [
                {"label": "Guard's estimate", "data": [hours(agent.estimate_seconds) for agent in agents]},
                {"label": "Promised", "data": [hours(agent.promised_seconds) for agent in agents]},
                {"label": "Actual", "data": [hours(agent.actual_seconds) for agent in agents]},
            ],
        },
    }


def _percent(rate: float | None) -> float | None:
    return round(rate * 100, 1) if rate is not None else None


FIGURE_COLUMNS = (
    ("Promises made", "made"),
    ("Kept", "kept"),
    ("Broken", "broken"),
    ("Kept rate (%)", lambda row: _percent(row.kept_rate)),
    ("Changed", "changed"),
    ("Changed rate (%)", lambda row: _percent(row.changed_rate)),
    ("Still pending", "pending"),
    ("Sooner than the estimate", "sooner"),
    ("Of those, kept", "sooner_kept"),
    ("Of those, kept rate (%)", lambda row: _percent(row.sooner_kept_rate)),
    ("Median slack (hours)", lambda row: hours(row.slack_seconds)),
    ("First responses", "first_response"),
    ("Median first response (hours)", lambda row: hours(row.first_response_seconds)),
    ("Ratings", "rating"),
    ("Average rating", lambda row: round(row.rating_average, 2) if row.rating_average is not None else None),
)


def _figure_values(row: Row) -> list[Any]:
    return [getattr(row, value) if isinstance(value, str) else value(row) for _, value in FIGURE_COLUMNS]


@supervisor_only
@require_GET
def figures_csv(request: StaffRequest) -> HttpResponse | StreamingHttpResponse:
    form = PeriodForm(request.GET)
    if not form.is_valid():
        return render(request, "supervisor/figures.html", {"form": form}, status=400)
    shown, _ = _figures(form)
    period = shown.period

    def rows() -> Iterator[list[Any]]:
        yield ["everyone", "Everyone", *_figure_values(shown.total)]
        for scope, group in (("team", shown.teams), ("agent", shown.agents)):
            for row in group:
                yield [scope, row.name, *_figure_values(row)]

    header = ["Scope", "Name", *(label for label, _ in FIGURE_COLUMNS)]
    return csv_response(f"promise-figures-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv", header, rows())


# --- Drill-down -----------------------------------------------------------------------------------

DRILL_PAGE_SIZE = 50


def _behind(form: DrillDownForm) -> Any:
    data = form.cleaned_data
    figure = data["figure"]
    rows = rows_behind(
        figure,
        form.chosen(),
        team=data["team"].pk if data.get("team") else None,
        agent=data["agent"].pk if data.get("agent") else None,
    )
    rows = narrow(rows, guard=data.get("guard") or "", category=data["category"].pk if data.get("category") else None)
    return ordered(rows, figure)


def _whose(form: DrillDownForm) -> str:
    data = form.cleaned_data
    names = []
    if data.get("team"):
        names.append(data["team"].name)
    if data.get("agent"):
        names.append(str(data["agent"].get_full_name() or data["agent"].username))
    if data.get("category"):
        names.append(data["category"].name)
    return " · ".join(names) or "Everyone"


@supervisor_only
@require_GET
def drill_down(request: StaffRequest) -> HttpResponse:
    """The rows behind one figure, newest first, a page at a time."""
    form = DrillDownForm(request.GET)
    if not form.is_valid():
        return render(request, "supervisor/drill_down.html", {"form": form}, status=400)
    figure = form.cleaned_data["figure"]
    rows = _behind(form)
    page = IdPage.of(rows.values_list("pk", flat=True), request.GET.get("page"), size=DRILL_PAGE_SIZE)
    listing = listing_for(figure)
    found = FIGURES[figure].source.rows().select_related(*listing.related).in_bulk(page.ids)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "figure": FIGURES[figure],
        "whose": _whose(form),
        "guard": GUARDS[form.cleaned_data["guard"]][0] if form.cleaned_data.get("guard") else "",
        "period": form.chosen(),
        "columns": listing.columns,
        "table": list(listing.table(found[pk] for pk in page.ids if pk in found)),
        "page": page,
        "query": query.urlencode(),
        "period_query": urlencode(form.query()),
    }
    return render(request, "supervisor/drill_down.html", context)


@supervisor_only
@require_GET
def drill_down_csv(request: StaffRequest) -> HttpResponse | StreamingHttpResponse:
    form = DrillDownForm(request.GET)
    if not form.is_valid():
        return render(request, "supervisor/drill_down.html", {"form": form}, status=400)
    figure = form.cleaned_data["figure"]
    listing = listing_for(figure)
    rows = _behind(form).select_related(*listing.related)

    period = form.chosen()
    lines = listing.csv_lines(rows.iterator(chunk_size=2000))
    return csv_response(f"{figure}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv", listing.csv_header(), lines)
