"""The sweep flags promises at risk, breaks and escalates lapsed ones: each change exactly once."""

from __future__ import annotations

import contextlib
import gc
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from kombu.exceptions import OperationalError

from tests.factories import TicketFactory
from tickets import services, tasks
from tickets import sweep as sweep_module
from tickets.models import Interaction, Notification, PromiseState, SweepHeartbeat, Ticket
from tickets.sweep import sweep

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def promised(ticket, alice, now):
    """Dave's ticket, assigned to alice, promised for six hours from now (at risk 72 min before)."""
    services.assign(ticket, assignee=alice, by=alice, now=now)
    services.make_promise(ticket, due_at=now + 6 * H, by=alice, words="By the end of the day.", now=now)
    return ticket


def events(ticket: Ticket, kind: str) -> int:
    return ticket.interactions.filter(kind=kind).count()


def notified(event: str) -> list[tuple[str, int]]:
    return sorted(Notification.objects.filter(event=event).values_list("recipient__username", "ticket_id"))


# --- At risk ----------------------------------------------------------------------------------


def test_nothing_due_means_nothing_changes_but_the_heartbeat(promised, now):
    result = sweep(now=now + H)

    assert (result.looked_at, result.at_risk, result.breached) == (0, 0, 0)
    promised.refresh_from_db()
    assert promised.promise_state == PromiseState.ON_TRACK
    beat = SweepHeartbeat.objects.get()
    assert (beat.last_run_at, beat.looked_at) == (now + H, 0)


def test_a_promise_entering_its_window_is_flagged_and_its_owner_told(promised, now):
    result = sweep(now=promised.promise_warn_at)

    promised.refresh_from_db()
    assert result.at_risk == 1
    assert (promised.promise_state, promised.next_check_at) == (PromiseState.AT_RISK, promised.promise_due_at)
    flag = promised.interactions.get(kind="at_risk")
    assert (flag.is_public, flag.author_kind, flag.customer_name) == (False, "system", "Dave Jones")
    assert flag.body == "The promise is due in 1 h 12 min."
    assert notified("at_risk") == [("alice", promised.pk)]


def test_sweeping_again_changes_nothing_twice(promised, now):
    sweep(now=promised.promise_warn_at)
    sweep(now=promised.promise_warn_at + timedelta(minutes=1))
    sweep(now=promised.promise_warn_at + timedelta(minutes=2))

    assert events(promised, "at_risk") == 1
    assert Notification.objects.filter(event="at_risk").count() == 1


def test_an_unassigned_ticket_at_risk_tells_its_team(ticket, alice, billing, now):
    services.make_promise(ticket, due_at=now + 6 * H, by=alice, words="Today.", now=now)
    ticket.refresh_from_db()

    sweep(now=ticket.promise_warn_at)

    assert notified("at_risk") == [("alice", ticket.pk)]  # Billing's only member


def test_a_paused_promise_is_not_flagged(promised, alice, now):
    services.change_status(promised, to="waiting", by=alice, now=now + H)

    sweep(now=now + 10 * H)

    promised.refresh_from_db()
    assert promised.promise_state == PromiseState.ON_TRACK
    assert events(promised, "at_risk") == events(promised, "breach") == 0


# --- Breach -----------------------------------------------------------------------------------


def test_a_breach_escalates_to_the_next_level_with_the_context(promised, technical, now):
    result = sweep(now=promised.promise_due_at)

    promised.refresh_from_db()
    assert result.breached == 1
    assert (promised.promise_state, promised.next_check_at) == (PromiseState.BREACHED, None)
    assert (promised.escalation_level.position, promised.team) == (2, technical)
    assert promised.promises.get().outcome == "broken"
    breach = promised.interactions.get(kind="breach")
    assert breach.is_public and "We are sorry" in breach.body
    escalation = promised.interactions.get(kind="escalation")
    assert escalation.author is None and escalation.data["automatic"] is True
    assert escalation.data["from_team"] == "Billing" and escalation.data["to_team"] == "Technical"
    assert "Hand-off" in escalation.body


