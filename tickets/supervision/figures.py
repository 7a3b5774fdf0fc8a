"""Who keeps their word: the promise figures for a period, per agent and per team, computed in the database.

Every figure is defined once, in ``FIGURES``, as a filter over the rows behind it (promises, first responses
or ratings). The dashboard counts those rows with ``COUNT(*) FILTER (WHERE ...)`` and the drill-down lists
the same rows with ``.filter(...)``, so a number and the list behind it agree (for a rolling period computed
ahead, the list is live: it may hold what happened since).

What counts, and when:
- Promise figures are over the promises *made* in the period, credited to the agent who made each one and
  to the team that had the ticket then. Kept rate is kept / (kept + broken): pending and changed promises
  have no outcome yet, or none of their own. Changed rate is changed (superseded) / made.
- Slack is the promised time minus the actual resolution (positive: early). A promise broken by a breach
  is measured against the ticket's later resolution; a changed promise has no slack.
- Calibration compares, per agent, the median span promised (made to due, less any time the clock was
  paused), the median actual span to resolution, and the median guard estimate, over the same promises;
  and, per team and category, how often promises that followed the guard were kept (``calibration``).
- First-response time is over the tickets first answered in the period (created to first reply), credited
  to whoever answered and the team that had the ticket then.
- Ratings are those given in the period (one per resolution: a rating given again replaces the first, and
  counts when it was given), credited to the agent who resolved the ticket and its team.
- Weeks start on Monday at midnight in the desk's time zone (``TIME_ZONE``), the same for every viewer.

Computing the figures for 90 days of a busy desk takes longer than anyone should wait, so the rolling
periods are computed ahead (``tickets.supervision.snapshots``); chosen dates are computed when asked.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import TruncWeek

from tickets.aggregates import DurationSeconds, Median
from tickets.models import Promise, PromiseOutcome, Rating, Team, Ticket
from tickets.promise_rules import aware_from_local
from tickets.supervision.calibration import Calibration, calibrate

# --- The period ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """[start, end): aware instants; ``label`` says it as people do."""

    start: datetime
    end: datetime
    label: str

    @classmethod
    def last(cls, days: int, *, now: datetime) -> Period:
        return cls(start=now - timedelta(days=days), end=now, label=f"the last {days} days")

    @classmethod
    def dates(cls, first: date, last: date, *, zone: zoneinfo.ZoneInfo) -> Period:
        """From the start of ``first`` to the end of ``last``, both days in the viewer's zone."""
        start = aware_from_local(datetime.combine(first, datetime.min.time()), zone)
        end = aware_from_local(datetime.combine(last + timedelta(days=1), datetime.min.time()), zone)
        return cls(start=start, end=end, label=f"{first:%d %b %Y} to {last:%d %b %Y}")


# --- Where each figure's rows come from ------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """A kind of row the figures count: its QuerySet in a period, and who and which team it is credited to."""

    name: str
    rows: Callable[[], QuerySet[Any]]
    when: str
    agent: str
    team: str

    def in_period(self, period: Period) -> QuerySet[Any]:
        return self.rows().filter(**{f"{self.when}__gte": period.start, f"{self.when}__lt": period.end})


PROMISES = Source("promises", Promise.objects.all, when="made_at", agent="made_by_id", team="team_id")
RESPONSES = Source(
    "responses",
    Ticket.objects.all,
    when="first_response_at",
    agent="first_response_by_id",
    team="first_response_team_id",
)
RATINGS = Source("ratings", Rating.objects.all, when="rated_at", agent="agent_id", team="team_id")
SOURCES = {source.name: source for source in (PROMISES, RESPONSES, RATINGS)}


@dataclass(frozen=True)
class Figure:
    label: str
    source: Source
    rows: Q = field(default_factory=Q)


_KEPT, _BROKEN = Q(outcome=PromiseOutcome.KEPT), Q(outcome=PromiseOutcome.BROKEN)
_SOONER = Q(overrode_estimate=True)

