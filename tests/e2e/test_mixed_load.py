"""The mixed load benchmark (bench/load.py): small and short, as CI runs it, and its checks.

The whole system runs as in production (gunicorn, a Celery worker and beat, PostgreSQL, a Redis of the
test's own) while agents and customers work: the script itself keeps working, and its checks hold on a
small seed (no 5xx, nothing lost, every lapsing promise flagged, breached and escalated once, every email
sent once). The checks themselves are shown to fail on what they look for. The full run's figures (100,000
tickets, 50 users, five minutes) are in docs/benchmarks.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.utils import timezone

from bench.load import Recorder, Run, Sample, Write, check_answers, check_logs, check_sweep, check_writes
from tests.processes import ROOT, RUN_VARIABLES, PrivateRedis, database_url
from tickets import services
from tickets.models import CustomerEmail, Interaction, PromiseState, Ticket, ticket_writes
from tickets.outbox import message_id

LAPSING = 20
CHECKS = [
    "no 5xx and no request unanswered",
    "no 4xx but for tickets that left the agent's queues",
    "every accepted write stored, once, as what it was",
    "no open promise overdue and unbreached, or in its warning window and unflagged",
    "no promise flagged at risk or breached twice",
    "every lapsing promise flagged at risk, breached and escalated, once each",
    "every notification and customer email mailed, once",
    "no traceback or worker timeout in any log",
]


@pytest.mark.slow
def test_the_mixed_load_benchmark_runs_clean_on_a_small_seed(tmp_path):
    (tmp_path / "redis").mkdir()
    redis = PrivateRedis(tmp_path / "redis")
    redis.start()
    figures = tmp_path / "load.json"
    env = {key: value for key, value in os.environ.items() if key not in RUN_VARIABLES}
    env["DATABASE_URL"] = database_url("promisedesk_bench_load_ci")
    command = [
        sys.executable, "bench/load.py", "--tickets", "1000", "--agents", "8", "--users", "10",
        "--customers-online", "4", "--duration", "30", "--sweep-interval", "2", "--lapsing", str(LAPSING),
        "--redis-url", redis.url(0), "--broker-url", redis.url(1), "--json", str(figures), "--drop",
    ]  # fmt: skip
    try:
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    finally:
        redis.kill()
    output = f"{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    assert result.returncode == 0, output

    run = json.loads(figures.read_text())["run"]
    assert run["passed"], output
    assert run["checks"] == dict.fromkeys(CHECKS, True), output
    endpoints = {endpoint["name"]: endpoint for endpoint in run["endpoints"]}
    assert {
        "sign in",
        "queue",
        "queue tabs",
        "ticket page",
        "form",
        "form POST",
        "received page",
        "status page",
    } <= set(endpoints)
    assert all(e["status_5xx"] == 0 and e["no_answer"] == 0 for e in endpoints.values())
    assert run["writes"]["form"] > 0
    assert run["writes"]["customer reply"] > 0
    assert sum(run["writes"].get(kind, 0) for kind in ("reply", "note", "call", "promise")) > 0
    assert run["sweep"]["flagged at risk"] >= LAPSING
    assert run["sweep"]["breached"] >= LAPSING
    assert run["sweep"]["escalated"] >= LAPSING
    assert run["sweep"]["notifications"] > 0
    assert run["sweep"]["customer emails"] > 0


# --- The checks find what they look for ---------------------------------------------------------


def a_run() -> Run:
    return Run(users=2, agents=1, customers=1, duration_s=10, think_s=1, server="sync:1", sweep_interval_s=1, lapsing=0)


def logged(ticket, kind: str, promise=None) -> None:
    """An entry in the ticket's timeline now, as the sweep and the services write it (naming its promise)."""
    Interaction.objects.create(
        ticket=ticket,
        kind=kind,
        author_kind="system",
        customer_name=ticket.customer.name,
        is_public=False,
        data={"promise": promise.pk} if promise else {},
        created_at=timezone.now(),
    )


