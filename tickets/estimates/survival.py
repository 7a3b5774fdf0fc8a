"""Kaplan-Meier, with tickets still open counted as censored and with late entry, and the time still to run.

A few lines of numpy rather than a statistics package: the estimator needs only the product-limit curve
and one quantile of it, and it runs thousands of times in a backtest, where a data-frame library's
overhead per call would cost more than the sums themselves (docs/estimates.md says more).

Each ticket is a spell of *active* time (waiting on the customer left out), seen from ``entry`` (the age
at which the window first saw it: 0 for a ticket opened inside the window) to ``exit`` (its age when it
was resolved, or its age now if still open), with ``event`` true if it was resolved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Survival:
    """The product-limit curve: ``survival[i]`` is the share still open just after ``times[i]``."""

    times: Floats  # the ages at which tickets were resolved, rising
    survival: Floats
    entry: Floats  # sorted, to count the tickets seen at an age
    exit: Floats  # sorted

    def at(self, age: float) -> float:
        """The share of tickets still open at ``age``."""
        i = int(np.searchsorted(self.times, age, side="right"))
        return 1.0 if i == 0 else float(self.survival[i - 1])

    def seen_at(self, age: float) -> int:
        """How many tickets the window saw open at ``age`` (entered before it, not resolved before it)."""
        return int(np.searchsorted(self.entry, age, side="right") - np.searchsorted(self.exit, age, side="left"))

    def remaining(self, age: float, fraction: float) -> float | None:
        """The time still to run within which ``fraction`` of the tickets still open at ``age`` are
        resolved; None when the history cannot say (too few of them were seen that long)."""
        target = (1.0 - fraction) * self.at(age)
        later = int(np.searchsorted(self.times, age, side="right"))
        reached = np.flatnonzero(self.survival[later:] <= target + 1e-12)
        if reached.size:
            return float(self.times[later + reached[0]] - age)
        return self._beyond(age, target)

    def _beyond(self, age: float, target: float) -> float | None:
        """Past the last resolution the window saw (a young desk, a slow group): the curve goes on at the
        rate it fell over the second half of what was seen (a constant hazard), rather than pretending the
        slow tickets still open will never close or falling back to a guess."""
        if self.times.size == 0 or self.times[-1] <= 0:
            return None
        last, still_open = float(self.times[-1]), float(self.survival[-1])
        halfway = self.at(last / 2)
        if still_open <= 0 or halfway <= still_open:
            return None
        hazard = math.log(halfway / still_open) / (last / 2)
        return max(last - age, 0.0) + math.log(still_open / target) / hazard


def kaplan_meier(entry: Floats, exit: Floats, event: Bools) -> Survival:
    """The Kaplan-Meier estimate with late entry: at each age where tickets were resolved, the share of
    those at risk then (entered before, not yet left) that were resolved."""
    entry_sorted, exit_sorted = np.sort(entry), np.sort(exit)
    times, resolved = np.unique(exit[event], return_counts=True)
    at_risk = np.searchsorted(entry_sorted, times, side="left") - np.searchsorted(exit_sorted, times, side="left")
    survival = np.cumprod(1.0 - resolved / np.maximum(at_risk, 1))
    return Survival(times=times, survival=survival, entry=entry_sorted, exit=exit_sorted)
