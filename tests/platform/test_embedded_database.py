"""`make run` works on SQLite: every migration applies there and the demo seeds, as on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def manage(environ: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "manage.py", *command], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_the_migrations_and_the_demo_run_on_the_embedded_sqlite_database(tmp_path):
    environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL")}
    environ.update(DATA_DIR=str(tmp_path), ENVIRONMENT="development")

    for command in (["migrate", "--noinput"], ["seed_demo"], ["seed_demo"]):
        result = manage(environ, *command)

    assert (tmp_path / "promisedesk.sqlite3").exists()
    assert "tickets" in result.stdout and "(+0)" in result.stdout  # the second seeding added nothing

    # The supervisor figures run on SQLite too (our percentile aggregate, FILTER clauses, week truncation).
    figures = (
        "from zoneinfo import ZoneInfo; from django.utils import timezone; "
        "from tickets.supervision.figures import Period, report; "
        "r = report(Period.last(90, now=timezone.now()), zone=ZoneInfo('Europe/London')); "
        "print('figures', r.total.made, r.total.slack_seconds is not None, len(r.weeks))"
    )
    result = manage(environ, "shell", "-c", figures)
    made, has_slack, weeks = result.stdout.split("figures ")[1].split()
    assert int(made) > 50 and has_slack == "True" and int(weeks) >= 8

    # The API's ticket lists page by keyset on SQLite too: for every staff member, with a time range and a
    # status, in every order, a page after a cursor is the whole list's next rows.
    listing = (
        "from datetime import timedelta; from django.contrib.auth.models import User; "
        "from django.utils import timezone; from tickets.models import Ticket, team_ids_of; "
        "from tickets.api.listing import ORDERINGS, filtered, listed, ordered; "
        "from helpdesk.api.pagination import Window; "
        "rows = 0\n"
        "for user in User.objects.filter(is_staff=True):\n"
        "  for values in ({}, {'due_before': timezone.now() + timedelta(days=1)}, {'status': 'open'}):\n"
        "    for ordering, keys in ORDERINGS.items():\n"
        "      every = listed(ordered(filtered(Ticket.objects.visible_to(user), values), ordering))\n"
        "      whole = list(every.order_by(*(key.order_by() for key in keys)))\n"
        "      for at in (None, 4, 40):\n"
        "        after = None if at is None or at >= len(whole) else [getattr(whole[at], k.field) for k in keys]\n"
        "        got = [t.pk for t in Window(keys, after, False, 30).applied_to(every)]\n"
        "        start = 0 if after is None else at + 1\n"
        "        assert got == [t.pk for t in whole[start : start + 30]], (user, values, ordering, at)\n"
        "        rows += len(got)\n"
        "print('listing', rows, sum(len(team_ids_of(u)) for u in User.objects.filter(is_staff=True)))"
    )
    result = manage(environ, "shell", "-c", listing)
    rows, memberships = result.stdout.split("listing ")[1].split()
    assert int(rows) > 1000 and int(memberships) > 0
