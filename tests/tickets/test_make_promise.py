"""Making, changing, pausing and settling promises, with the overpromise guard in the way of wishful thinking."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from tests.factories import TicketFactory, history_says
from tickets import services
from tickets.models import Estimate, Priority, Promise, PromiseState
from tickets.promise_rules import Overpromise, judge

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)


def promise(ticket, by, *, now, hours: float = 6, **extra):
    """Promise well within the category's 4 h default target unless told otherwise."""
    return services.make_promise(
        ticket, due_at=now + timedelta(hours=hours), by=by, words="Fixed by this afternoon.", now=now, **extra
    )


# --- Making a promise -------------------------------------------------------------------------


def test_a_first_promise_sets_the_tickets_clock(ticket, alice, now):
    made = promise(ticket, alice, now=now)

    assert (made.outcome, made.made_by, made.estimate, made.estimate_sample_size) == ("pending", alice, 4 * H, 0)
    assert ticket.promise_due_at == now + 6 * H
    assert ticket.promise_warn_at == now + 6 * H - timedelta(minutes=72)  # 20 % of 6 h
    assert (ticket.promise_state, ticket.next_check_at) == (PromiseState.ON_TRACK, ticket.promise_warn_at)
    entry = ticket.interactions.last()
    assert (entry.kind, entry.is_public, entry.body) == ("promise_made", True, "Fixed by this afternoon.")


def test_a_promise_inside_its_own_window_starts_at_risk(ticket, alice, now):
    promise(ticket, alice, now=now, hours=0.25, reason="Only a button to reset.")

    assert ticket.promise_state == PromiseState.AT_RISK
    assert ticket.next_check_at == ticket.promise_due_at


@pytest.mark.parametrize(
    ("hours", "message"),
    [(-1, "already passed"), (0, "already passed"), (24 * 31, "more than 30 days away")],
)
def test_an_impossible_time_is_refused_clearly(ticket, alice, now, hours, message):
    with pytest.raises(ValidationError, match=message):
        promise(ticket, alice, now=now, hours=hours, reason="x")
    assert not Promise.objects.exists()


def test_the_horizon_is_configurable(ticket, alice, now, settings):
    settings.PROMISE_MAX_HORIZON_DAYS = 2
    with pytest.raises(ValidationError, match="more than 2 days away"):
        promise(ticket, alice, now=now, hours=49)


def test_a_time_without_a_zone_is_refused(ticket, alice, now):
    with pytest.raises(ValidationError, match="with its time zone"):
        services.make_promise(ticket, due_at=(now + 6 * H).replace(tzinfo=None), by=alice, words="Soon", now=now)


def test_a_promise_needs_its_words(ticket, alice, now):
    with pytest.raises(ValidationError, match="as you will say it"):
        services.make_promise(ticket, due_at=now + 6 * H, by=alice, words=" ", now=now)


def test_a_resolved_ticket_takes_no_promise(ticket, alice, now):
    services.resolve(ticket, by=alice, summary="Done.")
    with pytest.raises(ValidationError, match="reopen it first"):
        promise(ticket, alice, now=now)


# --- Changing a promise -----------------------------------------------------------------------


def test_changing_a_promise_needs_a_reason_and_supersedes_the_old_one(ticket, alice, now):
    first = promise(ticket, alice, now=now)
    with pytest.raises(ValidationError, match="Say why the promise changes"):
        promise(ticket, alice, now=now, hours=8)

    second = promise(ticket, alice, now=now + H, hours=8, change_reason="The supplier needs another day.")

    first.refresh_from_db()
    assert (first.outcome, first.settled_at) == ("superseded", now + H)
    assert (second.outcome, second.change_reason) == ("pending", "The supplier needs another day.")
    assert ticket.promise_due_at == now + 9 * H
    change = ticket.interactions.last()
    assert (change.kind, change.is_public) == ("promise_changed", True)
    assert change.data["change_reason"] == "The supplier needs another day."
    assert change.data["previous_due_at"] == first.due_at.isoformat()


# --- The overpromise guard --------------------------------------------------------------------


def test_promising_sooner_than_the_estimate_asks_why_with_the_numbers(ticket, alice, now):
    with pytest.raises(Overpromise) as refused:
        promise(ticket, alice, now=now, hours=1)

    verdict = refused.value.verdict
    assert (verdict.estimate, verdict.sample_size, verdict.basis) == (4 * H, 0, "default")
    assert verdict.sooner_than_estimate and verdict.earliest_realistic == now + 4 * H
    assert "reason" in refused.value.message_dict
    assert "the category's target is 4 h" in refused.value.message_dict["reason"][0]
    assert not Promise.objects.exists()


def test_a_reason_lets_the_rep_promise_sooner_and_is_kept(ticket, alice, now):
    made = promise(ticket, alice, now=now, hours=1, reason="The fix is already deployed; only a refund to issue.")

    assert made.overrode_estimate is True
    assert made.override_reason == "The fix is already deployed; only a refund to issue."


def test_a_reason_is_not_stored_when_the_promise_is_realistic(ticket, alice, now):
    made = promise(ticket, alice, now=now, hours=6, reason="Just in case")

    assert (made.overrode_estimate, made.override_reason) == (False, "")


def test_the_reps_load_counts_their_promises_due_before_this_one(ticket, alice, bob, dave, category, now):
    for hours in (5, 7, 20):
        other = TicketFactory(customer=dave, category=category)
        promise(other, alice, now=now, hours=hours)

    verdict = judge(ticket, due_at=now + 10 * H, by=alice, now=now)

    assert verdict.load == 2
    assert judge(ticket, due_at=now + 10 * H, by=bob, now=now).load == 0