def test_a_breach_tells_the_next_level_and_asks_the_owner_for_a_new_promise(promised, bob, now):
    sweep(now=promised.promise_due_at)

    assert notified("escalation") == [("bob", promised.pk)]
    assert notified("new_promise_needed") == [("alice", promised.pk)]


def test_a_sweep_that_comes_late_breaches_and_the_log_says_why_no_warning_came_first(promised, now):
    # given the warning window opened and closed while no sweep ran (an outage)
    sweep(now=promised.promise_due_at + H)

    # then the breach is logged after one at-risk entry that says the warning came too late, and tells nobody
    # (the breach itself tells the owner): every breached promise has been warned once, or the log says why not
    assert events(promised, "breach") == events(promised, "escalation") == events(promised, "at_risk") == 1
    late = promised.interactions.get(kind="at_risk")
    assert late.data["late"] is True and not late.is_public
    assert late.body.startswith("No warning was given in time: the warning window opened 2 h 12 min ago")
    kinds = list(promised.interactions.filter(kind__in=["at_risk", "breach"]).values_list("kind", flat=True))
    assert kinds == ["at_risk", "breach"]
    assert notified("at_risk") == []


def test_a_breach_at_the_top_of_the_path_tells_that_level(promised, alice, bob, now):
    services.escalate(promised, by=alice, note="Needs the payments engineers.", now=now + H)
    Notification.objects.all().delete()

    sweep(now=promised.promise_due_at)

    promised.refresh_from_db()
    assert promised.escalation_level.position == 2
    assert notified("breach") == [("bob", promised.pk)]
    assert events(promised, "escalation") == 1  # only the manual one


def test_a_new_promise_after_a_breach_restarts_the_clock(promised, alice, now):
    sweep(now=promised.promise_due_at)
    later = promised.promise_due_at + timedelta(minutes=5)

    services.make_promise(
        promised, due_at=later + 6 * H, by=alice, words="Tomorrow morning, for sure.", change_reason="n/a", now=later
    )

    assert promised.promise_state == PromiseState.ON_TRACK
    assert promised.promises.filter(outcome="pending").count() == 1
    assert promised.interactions.last().kind == "promise_made"  # the broken one is settled, not changed


# --- Races ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_promise_being_changed_is_never_flagged_on_its_old_time(ticket, alice, now):
    services.make_promise(ticket, due_at=now + 6 * H, by=alice, words="Today.", now=now)
    ticket.refresh_from_db()
    old_warning = ticket.promise_warn_at
    changing, sweep_done = threading.Event(), threading.Event()

    def agent_changes_the_promise() -> None:
        try:
            with transaction.atomic():
                services.make_promise(
                    Ticket.objects.get(pk=ticket.pk),
                    due_at=now + 30 * H,
                    by=alice,
                    words="Tomorrow.",
                    change_reason="Waiting for the bank.",
                    now=now,
                )
                changing.set()
                sweep_done.wait(timeout=10)  # the change commits only after the sweep has run
        finally:
            connection.close()

    agent = threading.Thread(target=agent_changes_the_promise)
    agent.start()
    assert changing.wait(timeout=10)
    first = sweep(now=old_warning)  # the row is locked by the change in progress: skipped, not flagged
    sweep_done.set()
    agent.join()
    second = sweep(now=old_warning)  # the committed change moved the warning: nothing is due

    ticket.refresh_from_db()
    assert (first.at_risk, second.at_risk, second.looked_at) == (0, 0, 0)
    assert ticket.promise_state == PromiseState.ON_TRACK
    assert ticket.next_check_at == ticket.promise_warn_at > old_warning
    assert events(ticket, "at_risk") == 0