def test_the_write_check_finds_a_lost_a_doubled_and_a_misfiled_write(ticket, alice):
    since = timezone.now() - timedelta(seconds=1)
    recorder = Recorder("t35t")
    kept, doubled, lost, as_note, on_token = (recorder.marker() for _ in range(5))
    services.reply(ticket, by=alice, body=f"Kept. {kept}")
    services.reply(ticket, by=alice, body=f"Sent twice. {doubled}")
    services.reply(ticket, by=alice, body=f"Sent twice. {doubled}")
    services.add_note(ticket, by=alice, body=f"A note, not a reply. {as_note}")
    services.receive_customer_message(ticket, body=f"From the status page. {on_token}")
    recorder.writes = [Write("reply", marker, ticket.reference) for marker in (kept, doubled, lost, as_note)]
    recorder.writes.append(Write("customer reply", on_token, ticket.token))
    run = a_run()

    check_writes(run, recorder, since)

    assert run.checks == {"every accepted write stored, once, as what it was": False}
    assert run.problems == [
        f"lost: reply {lost} on {ticket.reference}",
        f"doubled: reply {doubled} on {ticket.reference}",
        f"stored as something else, or elsewhere: reply {as_note} on {ticket.reference}",
    ]
    assert run.writes == {"reply": 4, "customer reply": 1}


def test_the_write_check_finds_a_write_stored_on_another_ticket(ticket, dave, category, alice):
    since = timezone.now() - timedelta(seconds=1)
    other = services.open_ticket(name=dave.name, email=dave.email, subject="Another", body="Hi", category=category)
    recorder = Recorder("t35t")
    marker = recorder.marker()
    services.add_note(other, by=alice, body=f"On the wrong ticket. {marker}")
    recorder.writes = [Write("note", marker, ticket.reference)]
    run = a_run()

    check_writes(run, recorder, since)

    assert run.problems == [f"stored as something else, or elsewhere: note {marker} on {ticket.reference}"]


def test_the_answer_check_fails_on_a_5xx_and_on_a_404_that_no_move_of_the_ticket_explains(ticket, alice, bob):
    recorder = Recorder("t35t")
    page = f"/desk/tickets/{ticket.reference}/"
    before_the_move = Sample("ticket page", 404, 9.0, "bob", ticket.reference, f"GET {page}: HTTP 404 (1)")
    logged(ticket, "transfer")
    recorder.samples = [
        Sample("queue", 200, 12.0, "alice"),
        before_the_move,  # bob never saw it, but nothing had moved it yet: not explained
        Sample("ticket page", 404, 9.0, "bob", ticket.reference, f"GET {page}: HTTP 404 (2)"),  # explained
        Sample("ticket page", 404, 9.0, "alice", ticket.reference, f"GET {page}: HTTP 404 (3)"),  # hers still
        Sample("status page", 502, 30.0, "customer-1", ticket.token, "GET /status/…/: HTTP 502"),
        Sample("form", 0, 0.0, "customer-2", error="GET /: ConnectionResetError()"),
    ]
    run = a_run()

    check_answers(run, recorder)

    assert run.checks == {
        "no 5xx and no request unanswered": False,
        "no 4xx but for tickets that left the agent's queues": False,
    }
    assert run.problems == [
        "status page (customer-1): GET /status/…/: HTTP 502",
        "form (customer-2): GET /: ConnectionResetError()",
        f"ticket page (bob): GET {page}: HTTP 404 (1)",
        f"ticket page (alice): GET {page}: HTTP 404 (3)",
    ]
    assert run.sweep == {"404 for tickets escalated out of the agent's queues": 1}


def test_the_answer_check_passes_a_clean_run(ticket, bob):
    logged(ticket, "escalation")
    recorder = Recorder("t35t")
    recorder.samples = [
        Sample("queue", 200, 12.0, "bob"),
        Sample("ticket page", 404, 9.0, "bob", ticket.reference, "GET …: HTTP 404"),  # escalated away from bob
    ]
    run = a_run()

    check_answers(run, recorder)

    assert run.checks == dict.fromkeys(
        ["no 5xx and no request unanswered", "no 4xx but for tickets that left the agent's queues"], True
    )


