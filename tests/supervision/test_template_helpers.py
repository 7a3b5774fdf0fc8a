"""How the supervisor pages say rates, durations and slack."""

from __future__ import annotations

import pytest

from tickets.templatetags.supervision import percent, seconds_ago, slack, stars


@pytest.mark.parametrize(
    ("rate", "shown"),
    [(None, "—"), (0.0, "0%"), (0.5, "50%"), (0.625, "63%"), (0.125, "13%"), (4 / 7, "57%"), (1, "100%")],
)
def test_rates_round_halves_up_and_no_rate_is_a_dash(rate, shown):
    assert percent(rate) == shown


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (None, "—"),
        (30, "on time"),
        (-59, "on time"),
        (5400, "1 h 30 min early"),
        (-3600, "1 h late"),
        (-90000, "1 day 1 h late"),
    ],
)
def test_slack_says_early_or_late(seconds, shown):
    assert slack(seconds) == shown


@pytest.mark.parametrize(
    ("seconds", "shown"), [(None, "never"), (12.4, "12 s ago"), (600, "10 min ago"), (-3, "0 s ago")]
)
def test_the_heartbeat_age(seconds, shown):
    assert seconds_ago(seconds) == shown


def test_ratings_out_of_five():
    assert (stars(None), stars(11 / 3)) == ("—", "3.7 / 5")