def many_promises(count: int, *, category, dave, alice, now) -> list[Ticket]:
    tickets = []
    for _ in range(count):
        ticket = TicketFactory(customer=dave, category=category)
        services.assign(ticket, assignee=alice, by=alice, now=now)
        services.make_promise(ticket, due_at=now + 6 * H, by=alice, words="Today.", now=now)
        tickets.append(ticket)
    return tickets


@pytest.mark.django_db(transaction=True)
def test_sweeps_in_several_threads_at_once_change_each_ticket_once(category, dave, alice, now):
    tickets = many_promises(30, category=category, dave=dave, alice=alice, now=now)
    at = now + 6 * H - timedelta(minutes=1)
    start = threading.Barrier(4)

    def sweeper() -> None:
        try:
            start.wait()
            while sweep(now=at, batch_size=7).looked_at:
                pass
        finally:
            connection.close()

    threads = [threading.Thread(target=sweeper) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Ticket.objects.filter(promise_state=PromiseState.AT_RISK).count() == len(tickets)
    assert Interaction.objects.filter(kind="at_risk").count() == len(tickets)
    assert Notification.objects.filter(event="at_risk").count() == len(tickets)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_sweeps_in_several_processes_at_once_change_each_ticket_once(category, dave, alice, bob, now):
    tickets = many_promises(40, category=category, dave=dave, alice=alice, now=now)
    due = (now + 6 * H + timedelta(seconds=1)).isoformat()
    database = django_settings.DATABASES["default"]
    environ = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings",
        "PROMISE_SWEEP_BATCH_SIZE": "5",
    }
    code = (
        "import django, datetime; django.setup()\n"
        "from tickets.sweep import sweep\n"
        f"now = datetime.datetime.fromisoformat('{due}')\n"
        "while sweep(now=now).looked_at: pass\n"
    )
    workers = [subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=environ) for _ in range(3)]
    assert [worker.wait(timeout=120) for worker in workers] == [0, 0, 0]

    assert Ticket.objects.filter(promise_state=PromiseState.BREACHED, team__name="Technical").count() == len(tickets)
    for kind in ("breach", "escalation"):
        assert Interaction.objects.filter(kind=kind).count() == len(tickets), kind
    assert Notification.objects.filter(event="escalation", recipient=bob).count() == len(tickets)
    assert Notification.objects.filter(event="new_promise_needed", recipient=alice).count() == len(tickets)


# --- Bounds -----------------------------------------------------------------------------------


def test_a_batch_is_bounded_and_says_when_more_is_due(category, dave, alice, now):
    many_promises(12, category=category, dave=dave, alice=alice, now=now)
    at = now + 6 * H - timedelta(minutes=1)

    results = [sweep(now=at, batch_size=5) for _ in range(4)]

    assert [(r.looked_at, r.more) for r in results] == [(5, True), (5, True), (2, False), (0, False)]


def test_the_number_of_queries_does_not_grow_with_the_tickets_flagged(category, dave, alice, now):
    """Per batch: planner hint, select+lock, update, tickets, promises, interactions, notifications, heartbeat
    (and two for the teams of unassigned tickets)."""
    many_promises(3, category=category, dave=dave, alice=alice, now=now)
    with CaptureQueriesContext(connection) as few:
        sweep(now=now + 6 * H - timedelta(minutes=1))
    many_promises(25, category=category, dave=dave, alice=alice, now=now + timedelta(minutes=1))
    with CaptureQueriesContext(connection) as many:
        flagged = sweep(now=now + 6 * H - timedelta(seconds=30))

    assert flagged.at_risk == 25
    assert len(few) == len(many) <= 10  # the eight above, plus the test transaction's savepoint pair


def test_an_idle_sweep_costs_three_queries(django_assert_max_num_queries, now):
    # the planner hint, select the due rows (none), write the heartbeat; plus the test's savepoint pair.
    with django_assert_max_num_queries(5):
        sweep(now=now)


