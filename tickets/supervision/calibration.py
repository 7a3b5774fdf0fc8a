"""Is the overpromise guard calibrated? Of the promises made at or after its estimate, how often they were
kept, against the percentile it aimed at: for everyone, per team and per category.

What counts:
1. A promise *followed the guard* when an estimate was recorded (``estimate`` set: promises from before the
   guard have none) and it was not sooner than that (``overrode_estimate`` False). Those whose estimate was
   the category's default target (basis "default": too little history) have no percentile behind them:
   they are counted apart (``on_default``), never in the kept rate or the band.
2. The kept rate is kept / (kept + broken), over the settled ones: pending and changed promises have no
   outcome of their own.
3. The aim is the percentile each of those promises was made at (``estimate_percentile``, or the
   setting ``PROMISE_ESTIMATE_PERCENTILE`` for promises that did not record it), averaged: the kept rate to
   expect if the guard is right. A promise made later than the estimate only adds slack, so a group whose
   reps pad their promises may run above it.
4. A promise counts for the team that had the ticket when it was made (as in the figures) and for the
   ticket's category (as it is now), in the period it was made. Promises still running are left out, and
   the kept ones settle sooner than the broken ones (a breach waits for the due time), so in the last days
   of a period the kept ones are a little ahead.

The band (``Group.band``), a two-sided test of "the guard is right for this group":
- "too_few" below ``MIN_SETTLED`` (20) settled promises: too little to judge either way;
- "out_of_band" when the aim lies outside the 95 % Wilson score interval around the kept rate;
- "in_band" otherwise.

Why this rule: how far a kept rate strays by chance depends on how many promises it counts (at 80 %, the
standard error is 9 points for 20 promises, 2 for 400). A fixed margin of 10 points flags a calibrated group
of 20 one time in six, and misses a group of 400 really kept 70 % of the time against 80 % more often than
it catches it. The interval narrows as the evidence grows and flags a calibrated group about one time in
twenty whatever its size (3 to 6 % for 20 to 1,000 promises at 80 or 90 %). Wilson's interval, not the
textbook rate ± 1.96 standard errors, which shrinks to nothing at 0 or 100 % and is too narrow for small
groups.
The minimum keeps a handful of promises from raising an alarm; at 20 only a large drift shows (12 of 20
kept against 80 %, or all 20). With many groups, expect the odd false alarm: open its rows before acting.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.db.models import Count, F, FloatField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce

from tickets.estimates.models import EstimateBasis
from tickets.models import Promise, PromiseOutcome

MIN_SETTLED = 20  # settled promises a group needs before its kept rate is judged
CONFIDENCE = 0.95
_Z = 1.959963984540054  # the normal quantile for a two-sided 95 % interval

_KEPT, _BROKEN = Q(outcome=PromiseOutcome.KEPT), Q(outcome=PromiseOutcome.BROKEN)
_SETTLED = _KEPT | _BROKEN
_AT_OR_AFTER = Q(estimate__isnull=False, overrode_estimate=False)
_DEFAULT = Q(estimate_basis=EstimateBasis.DEFAULT)

# The promises the calibration counts, and those it leaves out: the drill-down's ``guard`` filter, so the
# rows behind a figure are the rows it counted.
GUARDS: dict[str, tuple[str, Q]] = {
    "followed": ("at or after the guard's estimate, settled", _AT_OR_AFTER & ~_DEFAULT & _SETTLED),
    "default": ("at or after the category's default target, settled", _AT_OR_AFTER & _DEFAULT & _SETTLED),
}
_FOLLOWED, _ON_DEFAULT = GUARDS["followed"][1], GUARDS["default"][1]

BANDS = {"in_band": "In band", "too_few": "Too few", "out_of_band": "Out of band"}


def wilson(kept: int, settled: int, *, z: float = _Z) -> tuple[float, float]:
    """The Wilson score interval around kept / settled (settled > 0)."""
    rate = kept / settled
    spread = z * z / settled
    centre = (rate + spread / 2) / (1 + spread)
    half = z * math.sqrt(rate * (1 - rate) / settled + spread / (4 * settled)) / (1 + spread)
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass
class Group:
    """Everyone (``scope`` ""), a team or a category: its settled promises that followed the guard."""

    scope: str
    key: int | None
    name: str
    kept: int = 0
    broken: int = 0
    aim_sum: float = 0.0  # the percentiles those promises were made at, added up
    on_default: int = 0  # settled at or after the category's default target: not counted

    @property
    def settled(self) -> int:
        return self.kept + self.broken

    @property
    def kept_rate(self) -> float | None:
        return self.kept / self.settled if self.settled else None

    @property
    def aim(self) -> float | None:
        return self.aim_sum / self.settled if self.settled else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return wilson(self.kept, self.settled) if self.settled else None

    @property
    def band(self) -> str:
        if self.settled < MIN_SETTLED or self.interval is None or self.aim is None:
            return "too_few"
        low, high = self.interval
        return "in_band" if low <= self.aim <= high else "out_of_band"

    @property
    def drift(self) -> str | None:
        """Out of band "below" (kept less often than the guard aims: its estimates are too short here) or
        "above" (kept more often: its estimates are longer than needed, or promises are padded)."""
        if self.band != "out_of_band" or self.kept_rate is None or self.aim is None:
            return None
        return "below" if self.kept_rate < self.aim else "above"

    def add(self, values: Mapping[str, Any]) -> None:
        for name in ("kept", "broken", "aim_sum", "on_default"):
            setattr(self, name, getattr(self, name) + (values[name] or 0))


@dataclass
class Calibration:
    total: Group
    teams: list[Group] = field(default_factory=list)
    categories: list[Group] = field(default_factory=list)

    min_settled = MIN_SETTLED
    confidence = CONFIDENCE

    def out_of_band(self) -> list[Group]:
        """The teams, then the categories, out of band."""
        return [group for group in (*self.teams, *self.categories) if group.band == "out_of_band"]

    def to_json(self) -> dict[str, Any]:
        return {
            "total": asdict(self.total),
            "teams": [asdict(group) for group in self.teams],
            "categories": [asdict(group) for group in self.categories],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Calibration:
        return cls(
            total=Group(**data["total"]),
            teams=[Group(**group) for group in data["teams"]],
            categories=[Group(**group) for group in data["categories"]],
        )


def calibrate(promises: QuerySet[Promise]) -> Calibration:
    """The calibration of ``promises`` (those made in a period): one query, grouped by team and category,
    added up here for everyone, each team and each category."""
    percentile = Coalesce(
        F("estimate_percentile"), Value(settings.PROMISE_ESTIMATE_PERCENTILE), output_field=FloatField()
    )
    rows = (
        promises.filter(_FOLLOWED | _ON_DEFAULT)
        .values(
            team_key=F("team_id"),
            team_name=F("team__name"),
            category_key=F("ticket__category_id"),
            category_name=F("ticket__category__name"),
        )
        .annotate(
            kept=Count("pk", filter=_FOLLOWED & _KEPT),
            broken=Count("pk", filter=_FOLLOWED & _BROKEN),
            aim_sum=Sum(percentile, filter=_FOLLOWED),
            on_default=Count("pk", filter=_ON_DEFAULT),
        )
        .order_by()
    )
    total = Group(scope="", key=None, name="Everyone")
    teams: dict[int, Group] = {}
    categories: dict[int, Group] = {}
    for values in rows:
        team = teams.setdefault(values["team_key"], Group("team", values["team_key"], values["team_name"]))
        category = categories.setdefault(
            values["category_key"], Group("category", values["category_key"], values["category_name"])
        )
        for group in (total, team, category):
            group.add(values)
    return Calibration(
        total=total,
        teams=sorted(teams.values(), key=lambda group: group.name.lower()),
        categories=sorted(categories.values(), key=lambda group: group.name.lower()),
    )


def narrow(rows: QuerySet[Any], *, guard: str = "", category: int | None = None) -> QuerySet[Any]:
    """A promise figure's rows, of those the calibration counts (``guard`` "followed") or leaves out
    ("default"), and of one category: the drill-down behind each calibration figure."""
    if guard:
        rows = rows.filter(GUARDS[guard][1])
    if category is not None:
        rows = rows.filter(ticket__category=category)
    return rows