FIGURES: dict[str, Figure] = {
    "made": Figure("Promises made", PROMISES),
    "kept": Figure("Kept", PROMISES, _KEPT),
    "broken": Figure("Broken", PROMISES, _BROKEN),
    "changed": Figure("Changed (renegotiated)", PROMISES, Q(outcome=PromiseOutcome.SUPERSEDED)),
    "pending": Figure("Still pending", PROMISES, Q(outcome=PromiseOutcome.PENDING)),
    "sooner": Figure("Promised sooner than the estimate", PROMISES, _SOONER),
    "sooner_kept": Figure("Sooner than the estimate, and kept", PROMISES, _SOONER & _KEPT),
    "sooner_broken": Figure("Sooner than the estimate, and broken", PROMISES, _SOONER & _BROKEN),
    "slack": Figure("Resolved, with their slack", PROMISES, Q(resolved_at__isnull=False)),
    "first_response": Figure("First responses", RESPONSES),
    "rating": Figure("Ratings", RATINGS),
}

# Durations, in seconds: each promise's and ticket's own, stored in the time it ran in (business time where its
# category runs in it): slack is what was promised less what it took.
_SLACK = DurationSeconds(ExpressionWrapper(F("promised_for") - F("took"), output_field=DurationField()))
_PROMISED = DurationSeconds(F("promised_for"))
_ACTUAL = DurationSeconds(F("took"))
_FIRST_RESPONSE = DurationSeconds(F("first_response_after"))

# Counts add up: one pass per source, grouped by (team, agent), summed here for everyone, teams and agents.
COUNTS: dict[str, dict[str, Any]] = {
    "promises": {
        name: Count("pk", filter=figure.rows) for name, figure in FIGURES.items() if figure.source is PROMISES
    },
    "ratings": {"rating": Count("pk"), "rating_sum": Sum("stars")},
}
# Medians do not add up: one query per grouping (everyone, team, agent), over the rows that have the duration
# (first responses count there too: they come with their median at no extra cost).
MEDIANS: dict[str, tuple[Q, dict[str, Any]]] = {
    "promises": (Q(resolved_at__isnull=False), {"slack_seconds": Median(_SLACK)}),
    "responses": (Q(), {"first_response": Count("pk"), "first_response_seconds": Median(_FIRST_RESPONSE)}),
}
# How calibrated each agent is (the calibration chart): per agent only, over promises with a resolution.
CALIBRATION = {
    "promised_seconds": Median(_PROMISED),
    "actual_seconds": Median(_ACTUAL),
    "estimate_seconds": Median(DurationSeconds(F("estimate"))),
}


# --- The figures of one group (an agent, a team, or everyone) ---------------------------------------


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Row:
    """One line of the figures table. Counts are 0 and medians None when there is nothing to measure."""

    key: int | None
    name: str
    made: int = 0
    kept: int = 0
    broken: int = 0
    changed: int = 0
    pending: int = 0
    sooner: int = 0
    sooner_kept: int = 0
    sooner_broken: int = 0
    slack: int = 0
    slack_seconds: float | None = None
    promised_seconds: float | None = None
    actual_seconds: float | None = None
    estimate_seconds: float | None = None
    first_response: int = 0
    first_response_seconds: float | None = None
    rating: int = 0
    rating_sum: int = 0

    @property
    def kept_rate(self) -> float | None:
        return _rate(self.kept, self.kept + self.broken)

    @property
    def changed_rate(self) -> float | None:
        return _rate(self.changed, self.made)

    @property
    def sooner_kept_rate(self) -> float | None:
        return _rate(self.sooner_kept, self.sooner_kept + self.sooner_broken)

    @property
    def rating_average(self) -> float | None:
        return self.rating_sum / self.rating if self.rating else None

    @property
    def has_figures(self) -> bool:
        return bool(self.made or self.first_response or self.rating)

    def take(self, values: dict[str, Any]) -> None:
        """Set figures computed for this group alone (medians)."""
        for name, value in values.items():
            if value is not None:
                setattr(self, name, value)

    def add(self, counts: dict[str, int | None]) -> None:
        """Add counts of one (team, agent) pair: counts add up to the group's."""
        for name, value in counts.items():
            setattr(self, name, getattr(self, name) + (value or 0))


