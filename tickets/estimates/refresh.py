"""The periodic refresh: the desk's history (its tickets and its imported past) in, the ``Estimate`` table out.

One row per category and priority, holding the curve ``Estimator.best`` chose for it, so the guard's live
check is one read by the table's unique key.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q

from tickets.estimates.estimator import Estimator, History, Policy
from tickets.estimates.models import Estimate, PastTicket


def desk_history(now: datetime, *, days: int) -> History:
    """Every ticket, live or imported, that was open at some moment of the last ``days`` before ``now``."""
    from tickets.models import Ticket

    since = now - timedelta(days=days)
    rows: list[tuple[float, float | None, float, int, int]] = []
    for model, opened in ((Ticket, "created_at"), (PastTicket, "opened_at")):
        seen = model.objects.filter(Q(resolved_at__isnull=True) | Q(resolved_at__gt=since), **{f"{opened}__lt": now})
        rows.extend(
            (opened_at.timestamp(), resolved_at.timestamp() if resolved_at else None, waited.total_seconds(), c, p)
            for opened_at, resolved_at, waited, c, p in seen.values_list(
                opened, "resolved_at", "waited", "category_id", "priority"
            ).iterator(chunk_size=5000)
        )
    return History.from_rows(rows)


def refresh_estimates(*, now: datetime) -> int:
    """Recompute every category and priority's curve from the history known at ``now``; returns rows written.

    Groups that can't be estimated (no history near enough) get no row: the guard then uses the category's
    default target.
    """
    from tickets.models import Category, Priority

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