# --- The task ---------------------------------------------------------------------------------


def test_the_task_delivered_twice_flags_once(promised, monkeypatch):
    monkeypatch.setattr(tasks, "database_now", lambda: promised.promise_warn_at)

    assert tasks.sweep_promises()["at_risk"] == 1
    assert tasks.sweep_promises()["at_risk"] == 0
    assert events(promised, "at_risk") == 1


def test_the_task_requeues_itself_while_a_backlog_remains(category, dave, alice, now, monkeypatch, settings):
    many_promises(3, category=category, dave=dave, alice=alice, now=now)
    settings.PROMISE_SWEEP_BATCH_SIZE = 2
    monkeypatch.setattr(tasks, "database_now", lambda: now + 6 * H - timedelta(minutes=1))
    queued = []
    monkeypatch.setattr(tasks.sweep_promises, "delay", lambda: queued.append(1))

    tasks.sweep_promises()

    assert queued == [1]


def test_a_requeue_the_broker_refuses_loses_no_work(category, dave, alice, now, monkeypatch, settings):
    """Redis full (or down) as a full batch re-queues the sweep: the task may fail, but only after its batch
    was committed, and the next sweep (beat's, once Redis has room) finds the rest in the database."""
    tickets = many_promises(3, category=category, dave=dave, alice=alice, now=now)
    settings.PROMISE_SWEEP_BATCH_SIZE = 2
    monkeypatch.setattr(tasks, "database_now", lambda: now + 6 * H - timedelta(minutes=1))

    def refused() -> None:  # what kombu raises when Redis refuses the LPUSH
        raise OperationalError("OOM command not allowed when used memory > 'maxmemory'.")

    monkeypatch.setattr(tasks.sweep_promises, "delay", refused)
    with contextlib.suppress(OperationalError):
        tasks.sweep_promises()
    assert sum(events(ticket, "at_risk") for ticket in tickets) == 2

    monkeypatch.setattr(tasks.sweep_promises, "delay", lambda: None)
    tasks.sweep_promises()  # beat's next run
    assert [events(ticket, "at_risk") for ticket in tickets] == [1, 1, 1]


def test_a_ticket_whose_breach_keeps_failing_does_not_block_the_others(category, dave, alice, now, monkeypatch):
    first, second, third = many_promises(3, category=category, dave=dave, alice=alice, now=now)
    real_breaches = sweep_module.record_breaches

    def broken_for_the_first_two(ids, *, now):
        if {first.pk, second.pk} & set(ids):
            raise RuntimeError("a bug in breach handling")
        return real_breaches(ids, now=now)

    monkeypatch.setattr(sweep_module, "record_breaches", broken_for_the_first_two)
    at = now + 6 * H

    results = [sweep(now=at, batch_size=2), sweep(now=at, batch_size=2)]

    third.refresh_from_db()
    assert third.promise_state == PromiseState.BREACHED
    assert [r.breached for r in results] == [0, 1]
    first.refresh_from_db()
    assert first.next_check_at == at + sweep_module.BREACH_RETRY_DELAY  # retried later, behind the backlog


def test_a_batch_asks_for_one_email_drain_however_many_it_notified(
    category, dave, alice, now, monkeypatch, django_capture_on_commit_callbacks
):
    many_promises(5, category=category, dave=dave, alice=alice, now=now)
    queued = []
    monkeypatch.setattr(tasks.send_notification_emails, "delay", lambda: queued.append(1))

    with django_capture_on_commit_callbacks(execute=True):
        sweep(now=now + 6 * H)

    assert Notification.objects.filter(event="escalation").count() == 0  # Technical has nobody in this test
    assert Notification.objects.filter(event="new_promise_needed").count() == 5
    assert queued == [1]


# --- Warned once, always (issue #17, point 13) -----------------------------------------------------


