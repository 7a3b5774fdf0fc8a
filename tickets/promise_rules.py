"""The promise engine's rules: warning windows, promise states, the overpromise guard, local times.

Pure functions over values (plus the guard's one indexed read of the estimates), so the UI,
the API, the services and the sweep all judge a promise with the same code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError

from tickets.business_time import Hours
from tickets.estimates.estimator import Curve
from tickets.estimates.models import Estimate, EstimateBasis
from tickets.models import Category, Promise, PromiseOutcome, PromiseState, Ticket

# --- Windows and states -----------------------------------------------------------------------

# A promise whose clock runs: the sweep still has to warn about it or break it.
RUNNING = (PromiseState.ON_TRACK, PromiseState.AT_RISK)


def warning_window(category: Category, span: timedelta) -> timedelta:
    """max(WARN_MIN, WARN_FRACTION x span), with the category's overrides where set."""
    warn_min = category.warn_min if category.warn_min is not None else settings.PROMISE_WARN_MIN
    fraction = category.warn_fraction if category.warn_fraction is not None else settings.PROMISE_WARN_FRACTION
    return min(span, max(warn_min, span * fraction))


def clock_of(ticket: Ticket) -> Hours:
    """The hours a ticket's promise runs in: its team's calendar where its category runs in business time,
    else around the clock (one read of the calendar's closed days when it is a calendar's)."""
    if ticket.category.business_hours:
        return ticket.team.calendar.hours()
    return AROUND_THE_CLOCK


AROUND_THE_CLOCK = Hours.around_the_clock()


def warn_time(category: Category, hours: Hours, *, made_at: datetime, due_at: datetime) -> datetime:
    """When a promise made at ``made_at`` for ``due_at`` enters its warning window: the window is measured in
    ``hours``' open time before the due time, so a warning never starts while the desk is closed. A promise
    with no open time before it is due (made on Friday evening for Saturday) is warned in elapsed time."""
    span = hours.between(made_at, due_at)
    if not span:
        return due_at - warning_window(category, due_at - made_at)
    return hours.add(made_at, span - warning_window(category, span))


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

SIMILAR: dict[str, str] = {
    EstimateBasis.CATEGORY_PRIORITY: "similar tickets",
    EstimateBasis.CATEGORY: "tickets of this category",
    EstimateBasis.PRIORITY: "tickets of this priority",
    EstimateBasis.DESK: "tickets on this desk",
}


def share_in_words(percentile: float) -> str:
    """0.8 -> '8 in 10', 0.95 -> '95 in 100': how the guard says its percentile."""
    if round(percentile * 100) % 10 == 0:
        return f"{round(percentile * 10)} in 10"
    return f"{round(percentile * 100)} in 100"


@dataclass(frozen=True)
class Estimated:
    """What history says of a ticket of some category and priority at some age (``estimate_for``)."""

    remaining: timedelta  # the percentile of the time still to run
    sample_size: int  # tickets the history saw open at that age (0: the default target)
    basis: str  # an EstimateBasis value
    percentile: float
    age: timedelta  # the ticket's age (active time: waiting left out)
    read_at: timedelta | None = None  # the age the history answered for, when less (too few tickets older)

    def explain(self) -> str:
        """'8 in 10 similar tickets still open after 1 day were solved within another 3 days (from 412).'"""
        if self.basis == EstimateBasis.DEFAULT:
            return f"Too little history yet: the category's target is {humanize_duration(self.remaining)}."
        share = share_in_words(self.percentile)
        similar = SIMILAR.get(self.basis, "similar tickets")
        tickets = f"{self.sample_size} ticket{'s' if self.sample_size != 1 else ''}"
        at = self.age if self.read_at is None else min(self.age, self.read_at)
        if at < timedelta(minutes=15):
            return f"{share} {similar} were solved within {humanize_duration(self.remaining)} (from {tickets})."
        older = (
            f"; this one has lasted {humanize_duration(self.age)}, longer than the history holds enough tickets for"
            if self.age - at > timedelta(minutes=1)
            else ""
        )
        return (
            f"{share} {similar} still open after {humanize_duration(at)} were solved within another "
            f"{humanize_duration(self.remaining)} (from {tickets}{older})."
        )


@dataclass(frozen=True)
class Verdict:
    """What history says about a proposed due time, for the rep (and the API client) to see."""

    estimated: Estimated
    load: int  # the rep's pending promises due before the proposed one
    earliest_realistic: datetime
    sooner_than_estimate: bool

    @property
    def estimate(self) -> timedelta:
        """The time still to run that the guard suggests."""
        return self.estimated.remaining

    @property
    def sample_size(self) -> int:
        return self.estimated.sample_size

    @property
    def basis(self) -> str:
        return self.estimated.basis

    def explain(self) -> str:
        load = f"{self.load} of your promises {'is' if self.load == 1 else 'are'} due before this one."
        return f"{self.estimated.explain()} {load}"


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


def estimate_for(category: Category, priority: int, *, age: timedelta = timedelta(0)) -> Estimated:
    """The guard's estimate for a ticket of this category and priority that has lasted ``age``: the curve the
    last refresh chose for the pair (one read by its unique key), else the category's default target."""
    row = Estimate.objects.filter(category=category, priority=priority).first()
    if row is None or not row.curve:
        return Estimated(
            remaining=category.default_target,
            sample_size=0,
            basis=EstimateBasis.DEFAULT,
            percentile=settings.PROMISE_ESTIMATE_PERCENTILE,
            age=age,
        )
    point = Curve.from_json(row.basis, row.curve, sample_size=row.sample_size, window_days=row.window_days).at(
        age.total_seconds()
    )
    return Estimated(
        remaining=timedelta(seconds=round(point.remaining)),
        sample_size=point.seen,
        basis=row.basis,
        percentile=row.percentile,
        age=age,
        read_at=timedelta(seconds=round(point.age)),
    )


def active_age(ticket: Ticket, *, now: datetime) -> timedelta:
    """How long the ticket has lasted, its waits on the customer left out (as the estimates count it)."""
    if ticket.created_at is None:
        return timedelta(0)
    waiting = ticket.waited + (now - ticket.paused_at if ticket.paused_at else timedelta(0))
    return max(now - ticket.created_at - waiting, timedelta(0))


def judge(ticket: Ticket, *, due_at: datetime, by: Any, now: datetime) -> Verdict:
    """The verdict on promising ``due_at`` for this ticket, as rep ``by``, at ``now``."""
    estimated = estimate_for(ticket.category, ticket.priority, age=active_age(ticket, now=now))
    load = (
        Promise.objects.filter(made_by=by, outcome=PromiseOutcome.PENDING, due_at__lt=due_at)
        .exclude(ticket=ticket)
        .count()
    )
    earliest = now + estimated.remaining
    return Verdict(estimated=estimated, load=load, earliest_realistic=earliest, sooner_than_estimate=due_at < earliest)


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
