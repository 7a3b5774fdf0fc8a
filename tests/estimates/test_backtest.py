"""The backtest on a small synthetic log: a steady desk replayed through the estimator keeps about 80 % of its
promises at each moment, promises only what production could have, and reports it in every form."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from tickets.business_time import Hours, weekly
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


# --- in business time ------------------------------------------------------------------------------------------

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = Hours(BERLIN, weekly([(time(9), time(17))]))  # Monday to Friday, nine to five


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=BERLIN)  # 7 December 2026 is a Monday


@pytest.mark.parametrize(
    ("opened", "resolved", "waited", "kept"),
    [
        # Due at 17:00 and resolved then: kept.
        (berlin(10, 16), berlin(10, 17), 0, True),
        # Due at 17:00, resolved at 20:00 while the desk was closed: late, though no open time went by.
        (berlin(9, 16), berlin(9, 20), 0, False),
        # Opened on a Saturday: the hour runs from Monday's opening, due at 10:00.
        (berlin(12, 10), berlin(14, 9, 45), 0, True),
        # Opened on Friday at 16:30: due on Monday at 09:30, so 09:15 is in time (65 hours later by the clock).
        (berlin(11, 16, 30), berlin(14, 9, 15), 0, True),
        (berlin(11, 16, 30), berlin(14, 9, 45), 0, False),
        # 19 hours, 3 of them open, 15.2 of them waiting: 2.4 open hours of waiting move it to 11:24.
        (berlin(15, 16), berlin(16, 11), 15.2, True),
        # 9.5 hours of waiting are 1.5 open hours: due at 10:30.
        (berlin(15, 16), berlin(16, 11), 9.5, False),
    ],
)
def test_in_business_time_a_promise_is_due_when_its_open_hours_have_passed(opened, resolved, waited, kept):
    log = [Source(opened, resolved, "normal", "Billing", timedelta(hours=waited))]

    # One ticket: too few for a curve, so it is promised the default target, 1 hour.
    result = replay(log, policy=Policy(), every=900, hours=OFFICE, default_target=HOUR, previous_rule=False)

    at_opening = [p for p in result.promises if p.moment == "at_opening"]
    assert [(p.made_at, p.promised, p.kept) for p in at_opening] == [(opened.timestamp(), HOUR, kept)]


def test_in_business_time_the_verdicts_are_those_of_the_calendars_due_times(log):
    hours = Hours(BERLIN, weekly([(time(8), time(12)), (time(13), time(18))]), {date(2026, 4, 6): ()})
    result = replay(log, policy=Policy(), every=3600, hours=hours, warmup_days=28, previous_rule=False)
    by_opening, end = {row.opened_at.timestamp(): row for row in log}, datetime.fromtimestamp(log_end(log), UTC)
    checked = 0

    for promise in counted(result.promises)[::7]:
        row = by_opening[promise.made_at - AFTER[promise.moment]]
        made = datetime.fromtimestamp(promise.made_at, UTC)
        if row.resolved_at is None:  # still open at the log's end: counted only when its promise fell due in it
            assert promise.kept is False
            assert hours.add(made, timedelta(seconds=promise.promised)) <= end
            continue
        elapsed = (row.resolved_at - row.opened_at).total_seconds()
        share = hours.between(row.opened_at, row.resolved_at).total_seconds() / elapsed
        due = hours.add(made, timedelta(seconds=promise.promised + row.waited.total_seconds() * share))
        if abs((row.resolved_at - due).total_seconds()) > 1e-3:  # not on the due time itself, within rounding
            assert promise.kept == (row.resolved_at <= due)
            checked += 1
    assert checked > 300


def test_around_the_clock_a_replay_in_business_time_is_the_replay_in_elapsed_time(log, replayed):
    again = replay(log, policy=Policy(), every=900, warmup_days=28, hours=Hours.around_the_clock(BERLIN))

    assert again.promises == replayed.promises
    assert again.previous == replayed.previous