SWEEP_CHECKS = [
    "no open promise overdue and unbreached, or in its warning window and unflagged",
    "no promise flagged at risk or breached twice",
    "every lapsing promise flagged at risk, breached and escalated, once each",
    "every notification and customer email mailed, once",
]


@pytest.fixture
def promised(ticket, alice):
    """A promise made in the run (its customer email is written too), and the run's start (after the ticket's
    own receipt email)."""
    since = timezone.now()
    promise = services.make_promise(
        ticket, due_at=timezone.now() + timedelta(hours=2), by=alice, words="By tonight.", reason="Known fix."
    )
    return promise, since


def test_the_sweep_check_finds_an_unbroken_overdue_promise_a_double_breach_and_an_unsent_email(
    promised, ticket, tmp_path
):
    promise, since = promised
    with ticket_writes():  # lapsed a minute ago, and the sweep never saw it
        Ticket.objects.filter(pk=ticket.pk).update(
            promise_due_at=timezone.now() - timedelta(minutes=1),
            promise_warn_at=timezone.now() - timedelta(minutes=2),
        )
    logged(ticket, "breach", promise)
    logged(ticket, "breach", promise)
    run = a_run()

    check_sweep(run, [promise.pk], since, timezone.now() + timedelta(seconds=1), tmp_path)

    assert run.checks == dict.fromkeys(SWEEP_CHECKS, False)
    email = CustomerEmail.objects.get(created_at__gte=since)
    assert run.problems == [
        "1 promises overdue and not breached, 1 at risk and not flagged",
        f"promise {promise.pk}: breach recorded more than once",
        f"promise {promise.pk}: at risk 0, breached 2, escalated 0 times",
        f"not mailed: customer-email {email.pk}",
    ]


def test_the_sweep_check_passes_a_promise_flagged_breached_and_escalated_once_with_its_email_sent_once(
    promised, ticket, tmp_path
):
    promise, since = promised
    with ticket_writes():
        Ticket.objects.filter(pk=ticket.pk).update(promise_state=PromiseState.BREACHED, next_check_at=None)
    for kind in ("at_risk", "breach", "escalation"):
        logged(ticket, kind, promise)
    email = CustomerEmail.objects.get(created_at__gte=since)
    (tmp_path / "1.log").write_text(f"Subject: a promise\nMessage-ID: {message_id('customer-email', email.pk)}\n")
    run = a_run()

    check_sweep(run, [promise.pk], since, timezone.now() + timedelta(seconds=1), tmp_path)

    assert run.checks == dict.fromkeys(SWEEP_CHECKS, True), run.problems
    assert run.sweep["breached"] == 1
    assert run.sweep["customer emails"] == 1

    (tmp_path / "2.log").write_text((tmp_path / "1.log").read_text())  # the same mail sent again
    check_sweep(run, [promise.pk], since, timezone.now() + timedelta(seconds=1), tmp_path)
    assert run.problems == [f"mailed twice: customer-email {email.pk}"]


def test_the_log_check_finds_a_traceback_or_a_worker_timeout(tmp_path):
    for name in ("gunicorn", "worker", "beat"):
        (tmp_path / f"{name}.log").write_text("[INFO] Booting worker\n")
    run = a_run()
    check_logs(run, tmp_path)
    assert run.checks == {"no traceback or worker timeout in any log": True}

    (tmp_path / "gunicorn.log").write_text("[INFO] Booting worker\n[CRITICAL] WORKER TIMEOUT (pid:42)\n")
    (tmp_path / "worker.log").write_text("Traceback (most recent call last):\n  File ...\nKeyError: 'x'\n")
    check_logs(run, tmp_path)
    assert run.checks == {"no traceback or worker timeout in any log": False}
    assert run.problems == [
        "gunicorn.log: WORKER TIMEOUT (pid:42)\n",
        "worker.log: Traceback (most recent call last):\n  File ...\nKeyError: 'x'\n",
    ]
