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


@dataclass(frozen=True)
class Clock:
    """The time a ticket's promise runs in: the open hours, and how to say them and durations in them."""

    hours: Hours
    words: str = ""  # the guard's short words, 'Mon-Fri 9-17'; "" around the clock
    customer_words: str = ""  # 'Monday to Friday, 9 to 17, Berlin time'; "" around the clock
    day: timedelta = timedelta(days=1)  # a usual open day, so 16 business hours of 9 to 17 are 2 business days

    @property
    def in_business_time(self) -> bool:
        return bool(self.words)

    def says(self, duration: timedelta) -> str:
        """A duration in this clock's time: '3 h' around the clock; '3 h of working time' or 'about 2 business
        days' (halves rounded) in business time."""
        if not self.in_business_time:
            return humanize_duration(duration)
        if duration < self.day:
            return f"{humanize_duration(duration)} of working time"
        days = round(duration / self.day * 2) / 2
        return f"about {days:g} business day{'' if days == 1 else 's'}"


AROUND_THE_CLOCK = Clock(Hours.around_the_clock())


def clock_of(ticket: Ticket) -> Clock:
    """The time a ticket's promise runs in: where its category runs in business time, its category's calendar
    (its path's first team's: one clock from the ticket's opening to its resolution, whoever has it, and the
    clock its estimates were measured on), else around the clock, and then nothing is read."""
    if not ticket.category.business_hours:
        return AROUND_THE_CLOCK
    calendar = ticket.category.calendar()
    if calendar.is_around_the_clock:
        return AROUND_THE_CLOCK
    return Clock(calendar.hours(), calendar.in_words(short=True), calendar.in_words(), calendar.usual_day())


