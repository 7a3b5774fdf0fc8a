"""The backtest on a small synthetic log: a steady desk replayed through the estimator keeps about 80 % of its
promises at each moment, promises only what production could have, and reports it in every form."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from tickets.estimates import report
from tickets.estimates.backtest import MOMENTS, PREVIOUS_RULE, Promised, Replay, Source, counted, replay
from tickets.estimates.estimator import DAY, HOUR, Policy

START = datetime(2026, 1, 5, tzinfo=UTC)
DAYS = 120
# Median active hours of each group; lognormal with sigma 1, so Hardware tickets often last past a day.
MEDIAN_HOURS = {
    ("Billing", "normal"): 3,
    ("Billing", "urgent"): 1.5,
    ("Hardware", "normal"): 40,
    ("Hardware", "urgent"): 16,
}
FORGOTTEN = START + timedelta(days=100)  # a ticket opened then and never resolved
AFTER = dict(MOMENTS)


def synthetic_log(seed: int, *, tickets: int = 1500) -> list[Source]:
    """``tickets`` opened at random over 120 days (at distinct whole seconds), a fifth of them also waiting
    on the customer (exponential, mean 4 h); one whose resolution falls after the 120 days is still open in
    the log."""
    rng = np.random.default_rng(seed)
    groups = list(MEDIAN_HOURS)
    end = DAYS * DAY
    rows = []
    for opened, group in zip(
        np.sort(rng.choice(int(end), tickets, replace=False)), rng.integers(0, len(groups), tickets), strict=True
    ):
        category, priority = groups[group]
        active = round(rng.lognormal(math.log(MEDIAN_HOURS[category, priority] * HOUR), 1.0))
        waited = round(rng.exponential(4 * HOUR)) if rng.random() < 0.2 else 0
        resolved = int(opened) + active + waited
        rows.append(
            Source(
                opened_at=START + timedelta(seconds=int(opened)),
                resolved_at=START + timedelta(seconds=resolved) if resolved < end else None,
                priority=priority,
                category=category,
                waited=timedelta(seconds=waited),
            )
        )
    rows.append(Source(FORGOTTEN, None, "normal", "Billing", timedelta(0)))
    return rows


@pytest.fixture(scope="module")
def log() -> list[Source]:
    return synthetic_log(18)


@pytest.fixture(scope="module")
def replayed(log) -> Replay:
    return replay(log, policy=Policy(), every=900, warmup_days=28)


def log_end(log: list[Source]) -> float:
    return max(max(row.opened_at, row.resolved_at or row.opened_at) for row in log).timestamp()


@pytest.fixture(scope="module")
def ticket_of(log) -> Callable[[Promised], Source]:
    """The ticket a promise was made for (opening times are whole seconds, so they tell tickets apart)."""
    by_opening = {row.opened_at.timestamp(): row for row in log}
    assert len(by_opening) == len(log)
    return lambda promise: by_opening[promise.made_at - AFTER[promise.moment]]


@pytest.mark.parametrize("moment", ["at_opening", "at_1_hour", "at_1_day"])
def test_a_steady_desk_keeps_about_80_percent_of_its_promises_at_each_moment(replayed, moment):
    # ~1,140 promises at opening, ~1,030 at +1 h, ~310 at +1 day. Over 30 seeds the kept share varied by 0.6,
    # 0.7 and 1.4 points (standard deviation) around 80: 6 points is 4 of the widest.
    figures = report.figures(replayed, target=0.8)

    assert figures[moment]["promises"] > 250
    assert figures[moment]["kept_pct"] == pytest.approx(80, abs=6)


def test_later_promises_are_made_for_the_tickets_still_open_then(log, replayed, ticket_of):
    start, end = replayed.first_counted, log_end(log)

    for moment, after in MOMENTS:
        made = sorted(p.made_at for p in replayed.promises if p.moment == moment)
        still_open = sorted(
            row.opened_at.timestamp() + after
            for row in log
            if start <= row.opened_at.timestamp() + after < end
            and (row.resolved_at is None or row.resolved_at.timestamp() > row.opened_at.timestamp() + after)
        )
        assert made == still_open, moment
    for promise in replayed.promises:
        resolved_at = ticket_of(promise).resolved_at
        assert resolved_at is None or resolved_at.timestamp() > promise.made_at


def test_nothing_is_promised_in_the_warm_up(log, replayed):
    first_opened = min(row.opened_at for row in log)

    assert replayed.first_counted == (first_opened + timedelta(days=28)).timestamp()
    assert min(p.made_at for p in replayed.promises) >= replayed.first_counted
    assert replayed.tickets == len(log)


def test_nothing_is_promised_before_counted_from():
    log = synthetic_log(19, tickets=400)
    counted_from = START + timedelta(days=100)

    result = replay(log, policy=Policy(), every=900, warmup_days=28, counted_from=counted_from, previous_rule=False)

    assert result.first_counted == counted_from.timestamp()
    assert result.promises
    assert min(p.made_at for p in result.promises) >= counted_from.timestamp()
    assert result.previous == []


def test_a_ticket_open_at_the_end_counts_only_if_its_promise_fell_due_in_the_log(log, replayed, ticket_of):
    end = log_end(log)
    open_at_end = [p for p in replayed.promises if ticket_of(p).resolved_at is None]

    untold = [p for p in open_at_end if p.made_at + p.promised > end]
    broken = [p for p in open_at_end if p.made_at + p.promised <= end]

    assert untold
    assert all(p.kept is None for p in untold)
    assert any(p.made_at == FORGOTTEN.timestamp() for p in broken)
    assert all(p.kept is False for p in broken)
    assert counted(replayed.promises) == [p for p in replayed.promises if p.kept is not None]
    assert all(p.kept is not None for p in replayed.promises if ticket_of(p).resolved_at is not None)


def test_the_previous_rule_promises_at_the_same_moments_ignoring_age(replayed):
    assert {p.basis for p in replayed.previous} == {PREVIOUS_RULE}
    assert [(p.moment, p.made_at) for p in replayed.previous] == [(p.moment, p.made_at) for p in replayed.promises]
    # The first rule knew nothing of a ticket's age or group: one promise per refresh, whatever the moment.
    by_refresh: dict[int, set[float]] = {}
    for p in replayed.previous:
        by_refresh.setdefault(int(p.made_at // 900), set()).add(p.promised)
    assert all(len(promised) == 1 for promised in by_refresh.values())
    assert {p.moment for p in replayed.previous} == {"at_opening", "at_1_hour", "at_1_day"}


def test_the_report_gives_each_moment_priority_category_week_and_fallback(replayed):
    figures = report.figures(replayed, target=0.8)

    for moment in ("at_opening", "at_1_hour", "at_1_day"):
        assert set(figures[moment]) == {"kept_pct", "promises", "median_promise_hours"}
    assert set(figures["by_priority"]) == {"normal", "urgent"}
    assert set(figures["by_category"]) == {"Billing", "Hardware"}
    for group in (*figures["by_priority"].values(), *figures["by_category"].values(), *figures["by_week"].values()):
        assert set(group) == {"kept_pct", "promises"}
    assert sum(group["promises"] for group in figures["by_priority"].values()) == figures["promises"]
    assert sum(group["promises"] for group in figures["by_week"].values()) == figures["promises"]
    assert figures["promises"] == len(counted(replayed.promises))
    assert set(figures["fallbacks"]) <= {"category_priority", "category", "priority", "desk", "default"}
    assert sum(group["share_pct"] for group in figures["fallbacks"].values()) == pytest.approx(100, abs=0.5)
    assert set(figures["previous_rule"]["at_opening"]) == {"kept_pct", "promises", "median_promise_hours"}


def test_the_report_text_names_each_moment(replayed):
    text = report.text(report.figures(replayed, target=0.8))

    for label in ("at opening", "at 1 hour", "at 1 day", "at opening, first rule", "By priority", "By week"):
        assert label in text


def test_the_chart_is_well_formed_svg(replayed):
    figures = report.figures(replayed, target=0.8)

    svg = ET.fromstring(report.chart_svg(figures))  # noqa: S314 (our own output, not untrusted input)

    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert len(svg.findall("{http://www.w3.org/2000/svg}circle")) == len(figures["by_week"])
