"""The periodic refresh: the desk's history (its tickets and its imported past) in, the ``Estimate`` table out.

One row per category and priority, holding the curve ``Estimator.best`` chose for it, so the guard's live
check is one read by the table's unique key.

A category that runs in business time has its curve in business seconds of its calendar: the calendar of
the team at level 1 of its escalation path, where its tickets start (``category_calendars``). Its estimator
reads the whole history on that clock, coarser groups (a priority across categories, the desk) included,
so a fallback curve is in the same seconds; one reading per calendar. Every other category's curve is in
elapsed seconds, computed as it always was.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import OuterRef, Q, Subquery

from tickets.estimates.estimator import Curve, Estimator, History, Policy
from tickets.estimates.models import Estimate, EstimateBasis, PastTicket
from tickets.models import Calendar, Category, Priority, Ticket
from tickets.models.organisation import first_level


def desk_history(now: datetime, *, days: int) -> History:
    """Every ticket, live or imported, that was open at some moment of the last ``days`` before ``now``."""
    since = now - timedelta(days=days)
    rows: list[tuple[float, float | None, float, int, int]] = []
    waited_open: list[float] = []
    known_until: list[float] = []
    sources = (
        (Ticket, "created_at", "paused_at"),
        # An imported ticket still open is known only until it was imported: its fate after is not.
        (PastTicket, "opened_at", "source__started_at"),
    )
    for model, opened, last_known in sources:
        seen = model.objects.filter(Q(resolved_at__isnull=True) | Q(resolved_at__gt=since), **{f"{opened}__lt": now})
        for opened_at, resolved_at, waited, category, priority, moment in seen.values_list(
            opened, "resolved_at", "waited", "category_id", "priority", last_known
        ).iterator(chunk_size=5000):
            waits = waited.total_seconds()
            rows.append((opened_at.timestamp(), resolved_at.timestamp() if resolved_at else None, waits, category,
                         priority))  # fmt: skip
            if model is Ticket:
                # An open ticket waiting on the customer right now has waited since then too.
                waited_open.append(waits + (max((now - moment).total_seconds(), 0.0) if moment else 0.0))
                known_until.append(math.inf)
            else:
                waited_open.append(waits)
                known_until.append(moment.timestamp() if resolved_at is None else math.inf)
    return History.from_rows(rows, waited_open=waited_open, known_until=known_until)


def category_calendars() -> dict[int, Calendar | None]:
    """Each category's clock for its estimates: for one that runs in business time, the calendar of the team
    at level 1 of its escalation path (where its tickets start; the estimate is made before anyone escalates
    them); None for the others, and where that calendar is open around the clock (elapsed time then)."""
    level_1 = first_level(OuterRef("escalation_path"))  # as ``Category.calendar`` reads it for one category
    categories = Category.objects.annotate(calendar_id=Subquery(level_1.values("team__calendar")[:1]))
    found = {pk: calendar if business else None
             for pk, business, calendar in categories.values_list("pk", "business_hours", "calendar_id")}  # fmt: skip
    calendars = Calendar.objects.filter(pk__in={pk for pk in found.values() if pk is not None})
    by_pk = {calendar.pk: calendar for calendar in calendars.prefetch_related("closed_days")}
    return {
        category: None if pk is None or by_pk[pk].is_around_the_clock else by_pk[pk] for category, pk in found.items()
    }


def refresh_estimates(*, now: datetime) -> int:
    """Recompute every category and priority's curve from the history known at ``now``; returns rows written.

    Groups that can't be estimated (no history near enough) get no row: the guard then uses the category's
    default target.
    """
    policy = Policy.from_settings()
    history = desk_history(now, days=policy.longest_window_days)
    estimators: dict[int | None, Estimator] = {None: Estimator(history, now.timestamp(), policy)}
    rows = []
    for category_id, calendar in category_calendars().items():
        if calendar is not None and calendar.pk not in estimators:  # its calendar's first category
            estimators[calendar.pk] = _estimator_on(calendar, history, now=now.timestamp(), policy=policy)
        estimator = estimators[None if calendar is None else calendar.pk]
        for priority in Priority.values:
            curve = estimator.best(category_id, priority)
            if curve is None:
                continue
            rows.append(
                Estimate(
                    category_id=category_id,
                    priority=priority,
                    basis=curve.basis,
                    curve=curve.to_json(),
                    duration=timedelta(seconds=curve.points[0].remaining),
                    sample_size=curve.sample_size,
                    window_days=curve.window_days,
                    percentile=policy.fraction,
                    computed_at=now,
                )
            )
    with transaction.atomic():
        Estimate.objects.bulk_create(
            rows,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["category", "priority"],
            update_fields=["basis", "curve", "duration", "sample_size", "window_days", "percentile", "computed_at"],
        )
        # Groups with no history left in reach fall back to the default target.
        Estimate.objects.exclude(computed_at=now).delete()
    return len(rows)


def _estimator_on(calendar: Calendar, history: History, *, now: float, policy: Policy) -> Estimator:
    """The estimates in the calendar's business time: the history, ``now`` and the windows' starts read on its
    clock together (the windows stay the last N calendar days)."""
    clocked, read = history.in_business_time(calendar.hours(), moments=[now, *policy.window_starts(now)], now=now)
    return Estimator(clocked, float(read[0]), policy, window_starts=read[1:].tolist())


@dataclass(frozen=True)
class Reading:
    """One estimate, as the supervisors' History page shows it."""

    row: Estimate
    priority: str
    at_opening: timedelta
    after_a_day: timedelta
    seen_after_a_day: int


def guard_readings(limit: int) -> tuple[list[Reading], int, int]:
    """The estimates from a category's own history, resting on most tickets first (the first ``limit``); how
    many there are, and how many borrow a coarser group's (the priority's, the whole desk's)."""
    own = Estimate.objects.filter(basis__in=[EstimateBasis.CATEGORY_PRIORITY, EstimateBasis.CATEGORY])
    readings = []
    for row in own.select_related("category").order_by("-sample_size", "category__name", "priority")[:limit]:
        curve = Curve.from_json(row.basis, row.curve, sample_size=row.sample_size, window_days=row.window_days)
        day = curve.at(24 * 3600.0)
        readings.append(
            Reading(
                row=row,
                priority=Priority(row.priority).label if row.priority in Priority.values else str(row.priority),
                at_opening=timedelta(seconds=round(curve.points[0].remaining)),
                after_a_day=timedelta(seconds=round(day.remaining)),
                seen_after_a_day=day.seen,
            )
        )
    return readings, own.count(), Estimate.objects.exclude(pk__in=own.values("pk")).count()