def warn_time(
    category: Category, clock: Clock, *, made_at: datetime, due_at: datetime, paused: timedelta = timedelta(0)
) -> datetime:
    """When a promise made at ``made_at`` for ``due_at`` enters its warning window.

    1. The window is measured on the promise's span in the clock's open time, the time ``paused`` waiting on
       the customer left out (a resumed promise's due time moved by it): the same window whenever it is asked.
    2. It ends at the due time, counted back in open time, so a warning never starts while the desk is closed:
       one that would start as the desk closes starts when it opens again.
    3. A promise with no open time before it is due (made on Friday evening for Saturday) is warned in elapsed
       time.
    """
    hours = clock.hours
    total = hours.between(made_at, due_at)
    if not total:
        return due_at - warning_window(category, due_at - made_at)
    window = warning_window(category, max(total - paused, timedelta(0)))
    return min(hours.next_open(hours.add(made_at, total - window)), due_at)


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
    clock: Clock = AROUND_THE_CLOCK  # the time the durations are in: the category's business time, if it runs in it

    def explain(self) -> str:
        """'8 in 10 similar tickets still open after 1 day were solved within another 3 days (from 412).'"""
        says, works = self.clock.says, f" (we work {self.clock.words})" if self.clock.in_business_time else ""
        if self.basis == EstimateBasis.DEFAULT:
            return f"Too little history yet: the category's target is {says(self.remaining)}{works}."
        share = share_in_words(self.percentile)
        similar = SIMILAR.get(self.basis, "similar tickets")
        tickets = f"{self.sample_size} ticket{'s' if self.sample_size != 1 else ''}"
        at = self.age if self.read_at is None else min(self.age, self.read_at)
        if at < timedelta(minutes=15):
            return f"{share} {similar} were solved within {says(self.remaining)}{works} (from {tickets})."
        older = (
            f"; this one has lasted {says(self.age)}, longer than the history holds enough tickets for"
            if self.age - at > timedelta(minutes=1)
            else ""
        )
        return (
            f"{share} {similar} still open after {says(at)} were solved within another "
            f"{says(self.remaining)}{works} (from {tickets}{older})."
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


def estimate_for(
    category: Category, priority: int, *, age: timedelta = timedelta(0), clock: Clock = AROUND_THE_CLOCK
) -> Estimated:
    """The guard's estimate for a ticket of this category and priority that has lasted ``age``: the curve the
    last refresh chose for the pair (one read by its unique key), else the category's default target. Both are
    in the ``clock``'s time: the category's business time when it runs in business time."""
    row = Estimate.objects.filter(category=category, priority=priority).first()
    if row is None or not row.curve:
        return Estimated(
            remaining=category.default_target,
            sample_size=0,
            basis=EstimateBasis.DEFAULT,
            percentile=settings.PROMISE_ESTIMATE_PERCENTILE,
            age=age,
            clock=clock,
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
        clock=clock,
    )


def active_age(ticket: Ticket, *, now: datetime, clock: Clock = AROUND_THE_CLOCK) -> timedelta:
    """How long the ticket has lasted, its waits on the customer left out (as the estimates count it), in the
    ``clock``'s time. In business time the waits (kept as elapsed time) count at the share of the ticket's
    life the desk was open, as the estimates count them."""
    if ticket.created_at is None:
        return timedelta(0)
    waiting = ticket.waited + (now - ticket.paused_at if ticket.paused_at else timedelta(0))
    elapsed = now - ticket.created_at
    active = max(elapsed - waiting, timedelta(0))
    if not clock.in_business_time or elapsed <= timedelta(0):
        return active
    return clock.hours.between(ticket.created_at, now) * (active / elapsed)


def guard_reading(ticket: Ticket, *, now: datetime) -> tuple[Estimated, datetime]:
    """What the guard reads for this ticket at ``now``, in its clock: the estimate at its age, and the earliest
    realistic due time (the estimate added in open time)."""
    clock = clock_of(ticket)
    estimated = estimate_for(
        ticket.category, ticket.priority, age=active_age(ticket, now=now, clock=clock), clock=clock
    )
    return estimated, clock.hours.add(now, estimated.remaining)


def judge(ticket: Ticket, *, due_at: datetime, by: Any, now: datetime) -> Verdict:
    """The verdict on promising ``due_at`` for this ticket, as rep ``by``, at ``now``."""
    estimated, earliest = guard_reading(ticket, now=now)
    load = (
        Promise.objects.filter(made_by=by, outcome=PromiseOutcome.PENDING, due_at__lt=due_at)
        .exclude(ticket=ticket)
        .count()
    )
    return Verdict(estimated=estimated, load=load, earliest_realistic=earliest, sooner_than_estimate=due_at < earliest)


@dataclass(frozen=True)
class QuickPick:
    """A due time the promise form offers in one click, beside the exact time."""

    label: str
    due_at: datetime


def quick_picks(ticket: Ticket, *, now: datetime) -> list[QuickPick]:
    """The promise form's quick picks, in the time the ticket's promise runs in: in 2 (business) hours, the end
    of the next business day (this time tomorrow around the clock), and the guard's estimate. Each is rounded up
    to the minute the form shows; picks past the horizon are left out."""
    estimated, earliest = guard_reading(ticket, now=now)
    clock, hours = estimated.clock, estimated.clock.hours
    if clock.in_business_time:
        picks = [
            QuickPick("In 2 business hours", hours.add(now, timedelta(hours=2))),
            QuickPick("End of the next business day", hours.end_of_next_open_day(now)),
        ]
    else:
        picks = [
            QuickPick("In 2 hours", now + timedelta(hours=2)),
            QuickPick("This time tomorrow", now + timedelta(days=1)),
        ]
    picks.append(QuickPick(f"The guard's estimate: {clock.says(estimated.remaining)}", earliest))
    horizon = now + timedelta(days=settings.PROMISE_MAX_HORIZON_DAYS)
    rounded = [QuickPick(pick.label, _up_to_the_minute(pick.due_at)) for pick in picks]
    return [pick for pick in rounded if now < pick.due_at <= horizon]


def _up_to_the_minute(at: datetime) -> datetime:
    whole = at.replace(second=0, microsecond=0)
    return whole if whole == at else whole + timedelta(minutes=1)


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