def test_the_guard_reads_the_refreshed_row_for_the_category_and_priority_else_the_default_target(
    ticket, alice, now, django_assert_num_queries
):
    history_says(ticket.category, 2 * H, priority=ticket.priority, seen=9, basis="category_priority")
    history_says(ticket.category, 5 * H, priority=Priority.URGENT, seen=40, basis="priority")
    assert ticket.priority != Priority.URGENT

    with django_assert_num_queries(2):  # the estimate by its unique key, and the rep's load
        verdict = judge(ticket, due_at=now + 6 * H, by=alice, now=now)
    assert (verdict.estimate, verdict.sample_size, verdict.basis) == (2 * H, 9, "category_priority")
    assert verdict.explain().startswith("8 in 10 similar tickets were solved within 2 h (from 9 tickets).")

    Estimate.objects.filter(priority=ticket.priority).delete()
    assert judge(ticket, due_at=now + 6 * H, by=alice, now=now).basis == "default"


def test_the_guard_reads_the_time_still_to_run_at_the_tickets_age_waits_left_out(dave, category, alice, now):
    Estimate.objects.create(
        category=category,
        priority=Priority.NORMAL,
        basis="category",
        curve=[[0, 3 * 3600, 400], [86400, 3 * 86400, 412], [2 * 86400, 5 * 86400, 90]],
        duration=3 * H,
        sample_size=500,
        window_days=28,
        percentile=0.8,
        computed_at=now,
    )
    ticket = TicketFactory(customer=dave, category=category, priority=Priority.NORMAL, now=now - 30 * H)
    services.change_status(ticket, to="waiting", by=alice, now=now - 20 * H)
    services.receive_customer_message(ticket, body="Here it is.", now=now - 14 * H)  # waited 6 h: 24 h old

    verdict = judge(ticket, due_at=now + 6 * H, by=alice, now=now)

    assert (verdict.estimate, verdict.sample_size, verdict.estimated.age) == (3 * 24 * H, 412, 24 * H)
    assert verdict.sooner_than_estimate and verdict.earliest_realistic == now + 72 * H
    assert verdict.explain().startswith(
        "8 in 10 tickets of this category still open after 1 day were solved within another 3 days (from 412 tickets)."
    )
    # Halfway between the curve's ages, halfway between its answers, from the fewer tickets of the two.
    later = judge(ticket, due_at=now + 6 * H, by=alice, now=now + 12 * H)
    assert (later.estimate, later.estimated.age, later.sample_size) == (4 * 24 * H, 36 * H, 90)
    # Older than the history holds enough tickets for: the last age it answered for, and it says so.
    oldest = judge(ticket, due_at=now + 6 * H, by=alice, now=now + 5 * 24 * H)
    assert (oldest.estimate, oldest.sample_size) == (5 * 24 * H, 90)
    assert oldest.explain().startswith(
        "8 in 10 tickets of this category still open after 2 days were solved within another 5 days (from 90 "
        "tickets; this one has lasted 6 days, longer than the history holds enough tickets for)."
    )


# --- The clock follows the status -------------------------------------------------------------


def test_waiting_on_the_customer_pauses_the_clock_and_their_answer_moves_the_due_time(ticket, alice, now):
    made = promise(ticket, alice, now=now)
    services.change_status(ticket, to="waiting", by=alice, now=now + H)
    assert ticket.next_check_at is None  # nothing to watch while paused

    services.receive_customer_message(ticket, body="Here is the receipt.", now=now + 3 * H)

    made.refresh_from_db()
    assert made.due_at == now + 8 * H and made.paused_for == 2 * H
    assert ticket.promise_due_at == now + 8 * H
    assert ticket.next_check_at == ticket.promise_warn_at == now + 8 * H - timedelta(minutes=72)
    resumed = ticket.interactions.get(kind="promise_resumed")
    assert resumed.is_public and resumed.data["paused_seconds"] == 7200
    assert ticket.interactions.filter(kind="promise_paused", is_public=True).count() == 1


def test_resolving_in_time_keeps_the_promise(ticket, alice, now):
    made = promise(ticket, alice, now=now)
    services.resolve(ticket, by=alice, summary="Refunded.", now=now + 5 * H)

    made.refresh_from_db()
    assert (made.outcome, made.settled_at) == ("kept", now + 5 * H)
    assert (ticket.promise_state, ticket.next_check_at) == (PromiseState.KEPT, None)


def test_resolving_late_breaks_the_promise(ticket, alice, now):
    made = promise(ticket, alice, now=now)
    services.resolve(ticket, by=alice, summary="Refunded at last.", now=now + 7 * H)

    made.refresh_from_db()
    assert made.outcome == "broken" and ticket.promise_state == PromiseState.BROKEN


def test_a_reopened_ticket_waits_for_a_new_promise(ticket, alice, now):
    promise(ticket, alice, now=now)
    services.resolve(ticket, by=alice, summary="Refunded.", now=now + H)
    services.reopen(ticket, reason="Still charged twice.", now=now + 2 * H)

    assert (ticket.promise_state, ticket.promise_due_at, ticket.next_check_at) == (PromiseState.NONE, None, None)
    promise(ticket, alice, now=now + 2 * H)
    assert ticket.promises.filter(outcome="pending").count() == 1