def test_a_promise_made_inside_its_own_warning_window_is_warned_at_once_and_once_only(ticket, alice, now):
    # given alice promises 20 minutes from now: inside the 30-minute warning window from the start
    services.assign(ticket, assignee=alice, by=alice, now=now)
    services.make_promise(
        ticket, due_at=now + timedelta(minutes=20), by=alice, words="Within 20 minutes.", reason="Known fix.", now=now
    )

    ticket.refresh_from_db()
    assert ticket.promise_state == PromiseState.AT_RISK
    flag = ticket.interactions.get(kind="at_risk")
    assert (flag.body, flag.is_public, flag.created_at) == ("The promise is due in 20 min.", False, now)
    assert notified("at_risk") == [("alice", ticket.pk)]
    # and the sweep, looking before the due time, does not warn again
    sweep(now=now + timedelta(minutes=5))
    assert events(ticket, "at_risk") == 1
    kinds = list(ticket.interactions.order_by("id").values_list("kind", flat=True))
    assert kinds.index("promise_made") < kinds.index("at_risk")  # the promise first, then its warning


def test_a_promise_paused_on_track_resumes_on_track_without_a_warning(promised, alice, now):
    # the due time moves by the pause, so a promise paused on track resumes on track: nothing to warn of yet
    services.change_status(promised, to="waiting", by=alice, now=now + H)
    services.receive_customer_message(promised, body="Here it is.", now=now + 2 * H)

    promised.refresh_from_db()
    assert promised.promise_state == PromiseState.ON_TRACK
    assert events(promised, "at_risk") == 0


def test_every_breached_promise_was_warned_once_or_the_log_says_why_not(category, dave, alice, now):
    on_time, late = many_promises(2, category=category, dave=dave, alice=alice, now=now)
    sweep(now=on_time.promise_warn_at)  # warns both (same times): then one is changed to lapse unwarned
    services.make_promise(late, due_at=now + 7 * H, by=alice, words="Later.", change_reason="More work.",
                          now=now + timedelta(minutes=1))  # fmt: skip

    sweep(now=now + 8 * H)

    for ticket in (on_time, late):
        assert (events(ticket, "breach"), events(ticket, "at_risk") - (ticket == late)) == (1, 1)
    assert [e.data.get("late", False) for e in late.interactions.filter(kind="at_risk").order_by("id")] == [False, True]


# --- A slow database (issue #17, point 12) ---------------------------------------------------------


def test_a_run_out_of_time_keeps_what_it_did_and_says_more_is_due(category, dave, alice, now):
    tickets = many_promises(5, category=category, dave=dave, alice=alice, now=now)

    first = sweep(now=now + 6 * H, budget_seconds=0)  # spent at once: one breach per chunk, then it stops

    assert (first.breached, first.more) == (1, True)
    assert Ticket.objects.filter(pk__in=[t.pk for t in tickets], promise_state="breached").count() == 1
    rest = [sweep(now=now + 6 * H, budget_seconds=0) for _ in range(5)]
    assert [r.breached for r in rest] == [1, 1, 1, 1, 0]
    assert Ticket.objects.filter(promise_state="breached").count() == 5


def test_each_chunk_commits_so_a_run_killed_later_keeps_the_earlier_chunks(category, dave, alice, now, monkeypatch):
    many_promises(3, category=category, dave=dave, alice=alice, now=now)
    monkeypatch.setattr(sweep_module, "CHUNK", 1)
    chunks = []
    real_chunk = sweep_module._sweep_chunk

    def killed_in_the_third_chunk(*args, **kwargs):
        chunks.append(1)
        if len(chunks) == 3:
            raise SystemExit("the task's hard time limit")
        return real_chunk(*args, **kwargs)

    monkeypatch.setattr(sweep_module, "_sweep_chunk", killed_in_the_third_chunk)

    with pytest.raises(SystemExit):
        sweep(now=now + 6 * H)

    assert Ticket.objects.filter(promise_state="breached").count() == 2


