"""The supervisor figures computed ahead. Computing them for 90 days of a busy desk takes longer than anyone
should wait (see docs/benchmarks.md), so the rolling periods (the last 7, 30 and 90 days) are computed by a
periodic task into ``FiguresSnapshot`` rows, as JSON, and shown "as of" that moment."""

from __future__ import annotations

import time
import zoneinfo
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings

from tickets.models import FiguresSnapshot
from tickets.supervision.calibration import Calibration
from tickets.supervision.figures import Period, Report, Row, Week, report

ROLLING_DAYS = (7, 30, 90)


def desk_zone() -> zoneinfo.ZoneInfo:
    """The desk's own zone (``TIME_ZONE``): where weeks start, whoever is looking."""
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def rolling(days: int, *, now: datetime) -> tuple[Report, datetime]:
    """The figures for the last ``days`` days and when they were computed: the snapshot when it is fresh
    (younger than two refresh intervals), else computed now and kept (so a stopped worker costs speed,
    never correctness)."""
    fresh_since = now - timedelta(seconds=2 * settings.FIGURES_REFRESH_INTERVAL)
    snapshot = FiguresSnapshot.objects.filter(days=days, computed_at__gte=fresh_since).first()
    if snapshot is not None:
        try:
            return from_json(snapshot.data), snapshot.computed_at
        except (KeyError, TypeError, ValueError):  # written by an older release: compute afresh
            pass
    return _compute_and_keep(days, now=now), now


def refresh_snapshots(*, now: datetime) -> dict[int, int]:
    """Compute every rolling period afresh; returns {days: milliseconds}. An upsert: safe to run twice."""
    taken = {}
    for days in ROLLING_DAYS:
        started = time.monotonic()
        _compute_and_keep(days, now=now)
        taken[days] = round((time.monotonic() - started) * 1000)
    return taken


def _compute_and_keep(days: int, *, now: datetime) -> Report:
    started = time.monotonic()
    figures = report(Period.last(days, now=now), zone=desk_zone())
    FiguresSnapshot.objects.update_or_create(
        days=days,
        defaults={
            "computed_at": now,
            "data": to_json(figures),
            "duration_ms": round((time.monotonic() - started) * 1000),
        },
    )
    return figures


def to_json(figures: Report) -> dict[str, Any]:
    def week(one: Week) -> dict[str, Any]:
        return {"start": one.start.isoformat(), "kept": one.kept, "broken": one.broken}

    return {
        "period": {"start": figures.period.start.isoformat(), "end": figures.period.end.isoformat(),
                   "label": figures.period.label},
        "total": asdict(figures.total),
        "teams": [asdict(row) for row in figures.teams],
        "agents": [asdict(row) for row in figures.agents],
        "weeks": [week(one) for one in figures.weeks],
        "calibration": figures.calibration.to_json(),
    }  # fmt: skip


def from_json(data: dict[str, Any]) -> Report:
    def counts(by_team: dict[str, int]) -> dict[int, int]:
        return {int(team): n for team, n in by_team.items()}  # JSON keys are strings

    period = data["period"]
    return Report(
        period=Period(
            start=datetime.fromisoformat(period["start"]),
            end=datetime.fromisoformat(period["end"]),
            label=period["label"],
        ),
        total=Row(**data["total"]),
        teams=[Row(**row) for row in data["teams"]],
        agents=[Row(**row) for row in data["agents"]],
        weeks=[
            Week(start=datetime.fromisoformat(week["start"]), kept=counts(week["kept"]), broken=counts(week["broken"]))
            for week in data["weeks"]
        ],
        calibration=Calibration.from_json(data["calibration"]),
    )
