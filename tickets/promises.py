"""The promise engine's rules: warning windows, promise states, the overpromise guard, local times.

Pure functions over values (plus the guard's one indexed read and the estimates refresh), so the UI,
the API, the services and the sweep all judge a promise with the same code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import DurationField, ExpressionWrapper, F

from tickets.aggregates import Percentile, Seconds
from tickets.models import Category, Estimate, Promise, PromiseState, Ticket

# --- Windows and states -----------------------------------------------------------------------


def warning_window(category: Category, span: timedelta) -> timedelta:
    """max(WARN_MIN, WARN_FRACTION x span), with the category's overrides where set."""
    warn_min = category.warn_min if category.warn_min is not None else settings.PROMISE_WARN_MIN
    fraction = category.warn_fraction if category.warn_fraction is not None else settings.PROMISE_WARN_FRACTION
    return min(span, max(warn_min, span * fraction))


def state_at(*, due_at: datetime, warn_at: datetime, now: datetime) -> str:
    """The state of a running (not paused, not settled) promise at ``now``."""
    if now >= due_at:
        return PromiseState.BREACHED
    if now >= warn_at:
        return PromiseState.AT_RISK
    return PromiseState.ON_TRACK


def next_check_at(*, state: str, due_at: datetime | None, warn_at: datetime | None, paused: bool) -> datetime | None:
    """When the sweep must next look: the warning start, then the due time, then never.

    A paused clock (waiting on the customer) and a settled or breached promise need no look.
    """
    if paused or due_at is None or warn_at is None:
        return None
    if state == PromiseState.ON_TRACK:
        return warn_at
    if state == PromiseState.AT_RISK:
        return due_at
    return None


# --- Local times (what a person types) ---------------------------------------------------------


def _exists(wall: datetime, zone: ZoneInfo) -> bool:
    return wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


def aware_from_local(local: datetime, zone: ZoneInfo, *, fold: int | None = None) -> datetime:
    """Turn a wall-clock time typed in ``zone`` into an aware UTC datetime, refusing guesses around DST.

    1. A time that does not exist (the clocks jumped over it) is refused, naming the gap's edges.
    2. A time that happens twice (the clocks went back) is refused unless ``fold`` says which one:
       0 for the first (before the change), 1 for the second.
    3. The result is in UTC, so arithmetic on it measures real time, not wall-clock time.
    """
    if local.tzinfo is not None:
        return local
    if not _exists(local, zone):
        start = end = local
        while not _exists(start - timedelta(minutes=1), zone):
            start -= timedelta(minutes=1)
        while not _exists(end, zone):
            end += timedelta(minutes=1)
        raise ValidationError(
            {
                "due_at": f"{local:%H:%M} on {local:%-d %B} does not exist in {zone.key}: the clocks go forward. "
                f"Choose a time before {start:%H:%M} or from {end:%H:%M}."
            }
        )
    first, second = local.replace(tzinfo=zone, fold=0), local.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        if fold is None:
            raise ValidationError(
                {
                    "due_at": f"{local:%H:%M} on {local:%-d %B} happens twice in {zone.key}: the clocks go back. "
                    f"Say whether you mean the first ({first:%Z}) or the second ({second:%Z})."
                }
            )
        return (second if fold else first).astimezone(UTC)
    return first.astimezone(UTC)


def validate_due(due_at: datetime, *, now: datetime) -> None:
    """A promise is aware, in the future and within the horizon; the same words in the form, the live
    guard and the service."""
    if due_at.tzinfo is None:
        raise ValidationError({"due_at": "Give the time with its time zone."})
    if due_at <= now:
        raise ValidationError({"due_at": "That time has already passed: promise a time in the future."})
    horizon = timedelta(days=settings.PROMISE_MAX_HORIZON_DAYS)
    if due_at > now + horizon:
        raise ValidationError(
            {
                "due_at": f"That is more than {settings.PROMISE_MAX_HORIZON_DAYS} days away. Promise something "
                "nearer and keep the customer posted."
            }
        )