@dataclass
class Week:
    start: datetime
    kept: dict[int, int] = field(default_factory=dict)  # team id -> kept promises made that week
    broken: dict[int, int] = field(default_factory=dict)

    def kept_rate(self, team: int) -> float | None:
        kept, broken = self.kept.get(team, 0), self.broken.get(team, 0)
        return _rate(kept, kept + broken)


@dataclass
class Report:
    period: Period
    total: Row
    teams: list[Row]
    agents: list[Row]
    weeks: list[Week]
    calibration: Calibration


def report(period: Period, *, zone: zoneinfo.ZoneInfo) -> Report:
    """Every figure for the period: everyone, each team, each agent, and the weekly kept rate per team.

    Twelve queries whatever the data: the teams; the promise and rating counts, one pass each; the promise
    and first-response medians, three groupings each; the weeks; the staff names; the guard's calibration.
    """
    total = Row(key=None, name="Everyone")
    teams: dict[int, Row] = {team.pk: Row(key=team.pk, name=team.name) for team in Team.objects.all()}
    agents: dict[int, Row] = {}

    def row_of(into: dict[int, Row], key: int | None) -> Row | None:
        return None if key is None else into.setdefault(key, Row(key=key, name=""))

    for name, counts in COUNTS.items():
        source = SOURCES[name]
        grouped = source.in_period(period).values(team_key=F(source.team), agent_key=F(source.agent))
        for values in grouped.annotate(**counts).order_by():
            team, agent = values.pop("team_key"), values.pop("agent_key")
            for row in (total, row_of(teams, team), row_of(agents, agent)):
                if row is not None:
                    row.add(values)
    for name, (having, medians) in MEDIANS.items():
        source = SOURCES[name]
        rows = source.in_period(period).filter(having)
        total.take(rows.aggregate(**medians))
        for grouping, into in ((source.team, teams), (source.agent, agents)):
            per_group = {**medians, **CALIBRATION} if grouping == PROMISES.agent else medians
            for values in rows.values(key=F(grouping)).annotate(**per_group).order_by():
                row = row_of(into, values.pop("key"))
                if row is not None:
                    row.take(values)
    _name_agents(agents)
    return Report(
        period=period,
        total=total,
        teams=sorted((row for row in teams.values() if row.name), key=lambda row: row.name.lower()),
        agents=sorted(agents.values(), key=lambda row: row.name.lower()),
        weeks=_weeks(period, zone=zone),
        calibration=calibrate(PROMISES.in_period(period)),
    )


def _name_agents(agents: dict[int, Row]) -> None:
    """Name each agent with figures, and add the team members who have none (a row of dashes says a lot)."""
    people = User.objects.filter(Q(pk__in=list(agents)) | Q(is_active=True, is_staff=True, teams__isnull=False))
    for person in people.distinct().only("pk", "username", "first_name", "last_name"):
        agents.setdefault(person.pk, Row(key=person.pk, name="")).name = person.get_full_name() or person.username


def _weeks(period: Period, *, zone: zoneinfo.ZoneInfo) -> list[Week]:
    """Kept and broken promises per team and week made (weeks start on Monday in ``zone``)."""
    weeks: dict[datetime, Week] = {}
    rows = (
        PROMISES.in_period(period)
        .filter(_KEPT | _BROKEN)
        .values("team_id", week=TruncWeek("made_at", tzinfo=zone))
        .annotate(kept=Count("pk", filter=_KEPT), broken=Count("pk", filter=_BROKEN))
        .order_by("week")
    )
    for values in rows:
        week = weeks.setdefault(values["week"], Week(start=values["week"]))
        week.kept[values["team_id"]] = values["kept"]
        week.broken[values["team_id"]] = values["broken"]
    return list(weeks.values())


# --- Drill-down: the rows behind a figure ----------------------------------------------------------


def rows_behind(figure: str, period: Period, *, team: int | None = None, agent: int | None = None) -> QuerySet[Any]:
    """The rows a figure counts, for everyone or one team or agent: the same filter the count used."""
    chosen = FIGURES[figure]
    rows = chosen.source.in_period(period).filter(chosen.rows)
    if team is not None:
        rows = rows.filter(**{chosen.source.team: team})
    if agent is not None:
        rows = rows.filter(**{chosen.source.agent: agent})
    return rows
