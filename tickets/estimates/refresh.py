"""The periodic refresh: the desk's history (its tickets and its imported past) in, the ``Estimate`` table out.

One row per category and priority, holding the curve ``Estimator.best`` chose for it, so the guard's live
check is one read by the table's unique key.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q

from tickets.estimates.estimator import Curve, Estimator, History, Policy
from tickets.estimates.models import Estimate, EstimateBasis, PastTicket
from tickets.models import Category, Priority, Ticket


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


def refresh_estimates(*, now: datetime) -> int:
    """Recompute every category and priority's curve from the history known at ``now``; returns rows written.

    Groups that can't be estimated (no history near enough) get no row: the guard then uses the category's
    default target.
    """
    policy = Policy.from_settings()
    estimator = Estimator(desk_history(now, days=policy.longest_window_days), now.timestamp(), policy)
    rows = []
    for category_id in Category.objects.values_list("id", flat=True):
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
