"""Promises made and due across daylight-saving changes flag at the right instant, in real time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tickets import services
from tickets.models import PromiseState
from tickets.promise_rules import aware_from_local
from tickets.sweep import sweep

pytestmark = pytest.mark.django_db

SECOND = timedelta(seconds=1)

# (zone, made at (local), due at (local), which of a repeated hour, real span)
CROSSINGS = [
    # Spring forward: 00:30 -> 03:30 on the clock is 2 h of real time (London, 28 March 2027).
    ("Europe/London", datetime(2027, 3, 28, 0, 30), datetime(2027, 3, 28, 3, 30), None, timedelta(hours=2)),
    # Fall back: 00:30 BST -> the second 01:30 (GMT) is 2 h of real time (London, 31 October 2027).
    ("Europe/London", datetime(2027, 10, 31, 0, 30), datetime(2027, 10, 31, 1, 30), 1, timedelta(hours=2)),
    # New York: 01:00 -> 04:00 across the spring gap is 2 h (14 March 2027).
    ("America/New_York", datetime(2027, 3, 14, 1, 0), datetime(2027, 3, 14, 4, 0), None, timedelta(hours=2)),
    # New York: 00:45 -> the first 01:45 (EDT) is 1 h; the second would be 2 h (7 November 2027).
    ("America/New_York", datetime(2027, 11, 7, 0, 45), datetime(2027, 11, 7, 1, 45), 0, timedelta(hours=1)),
    ("America/New_York", datetime(2027, 11, 7, 0, 45), datetime(2027, 11, 7, 1, 45), 1, timedelta(hours=2)),
]


@pytest.mark.parametrize(("zone", "made_local", "due_local", "fold", "span"), CROSSINGS)
def test_a_promise_across_a_clock_change_flags_at_the_right_instant(
    ticket, alice, zone, made_local, due_local, fold, span
):
    tz = ZoneInfo(zone)
    made = aware_from_local(made_local, tz)
    due = aware_from_local(due_local, tz, fold=fold)
    assert due - made == span  # real time, whatever the wall clock did

    services.make_promise(ticket, due_at=due, by=alice, words="Within the hour.", reason="Known fix.", now=made)
    warn = due - max(timedelta(minutes=30), span * 0.2)
    assert ticket.promise_warn_at == warn and warn.tzinfo == UTC

    sweep(now=warn - SECOND)
    ticket.refresh_from_db()
    assert ticket.promise_state == PromiseState.ON_TRACK

    sweep(now=warn)
    ticket.refresh_from_db()
    assert ticket.promise_state == PromiseState.AT_RISK

    sweep(now=due - SECOND)
    ticket.refresh_from_db()
    assert ticket.promise_state == PromiseState.AT_RISK

    sweep(now=due)
    ticket.refresh_from_db()
    assert ticket.promise_state == PromiseState.BREACHED