def test_the_first_chunks_pace_sizes_the_next_ones_to_the_budget_left(category, dave, alice, now, monkeypatch):
    many_promises(8, category=category, dave=dave, alice=alice, now=now)
    monkeypatch.setattr(sweep_module, "FIRST_CHUNK", 2)
    clock = [0.0]
    monkeypatch.setattr(sweep_module.time, "monotonic", lambda: clock[0])
    limits = []
    real_chunk = sweep_module._sweep_chunk

    def a_second_a_row(result, *, now, limit):
        limits.append(limit)
        done = real_chunk(result, now=now, limit=limit)
        clock[0] += done
        return done

    monkeypatch.setattr(sweep_module, "_sweep_chunk", a_second_a_row)

    result = sweep(now=now + 6 * H, budget_seconds=5.5)

    # 2 rows in 2 s leave room for 3 in the 3.5 s left, then not one row fits: more is due
    assert limits == [2, 3]
    assert (result.breached, result.more) == (5, True)


@pytest.mark.parametrize(("budget", "first"), [(30, 500), (3, 100), (0.5, 16)])
def test_the_first_chunk_takes_what_the_budget_holds_at_a_slow_databases_pace(budget, first, now, monkeypatch):
    # 30 ms a row (10 ms a log entry, as tests/e2e has it): a batch of 500 in one chunk on the default budget
    limits = []
    monkeypatch.setattr(sweep_module, "_sweep_chunk", lambda result, *, now, limit: limits.append(limit) or 0)

    sweep(now=now, batch_size=500, budget_seconds=budget)

    assert limits == [first]


def test_the_garbage_collector_pauses_for_a_chunk_and_resumes_as_it_was(now, monkeypatch):
    during = []
    monkeypatch.setattr(sweep_module, "flag_at_risk", lambda ids, *, now: during.append(gc.isenabled()) or 0)

    sweep(now=now)
    assert gc.isenabled()
    gc.disable()  # someone else's pause is theirs to end
    try:
        sweep(now=now)
        assert not gc.isenabled()
    finally:
        gc.enable()

    assert during == [False, False]


# --- The database's clock (issue #17, point 10) ----------------------------------------------------


def test_the_task_judges_by_the_databases_clock_not_the_workers(promised, monkeypatch):
    # given a worker whose own clock runs five hours fast, past the promise's warning and due time
    fast = promised.promise_due_at + timedelta(minutes=5)
    monkeypatch.setattr(tasks.timezone, "now", lambda: fast)

    result = tasks.sweep_promises()

    # then nothing happens: by the database's clock the promise is on track
    promised.refresh_from_db()
    assert (result["at_risk"], result["breached"], promised.promise_state) == (0, 0, PromiseState.ON_TRACK)
    beat = SweepHeartbeat.objects.get()
    real = datetime.now(UTC)  # (timezone.now is the fast worker clock here)
    assert abs(beat.last_run_at - real) < timedelta(minutes=1)  # the database's time, not the worker's


def test_a_promise_that_lapsed_before_a_pause_is_broken_by_the_sweep_on_resuming(promised, alice, now):
    # given the promise lapsed, and the ticket was set waiting before the sweep got to it
    services.change_status(promised, to="waiting", by=alice, now=promised.promise_due_at + H)
    # when the customer answers, the clock resumes (the due time moves by the pause: still long past)
    services.receive_customer_message(promised, body="Here it is.", now=promised.promise_due_at + 2 * H)

    promised.refresh_from_db()
    assert promised.promise_state == PromiseState.ON_TRACK  # not silently "breached"
    assert promised.next_check_at <= promised.promise_due_at + 2 * H  # due for the sweep at once
    sweep(now=promised.promise_due_at + 2 * H)

    promised.refresh_from_db()
    assert promised.promise_state == PromiseState.BREACHED
    assert events(promised, "breach") == events(promised, "escalation") == events(promised, "at_risk") == 1