# --- The overpromise guard ---------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What history says about a proposed due time, for the rep (and the API client) to see."""

    estimate: timedelta
    sample_size: int
    basis: str  # "category and priority", "category" or "default target"
    load: int  # the rep's pending promises due before the proposed one
    earliest_realistic: datetime
    sooner_than_estimate: bool

    def explain(self) -> str:
        if self.sample_size:
            scope = "this category and priority" if self.basis == "category and priority" else "this category"
            history = (
                f"Tickets of {scope} took up to {humanize_duration(self.estimate)} "
                f"(the estimate, from {self.sample_size} resolved in the look-back)."
            )
        else:
            history = f"Too little history yet: the category's target is {humanize_duration(self.estimate)}."
        load = f"{self.load} of your promises {'is' if self.load == 1 else 'are'} due before this one."
        return f"{history} {load}"


class Overpromise(ValidationError):
    """Sooner than the estimate without a reason: carries the verdict so the UI and API can show it."""

    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict
        super().__init__(
            {"reason": f"That is sooner than we usually manage. {verdict.explain()} Say why it is realistic this time."}
        )

    @property
    def short(self) -> str:
        return "Sooner than the estimate: say why it is realistic this time."


def estimate_for(category: Category, priority: int) -> tuple[timedelta, int, str]:
    """The guard's estimate: this category and priority, else the category, else its default target."""
    minimum = settings.PROMISE_ESTIMATE_MIN_SAMPLE
    rows = {
        row.priority: row
        for row in Estimate.objects.filter(category=category, priority__in=[priority, Estimate.ANY_PRIORITY])
    }
    for key, basis in ((priority, "category and priority"), (Estimate.ANY_PRIORITY, "category")):
        row = rows.get(key)
        if row is not None and row.sample_size >= minimum:
            return row.duration, row.sample_size, basis
    return category.default_target, 0, "default target"


def judge(ticket: Ticket, *, due_at: datetime, by: Any, now: datetime) -> Verdict:
    """The verdict on promising ``due_at`` for this ticket, as rep ``by``, at ``now``."""
    estimate, sample_size, basis = estimate_for(ticket.category, ticket.priority)
    load = (
        Promise.objects.filter(made_by=by, outcome=Promise.Outcome.PENDING, due_at__lt=due_at)
        .exclude(ticket=ticket)
        .count()
    )
    earliest = now + estimate
    return Verdict(
        estimate=estimate,
        sample_size=sample_size,
        basis=basis,
        load=load,
        earliest_realistic=earliest,
        sooner_than_estimate=due_at < earliest,
    )


def humanize_duration(duration: timedelta) -> str:
    """'2 h 15 min', '3 days 4 h', '45 min': how people say durations."""
    minutes = round(duration.total_seconds() / 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if hours:
        parts.append(f"{hours} h")
    if minutes and not days:
        parts.append(f"{minutes} min")
    return " ".join(parts) or "less than a minute"


# --- Refreshing the estimates ------------------------------------------------------------------


def _resolution_seconds_by_group(since: datetime, fraction: float) -> dict[tuple[int, int], tuple[float, int]]:
    """{(category, priority): (percentile seconds, count)}, priority 0 being the whole category."""
    resolved = Ticket.objects.filter(resolved_at__gte=since, resolved_at__isnull=False)
    took = Seconds(ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField()))
    result: dict[tuple[int, int], tuple[float, int]] = {}
    for group_by in (("category_id", "priority"), ("category_id",)):
        rows = resolved.values(*group_by).annotate(p=Percentile(took, fraction), n=models.Count("id"))
        for row in rows:
            result[(row["category_id"], row.get("priority", Estimate.ANY_PRIORITY))] = (row["p"], row["n"])
    return result


def refresh_estimates(*, now: datetime) -> int:
    """Recompute every (category, priority) estimate from the look-back window; returns rows written."""
    fraction = settings.PROMISE_ESTIMATE_PERCENTILE
    since = now - timedelta(days=settings.PROMISE_ESTIMATE_LOOKBACK_DAYS)
    figures = _resolution_seconds_by_group(since, fraction)
    rows = [
        Estimate(
            category_id=category_id,
            priority=priority,
            duration=timedelta(seconds=max(60.0, seconds)),
            sample_size=count,
            percentile=fraction,
            computed_at=now,
        )
        for (category_id, priority), (seconds, count) in figures.items()
    ]
    with transaction.atomic():
        Estimate.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["category", "priority"],
            update_fields=["duration", "sample_size", "percentile", "computed_at"],
        )
        # Groups with no resolved tickets left in the window fall back to coarser figures.
        Estimate.objects.exclude(computed_at=now).delete()
    return len(rows)
