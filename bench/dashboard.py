"""Benchmark the supervisor's promise dashboard on PostgreSQL with 100,000 tickets and 300,000 promises.

Targets of the issue, on a 2-core machine: the dashboard's "now" view (``/desk/promises/``) under 100 ms
median, and the 90-day figures (``/desk/promises/figures/?period=90``) under 300 ms median.

Steps:

1. Environment and database as the other benchmarks (``DATABASE_URL``, default the
   ``promisedesk_bench_dashboard`` database; refused unless its name contains "bench": it wipes data);
   created if missing, migrated; dropped at the end unless ``--keep``.
2. Seed (set-based SQL, see ``seed_dashboard``): the desk configuration of ``bench/seed.py`` (four
   first-line teams of agents, a specialist team at the second level of every path, two supervisors), N/5
   customers, N tickets over the last six months and P promises in chains that follow the app's rules:
   a changed promise is superseded when the next one is made, a lapsed one is broken by the sweep (and the
   ticket escalated to the specialists), the last one is kept or broken at resolution, or still pending on
   an open ticket. First responses, ratings (interaction rows, and their Rating rows, one per resolution) and a
   timeline of interactions; VACUUM ANALYZE. ``--reuse`` keeps an earlier dashboard seed of the same size
   (kept with ``--keep``); the seed's times are relative to when it was made, so reuse it soon after.
3. In-process (``django.test.Client``, signed in as a supervisor, so Django plus PostgreSQL, no HTTP
   server): the queries of each view counted once (``CaptureQueriesContext``), then ``--warmups`` and
   ``--requests`` sequential GETs of each view timed, then a few more with their queries captured, for
   the time spent in PostgreSQL; ``tickets.supervision.figures.report()`` for the last 90 days timed
   alone, with its queries, slowest first.
4. ``EXPLAIN (ANALYZE, BUFFERS)`` of the slowest queries of every view over target, or of every view with
   ``--explain``.
5. Summary table; exit 1 when a target is missed, saying which.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

try:
    import _project  # run as a script: bench/ is first on sys.path until _project puts the project there
except ImportError:
    from bench import _project

from bench.desk import Page, count_queries, explain_slowest, machine_line, text_table
from bench.seed import (
    BENCH_PREFIX,
    DESK_CUSTOMERS_SQL,
    DESK_SPECIALISTS,
    RATINGS_SQL,
    configure_environment,
    create_desk_configuration,
    drop_database,
    fill_durations,
    percentile,
    prepare_database,
    seed_kind,
    shorten,
    vacuum_analyze,
    wipe,
)

ROOT = _project.ROOT
SCRIPT = "bench/dashboard.py"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/promisedesk_bench_dashboard"
SUPERVISOR = f"{BENCH_PREFIX}supervisor-1"
NOW_TARGET_MS = 100.0
FIGURES_TARGET_MS = 300.0
SQL_SAMPLES = 5  # requests per view with their queries captured (not timed: capturing adds a little)

# --- The shape of the seed ----------------------------------------------------------------------

# Of the tickets: new (no reply, no promise yet), open or waiting with a promise, the rest resolved.
NEW_SHARE = 0.015
OPEN_SHARE = 0.285
# Of the open tickets with a promise: at risk, breached (escalated, owes a new promise), waiting on the
# customer (clock paused); the rest on track.
AT_RISK_SHARE = 0.015
BREACHED_SHARE = 0.01
WAITING_SHARE = 0.10
# Of the resolved tickets: the last promise broken (it lapsed; the ticket was resolved after the breach).
FINAL_BROKEN_SHARE = 0.10
# Of the tickets with two promises or more: one of the earlier promises lapsed (broken by the sweep, the
# ticket escalated) instead of being changed in time.
EARLIER_BREACH_SHARE = 0.14
OVERRODE_SHARE = 0.10  # promised sooner than the guard's estimate, with a reason
PAUSED_SHARE = 0.10  # of the resolved tickets' last promises: the clock was paused on the way
RATED_SHARE = 0.30  # of the resolved tickets


# --- 2. Seed ------------------------------------------------------------------------------------

# One row per ticket: its life, times, team, people and the shape of its promise chain. ``id`` follows
# ``created_at`` (as in the app, where ids are given at creation), so the heap is in time order too.
# Extra promises (beyond one per promised ticket) are dealt at random: 0 to 8 per ticket, about 2 on average.
PLAN_SQL = """
CREATE TEMP TABLE bench_plan AS
WITH g AS (
    SELECT random() AS r_life, random() AS r_age, random() AS r_took, random() AS r_reply,
           random() AS r_state, random() AS r_breach, random() AS r_due, random() AS r_who
    FROM generate_series(1, %(tickets)s::bigint)
), life AS (
    SELECT g.*,
           CASE WHEN r_life < %(new_share)s THEN 'new'
                WHEN r_life < %(new_share)s + %(open_share)s THEN 'open' ELSE 'resolved' END AS life
    FROM g
), timed AS (
    SELECT life.*,
           CASE life
               WHEN 'new' THEN %(now)s::timestamptz - interval '5 minutes' - r_age * interval '2 days'
               -- Open tickets: mostly from the last few days, a tail back to a month.
               WHEN 'open' THEN %(now)s::timestamptz - interval '10 minutes' - r_age ^ 3 * interval '30 days'
               ELSE %(now)s::timestamptz - interval '5 days' - r_age * interval '180 days'
           END AS created_at,
           CASE WHEN life = 'resolved' THEN interval '2 hours' + r_took ^ 2 * interval '4 days' END AS took
    FROM life
), numbered AS (
    SELECT row_number() OVER (ORDER BY created_at) AS id,
           row_number() OVER (PARTITION BY life = 'new' ORDER BY created_at) AS rank_in_kind,
           timed.*
    FROM timed
), extras AS (
    SELECT 1 + floor(random() * (SELECT count(*) FROM timed WHERE life <> 'new'))::bigint AS promised_rank,
           count(*) AS n
    FROM generate_series(1, %(promises)s::bigint - (SELECT count(*) FROM timed WHERE life <> 'new'))
    GROUP BY 1
), chained AS (
    SELECT n.*,
           CASE WHEN life = 'new' THEN 0 ELSE 1 + coalesce(e.n, 0) END AS chain,
           CASE WHEN life = 'open' AND r_state < %(at_risk)s THEN 'at_risk'
                WHEN life = 'open' AND r_state < %(at_risk)s + %(breached)s THEN 'breached'
                WHEN life = 'open' THEN 'on_track'
                WHEN life = 'resolved' AND r_state < %(final_broken)s THEN 'broken'
                WHEN life = 'resolved' THEN 'kept' ELSE 'none' END AS state,
           life = 'open' AND r_state >= %(at_risk)s + %(breached)s
               AND r_state < %(at_risk)s + %(breached)s + %(waiting)s AS waiting,
           1 + floor(r_who * 4)::int AS t,
           created_at + took AS resolved_at
    FROM numbered n
    LEFT JOIN extras e ON e.promised_rank = n.rank_in_kind AND n.life <> 'new'
), breaches AS (
    SELECT c.*,
           -- The first promise that lapsed: an earlier one, else the last (broken, or breached now).
           CASE WHEN chain >= 2 AND r_breach < %(earlier_breach)s THEN floor(r_breach / %(earlier_breach)s
                                                                            * (chain - 1))::int
                WHEN state IN ('broken', 'breached') THEN chain - 1 END AS first_breach,
           -- The first reply comes with the first promise, within the first 30 %% of the ticket's life.
           created_at + least(interval '5 minutes' + r_reply ^ 2 * interval '8 hours',
                              (coalesce(resolved_at, %(now)s::timestamptz) - created_at) * 0.3) AS replied_at
    FROM chained c
)
SELECT b.*,
       -- Promise k of the chain is made at replied_at + k * step; the last one a step before the end.
       (coalesce(resolved_at, %(now)s::timestamptz - interval '2 minutes') - replied_at) / greatest(chain, 1)
           AS step,
       (%(agents)s::bigint[])[t + 4 * (floor(r_age * 1000)::int %% %(per_team)s)] AS agent,
       (%(specialists)s::bigint[])[1 + floor(r_took * 1000)::int %% %(n_specialists)s] AS specialist,
       %(customer0)s + floor(r_due * 1000003)::bigint %% %(n_customers)s AS customer_id
FROM breaches b
"""

# The last promise's times, which the ticket repeats (its promise_due_at, warning, next check).
PLAN_FINAL_SQL = """
ALTER TABLE bench_plan ADD COLUMN last_made timestamptz, ADD COLUMN due timestamptz, ADD COLUMN warn timestamptz;
UPDATE bench_plan SET
    last_made = replied_at + step * (chain - 1),
    due = CASE state
        WHEN 'kept' THEN resolved_at + interval '10 minutes' + step * (0.05 + r_due * 0.6)
        WHEN 'at_risk' THEN %(now)s::timestamptz + interval '5 minutes' + r_due * interval '6 hours'
        WHEN 'on_track' THEN %(now)s::timestamptz + interval '1 hour' + r_due * interval '3 days'
        -- broken / breached: it lapsed before the end (the sweep settled it at 0.75 of the last step).
        WHEN 'none' THEN NULL ELSE replied_at + step * (chain - 1) + step * (0.2 + 0.5 * r_due) END
    WHERE chain > 0;
UPDATE bench_plan SET warn = CASE state
        WHEN 'at_risk' THEN greatest(last_made, %(now)s::timestamptz - interval '1 minute'
                                                - r_breach * interval '2 hours')
        WHEN 'on_track' THEN greatest(due - greatest(interval '30 minutes', (due - last_made) * 0.2),
                                      %(now)s::timestamptz + interval '1 minute')
        ELSE due - greatest(interval '30 minutes', (due - last_made) * 0.2) END
    WHERE chain > 0;
ANALYZE bench_plan;
"""

TICKETS_SQL = """
INSERT INTO tickets_ticket (
    id, customer_id, subject, category_id, channel, priority, status, assignee_id, team_id,
    escalation_level_id, token, promise_due_at, promise_state, promise_warn_at, next_check_at, paused_at,
    first_response_at, first_response_by_id, first_response_team_id, resolved_at, last_activity_at,
    created_at, updated_at
)
SELECT id, customer_id,
       (ARRAY['Invoice shows the wrong VAT rate', 'Cannot sign in after the update',
              'Refund for a duplicate payment', 'Export to CSV is missing columns', 'Change the account owner',
              'Password reset email never arrives', 'Upgrade to the annual plan',
              'Webhook deliveries are failing'])[1 + id %% 8] || ' (' || id || ')',
       (%(categories)s::bigint[])[t],
       (ARRAY['web', 'email', 'phone', 'chat'])[1 + (id / 3) %% 4],
       1 + (id / 7) %% 4,
       CASE WHEN life = 'new' THEN 'new' WHEN waiting THEN 'waiting' WHEN life = 'open' THEN 'open'
            WHEN resolved_at > %(now)s::timestamptz - interval '3 days' THEN 'resolved' ELSE 'closed' END,
       -- A breach hands the ticket to the specialists, unassigned until one of them takes it.
       CASE WHEN life = 'new' THEN NULL
            WHEN first_breach IS NULL THEN agent
            WHEN state = 'breached' AND floor(r_who * 8)::int %% 2 = 0 THEN NULL ELSE specialist END,
       CASE WHEN first_breach IS NULL THEN (%(teams)s::bigint[])[t] ELSE %(specialist_team)s END,
       CASE WHEN first_breach IS NULL THEN (%(first_levels)s::bigint[])[t]
            ELSE (%(second_levels)s::bigint[])[t] END,
       -- 32 random hex digits, then the id: matches ^[A-Za-z0-9_-]{22,}$ and is unique.
       md5(id::text || random()::text) || '-' || id,
       due,
       state,
       warn,
       CASE WHEN waiting THEN NULL WHEN state = 'on_track' THEN warn WHEN state = 'at_risk' THEN due END,
       CASE WHEN waiting THEN greatest(last_made, %(now)s::timestamptz - r_breach * interval '1 day') END,
       CASE WHEN life <> 'new' THEN replied_at END,
       CASE WHEN life <> 'new' THEN agent END,
       CASE WHEN life <> 'new' THEN (%(teams)s::bigint[])[t] END,
       resolved_at,
       coalesce(resolved_at, last_made, created_at),
       created_at,
       coalesce(resolved_at, last_made, created_at)
FROM bench_plan
ORDER BY id;
SELECT setval(pg_get_serial_sequence('tickets_ticket', 'id'), (SELECT max(id) FROM tickets_ticket));
"""

# Each ticket's chain, k = 0 .. chain - 1, inserted in the order the promises were made.
PROMISES_SQL = """
WITH chain AS (
    SELECT p.*, k, p.replied_at + p.step * k AS made_at, k = p.chain - 1 AS last,
           random() AS r1, random() AS r2, random() AS r3
    FROM bench_plan p
    CROSS JOIN LATERAL generate_series(0, p.chain - 1) AS k
), judged AS (
    SELECT chain.*,
           CASE WHEN last AND state = 'kept' THEN 'kept'
                WHEN last AND state IN ('on_track', 'at_risk') THEN 'pending'
                WHEN last OR k = first_breach THEN 'broken'
                ELSE 'superseded' END AS outcome,
           CASE WHEN last THEN due
                WHEN k = first_breach THEN made_at + step * (0.2 + 0.5 * r1)
                ELSE made_at + step * (1.2 + 0.8 * r1) END AS due_at,
           first_breach IS NOT NULL AND k > first_breach AS escalated
    FROM chain
)
INSERT INTO tickets_promise (
    ticket_id, team_id, due_at, made_at, made_by_id, words, estimate, estimate_sample_size, overrode_estimate,
    override_reason, change_reason, paused_for, outcome, settled_at, resolved_at
)
SELECT id,
       CASE WHEN escalated THEN %(specialist_team)s ELSE (%(teams)s::bigint[])[t] END,
       due_at,
       made_at,
       CASE WHEN escalated THEN specialist
            WHEN k = 0 OR r3 < 0.8 THEN agent
            ELSE (%(agents)s::bigint[])[t + 4 * (floor(r3 * 1000)::int %% %(per_team)s)] END,
       (ARRAY['We will have an answer for you by then.', 'Our engineers will have it fixed by then.',
              'You will have the refund confirmed by then.', 'We will call you back with the fix by then.'])
           [1 + floor(r1 * 4)::int],
       (due_at - made_at) * CASE WHEN r2 < %(overrode)s THEN 1.25 + 0.75 * r3 ELSE 0.6 + 0.4 * r3 END,
       20 + floor(r3 * 200)::int,
       r2 < %(overrode)s,
       CASE WHEN r2 < %(overrode)s
            THEN 'The customer''s setup is one we fixed last week: the same fix applies.' ELSE '' END,
       CASE WHEN k > 0 AND k - 1 IS DISTINCT FROM first_breach
            THEN 'The fix needs a change on the supplier''s side; they confirmed a new date.' ELSE '' END,
       CASE WHEN last AND outcome <> 'pending' AND r2 >= %(overrode)s AND r2 < %(overrode)s + %(paused)s
            THEN (due_at - made_at) * 0.3 * r3 ELSE interval '0' END,
       outcome,
       CASE outcome WHEN 'superseded' THEN made_at + step WHEN 'kept' THEN resolved_at
                    WHEN 'broken' THEN made_at + step * 0.75 END,
       CASE WHEN outcome IN ('kept', 'broken') THEN resolved_at END
FROM judged
ORDER BY made_at
"""

# A timeline per ticket, in time order: the customer's message, the first reply, each promise made or
# changed, breaches, the at-risk flag, the resolution and its settlement, the closing, and the ratings
# (credited, as ``tickets.services.rate`` does, to the agent who resolved and the ticket's team).
INTERACTIONS_SQL = """
INSERT INTO tickets_interaction (ticket_id, kind, author_kind, author_id, customer_name, body, is_public,
                                 data, created_at)
SELECT e.ticket_id, e.kind, e.author_kind, e.author_id, c.name, e.body, e.is_public, e.data, e.at
FROM (
    SELECT t.id AS ticket_id, x.kind, x.author_kind, x.author_id, x.body, x.is_public, x.data, x.at
    FROM tickets_ticket t
    CROSS JOIN LATERAL (VALUES
        (true, 'customer_message', 'customer', NULL::bigint,
         'Hello, ' || t.subject || '. Could you look into it, please?', true, '{}'::jsonb, t.created_at),
        (t.first_response_at IS NOT NULL, 'reply', 'staff', t.first_response_by_id,
         'Thank you, we are on it.', true, '{}'::jsonb, t.first_response_at),
        (t.promise_state = 'at_risk', 'at_risk', 'system', NULL, 'The promise is due soon.', false,
         '{}'::jsonb, t.promise_warn_at),
        (t.resolved_at IS NOT NULL, 'resolution', 'staff', t.assignee_id,
         'Fixed: the settings are corrected on your account.', true, '{}'::jsonb, t.resolved_at),
        (t.status = 'closed', 'status_change', 'system', NULL, '', false,
         '{"from": "resolved", "to": "closed"}'::jsonb, t.resolved_at + interval '1 day'),
        (t.resolved_at IS NOT NULL AND random() < %(rated)s, 'rating', 'customer', NULL,
         (ARRAY['Quick and clear, thank you.', '', 'It took a while, but it works now.', ''])[1 + t.id %% 4],
         true,
         jsonb_build_object('rating', (ARRAY[5, 5, 5, 4, 4, 4, 3, 2, 1, 5])[1 + t.id %% 10],
                            'agent', t.assignee_id, 'team', t.team_id),
         t.resolved_at + interval '1 hour' + random() * interval '20 hours')
    ) AS x(wanted, kind, author_kind, author_id, body, is_public, data, at)
    WHERE x.wanted
    UNION ALL
    SELECT p.ticket_id,
           CASE WHEN p.change_reason = '' THEN 'promise_made' ELSE 'promise_changed' END,
           'staff', p.made_by_id, p.words, true,
           jsonb_build_object('promise', p.id, 'due_at', p.due_at, 'overrode_estimate', p.overrode_estimate),
           p.made_at
    FROM tickets_promise p
    UNION ALL
    SELECT p.ticket_id, 'breach', 'system', NULL, 'We missed the time we promised you. We are sorry.', true,
           jsonb_build_object('promise', p.id), p.settled_at
    FROM tickets_promise p
    WHERE p.outcome = 'broken'
) AS e
JOIN tickets_ticket t ON t.id = e.ticket_id
JOIN customers_customer c ON c.id = t.customer_id
ORDER BY e.at
"""


@dataclass
class Seeded:
    """What the seed holds (read back by SQL, so a reused seed is described the same way)."""

    seconds: float
    reused: bool
    shape: dict[str, Any] = field(default_factory=dict)


def seed_dashboard(*, tickets: int, promises: int, agents: int, reuse: bool) -> Seeded:
    """Seed (or, with ``reuse``, keep) the dashboard data described in the module docstring."""
    from django.db import connection
    from django.utils import timezone

    from tickets.models import Promise, Rating, Ticket

    started = time.perf_counter()
    if reuse:
        found = Ticket.objects.count(), Promise.objects.count()
        rated = Rating.objects.exists()
        if found == (tickets, promises) and seed_kind() == "desk" and rated:
            print(f"[seed] reusing the {tickets:,} tickets and {promises:,} promises already seeded", flush=True)
            return Seeded(seconds=0.0, reused=True, shape=shape())
        print(f"[seed] cannot reuse ({found[0]:,} tickets, {found[1]:,} promises): seeding afresh", flush=True)

    def step(label: str) -> None:
        print(f"[seed] {label:<58} ({time.perf_counter() - started:6.1f} s)", flush=True)

    wipe()
    config = create_desk_configuration(agents=agents)
    now = timezone.now()
    customers = max(100, tickets // 5)
    with connection.cursor() as cursor:
        cursor.execute(DESK_CUSTOMERS_SQL, {"now": now, "customers": customers})
        cursor.execute("SELECT min(id) FROM customers_customer")
        (customer0,) = cursor.fetchone()
        step(f"configuration: {agents} agents in 4 teams, specialists, {customers:,} customers")
        params = {
            **config,
            "now": now,
            "tickets": tickets,
            "promises": promises,
            "customer0": customer0,
            "n_customers": customers,
            "n_specialists": DESK_SPECIALISTS,
            "new_share": NEW_SHARE,
            "open_share": OPEN_SHARE,
            "at_risk": AT_RISK_SHARE,
            "breached": BREACHED_SHARE,
            "waiting": WAITING_SHARE,
            "final_broken": FINAL_BROKEN_SHARE,
            "earlier_breach": EARLIER_BREACH_SHARE,
            "overrode": OVERRODE_SHARE,
            "paused": PAUSED_SHARE,
            "rated": RATED_SHARE,
        }
        cursor.execute("DROP TABLE IF EXISTS bench_plan")
        cursor.execute(PLAN_SQL, params)
        cursor.execute(PLAN_FINAL_SQL, params)
        step("plan: each ticket's life, people and promise chain")
        cursor.execute(TICKETS_SQL, params)
        step(f"{tickets:,} tickets")
        cursor.execute(PROMISES_SQL, params)
        step(f"{cursor.rowcount:,} promises")
        cursor.execute(INTERACTIONS_SQL, params)
        step(f"{cursor.rowcount:,} interactions (timelines and ratings)")
        cursor.execute(RATINGS_SQL, {"first": 0, "last": 2**62})
        step(f"{cursor.rowcount:,} ratings")
        cursor.execute("DROP TABLE bench_plan")
    fill_durations()
    vacuum_analyze()
    seconds = round(time.perf_counter() - started, 1)
    step("done")
    return Seeded(seconds=seconds, reused=False, shape=shape())


def shape() -> dict[str, Any]:
    """The seed's shape by SQL: what the write-up reports."""
    from django.db import connection

    queries = {
        "tickets": "SELECT count(*) FROM tickets_ticket",
        "promises": "SELECT count(*) FROM tickets_promise",
        "interactions": "SELECT count(*) FROM tickets_interaction",
        "outcomes": "SELECT outcome, count(*) FROM tickets_promise GROUP BY 1 ORDER BY 2 DESC",
        "promises_90_days": "SELECT count(*) FROM tickets_promise WHERE made_at >= now() - interval '90 days'",
        "promises_30_days": "SELECT count(*) FROM tickets_promise WHERE made_at >= now() - interval '30 days'",
        "resolved_promises": "SELECT count(*) FROM tickets_promise WHERE resolved_at IS NOT NULL",
        "resolved_90_days": (
            "SELECT count(*) FROM tickets_promise "
            "WHERE made_at >= now() - interval '90 days' AND resolved_at IS NOT NULL"
        ),
        "first_responses_90_days": (
            "SELECT count(*) FROM tickets_ticket WHERE first_response_at >= now() - interval '90 days'"
        ),
        "ratings_90_days": "SELECT count(*) FROM tickets_rating WHERE rated_at >= now() - interval '90 days'",
        "overrode": "SELECT count(*) FROM tickets_promise WHERE overrode_estimate",
        "oldest_days": "SELECT round(extract(epoch FROM now() - min(created_at)) / 86400) FROM tickets_ticket",
        "statuses": "SELECT status, count(*) FROM tickets_ticket GROUP BY 1 ORDER BY 2 DESC",
        "open_states": (
            "SELECT promise_state, count(*) FROM tickets_ticket WHERE status IN ('new', 'open', 'waiting') "
            "GROUP BY 1 ORDER BY 2 DESC"
        ),
        "first_responses": "SELECT count(*) FROM tickets_ticket WHERE first_response_at IS NOT NULL",
        "ratings": "SELECT count(*) FROM tickets_rating",
        "promises_per_ticket": (
            "SELECT n, count(*) FROM (SELECT count(*) AS n FROM tickets_promise GROUP BY ticket_id) c "
            "GROUP BY 1 ORDER BY 1"
        ),
        "teams": "SELECT count(*) FROM tickets_team",
        "staff_in_teams": "SELECT count(DISTINCT user_id) FROM tickets_team_members",
        "sizes_mb": (
            "SELECT relname, round(pg_total_relation_size(oid) / 1048576.0) FROM pg_class "
            "WHERE relname IN ('tickets_ticket', 'tickets_promise', 'tickets_interaction') ORDER BY 1"
        ),
    }
    found: dict[str, Any] = {}
    with connection.cursor() as cursor:
        for name, sql in queries.items():
            cursor.execute(sql)
            rows = cursor.fetchall()
            found[name] = dict(rows) if cursor.description and len(cursor.description) == 2 else rows[0][0]
    return found


def describe(found: dict[str, Any]) -> list[str]:
    def share(counts: dict[str, int], total: int) -> str:
        return ", ".join(f"{key} {value:,} ({value / total:.0%})" for key, value in counts.items())

    promises = found["promises"]
    open_tickets = sum(found["open_states"].values())
    return [
        f"{found['tickets']:,} tickets over {found['oldest_days']:g} days: "
        + share(found["statuses"], found["tickets"]),
        f"open tickets by promise state: {share(found['open_states'], open_tickets)}",
        f"{promises:,} promises: {share(found['outcomes'], promises)}",
        f"promises made in the last 90 days {found['promises_90_days']:,} "
        f"({found['promises_90_days'] / promises:.0%}), 30 days {found['promises_30_days']:,}; "
        f"with a resolution (slack) {found['resolved_promises']:,}; sooner than the estimate "
        f"{found['overrode']:,} ({found['overrode'] / promises:.0%})",
        f"in the last 90 days: {found['resolved_90_days']:,} promises with a resolution, "
        f"{found['first_responses_90_days']:,} first responses, {found['ratings_90_days']:,} ratings",
        "promises per ticket: " + ", ".join(f"{n}: {c:,}" for n, c in found["promises_per_ticket"].items()),
        f"first responses {found['first_responses']:,}; ratings {found['ratings']:,}; "
        f"{found['interactions']:,} interactions; {found['teams']} teams, {found['staff_in_teams']} staff in teams",
        "sizes (table + indexes, MB): " + ", ".join(f"{k} {v}" for k, v in found["sizes_mb"].items()),
    ]


# --- 3. Measure ---------------------------------------------------------------------------------


@dataclass
class View:
    """A dashboard view measured, with the issue's target if it has one (median, ms)."""

    page: Page
    target_ms: float | None = None
    sql_ms: float = 0.0  # time in PostgreSQL per request (the rest is Django: Python and templates)

    @property
    def met(self) -> bool:
        return self.target_ms is None or self.page.median_ms < self.target_ms


def views() -> list[View]:
    def page(label: str, path: str) -> Page:
        return Page(label=label, kind="dashboard", user=SUPERVISOR, path=path)

    from django.utils import timezone

    today = timezone.localdate()
    dates = f"period=dates&start={today - timedelta(days=89)}&end={today}"
    return [
        View(page("now, by team", "/desk/promises/"), NOW_TARGET_MS),
        View(page("now, by agent", "/desk/promises/?by=agent")),
        View(page("figures, 90 days (computed ahead)", "/desk/promises/figures/?period=90"), FIGURES_TARGET_MS),
        View(page("figures, 30 days (computed ahead)", "/desk/promises/figures/?period=30")),
        View(page("figures, 90 chosen dates (live)", f"/desk/promises/figures/?{dates}")),
        View(page("drill-down: kept, 90 days, page 1", "/desk/promises/figures/tickets/?period=90&figure=kept")),
    ]


def beat_now() -> None:
    """A fresh sweeper heartbeat, so the "now" view shows the watched state as in production."""
    from django.utils import timezone

    from tickets.models import SweepHeartbeat
    from tickets.sweep import HEARTBEAT

    SweepHeartbeat.objects.update_or_create(
        name=HEARTBEAT, defaults={"last_run_at": timezone.now(), "looked_at": 0, "changed": 0, "duration_ms": 2}
    )


def compute_ahead() -> None:
    """What the beat task does every FIGURES_REFRESH_SECONDS: the rolling periods' figures, computed ahead."""
    from django.utils import timezone

    from tickets.supervision.snapshots import refresh_snapshots

    taken = refresh_snapshots(now=timezone.now())
    print("[ahead] the task computed " + ", ".join(f"{days} days in {ms} ms" for days, ms in taken.items()), flush=True)


def timed(call: Callable[[], Any], *, requests: int, warmups: int) -> list[float]:
    """Run ``call`` ``warmups`` times, then ``requests`` times; the latter's durations in ms."""
    timings = []
    for n in range(warmups + requests):
        started = time.perf_counter()
        call()
        if n >= warmups:
            timings.append((time.perf_counter() - started) * 1000)
    return timings


def summarise(page: Page, timings: list[float]) -> None:
    page.median_ms = round(statistics.median(timings), 1)
    page.p95_ms = round(percentile(timings, 0.95), 1)
    page.p99_ms = round(percentile(timings, 0.99), 1)
    page.max_ms = round(max(timings), 1)


def time_views(measured: list[View], *, requests: int, warmups: int) -> None:
    """Sequential in-process GETs of each view as the signed-in supervisor, then a few more with their
    queries captured, for the share of each request spent in PostgreSQL."""
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(User.objects.get(username=SUPERVISOR))
    for view in measured:
        page = view.page

        def get(page: Page = page) -> None:
            response = client.get(page.path)
            if response.status_code != 200:
                raise SystemExit(f"{page.path}: HTTP {response.status_code}")
            page.kbytes = round(len(response.content) / 1024, 1)

        summarise(page, timed(get, requests=requests, warmups=warmups))
        with CaptureQueriesContext(connection) as captured:
            for _ in range(SQL_SAMPLES):
                get()
        view.sql_ms = round(sql_seconds(captured) * 1000 / SQL_SAMPLES, 1)
        print(
            f"[time] {page.label:<36} median {page.median_ms:6.1f}  p95 {page.p95_ms:6.1f}  p99 {page.p99_ms:6.1f} ms"
            f"  {page.queries} queries, SQL {view.sql_ms:.1f} ms  ({page.kbytes} kB)",
            flush=True,
        )


def sql_seconds(captured: Any) -> float:
    return sum(float(query["time"]) for query in captured.captured_queries)


def time_report(*, requests: int, warmups: int) -> View:
    """``report()`` alone for the last 90 days: Python and SQL, no view or template; its slowest queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from tickets.supervision.figures import Period, report

    zone = timezone.get_current_timezone()

    def run() -> None:
        report(Period.last(90, now=timezone.now()), zone=zone)

    page = Page(label="report() alone, 90 days", kind="report", user="", path="")
    summarise(page, timed(run, requests=requests, warmups=warmups))
    with CaptureQueriesContext(connection) as captured:
        run()
    page.queries = len(captured.captured_queries)
    # No target of its own: the task computes it ahead, off the request path (the page's target is above).
    view = View(page, sql_ms=round(sql_seconds(captured) * 1000, 1))
    ranked = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))
    page.slowest_sql = [f"{float(q['time']) * 1000:7.1f} ms  {shorten(q['sql'], 150)}" for q in ranked]
    print(
        f"[time] {page.label:<36} median {page.median_ms:6.1f}  p95 {page.p95_ms:6.1f}  p99 {page.p99_ms:6.1f} ms"
        f"  {page.queries} queries, SQL {view.sql_ms:.1f} ms",
        flush=True,
    )
    return view


# --- 5. Summary ---------------------------------------------------------------------------------


def summary(measured: list[View], info: dict[str, Any], args: argparse.Namespace) -> str:
    header = ("View", "Path", "Queries", "SQL", "Median", "p95", "p99", "Target (median)", "Met")
    rows = [header]
    for view in measured:
        page = view.page
        rows.append(
            (
                page.label,
                page.path or "-",
                str(page.queries),
                f"{view.sql_ms:.1f}",
                f"{page.median_ms:.1f}",
                f"{page.p95_ms:.1f}",
                f"{page.p99_ms:.1f}",
                f"< {view.target_ms:g} ms" if view.target_ms else "-",
                ("yes" if view.met else "NO") if view.target_ms else "-",
            )
        )
    title = (
        f"Supervisor dashboard: {args.tickets:,} tickets, {args.promises:,} promises; {args.requests} sequential "
        f"in-process requests per view after {args.warmups} warm-ups (ms); {machine_line(info)}"
    )
    return text_table(title, rows, left=2)


# --- Main ---------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--tickets", type=int, default=100_000, help="tickets to seed")
    parser.add_argument("--promises", type=int, default=300_000, help="promises to seed (at least --tickets)")
    parser.add_argument("--agents", type=int, default=40, help="first-line agents, a multiple of 4")
    parser.add_argument("--requests", type=int, default=50, help="timed sequential requests per view")
    parser.add_argument("--warmups", type=int, default=5, help="requests per view before timing")
    parser.add_argument("--reuse", action="store_true", help="keep an earlier dashboard seed of the same size")
    parser.add_argument("--keep", action="store_true", help="keep the bench database at the end (for --reuse)")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE the slowest queries of every view")
    args = parser.parse_args(argv)
    if args.tickets < 1_000:
        parser.error("--tickets must be at least 1,000")
    if args.promises < args.tickets:
        parser.error("--promises must be at least --tickets (each promised ticket has one promise or more)")
    if args.agents < 4 or args.agents % 4:
        parser.error("--agents must be a multiple of 4 (four first-line teams)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    data_dir = configure_environment()
    # The in-process client uses the development static storage; whitenoise warns if the folder is missing.
    (Path(os.environ["DATA_DIR"]) / "staticfiles").mkdir(parents=True, exist_ok=True)
    try:
        config, info = prepare_database(SCRIPT)
        seeded = seed_dashboard(tickets=args.tickets, promises=args.promises, agents=args.agents, reuse=args.reuse)
        for line in describe(seeded.shape):
            print(f"[seed] {line}", flush=True)

        beat_now()
        compute_ahead()
        measured = views()
        count_queries([view.page for view in measured])
        time_views(measured, requests=args.requests, warmups=args.warmups)
        alone = time_report(requests=args.requests, warmups=args.warmups)
        info["load_average_1m_end"] = round(os.getloadavg()[0], 2)

        print("\nQueries of report(), 90 days, slowest first:")
        print("\n".join("  " + line for line in alone.page.slowest_sql))
        for view in measured:
            page = view.page
            print(f"\nSlowest queries of {page.label} ({page.queries} queries):")
            print("\n".join("  " + line for line in page.slowest_sql))
            if args.explain or not view.met:
                explain_slowest(page)
                for plan in page.explain:
                    print("  EXPLAIN (ANALYZE, BUFFERS) " + plan[0])
                    print("\n".join("    " + line for line in plan[1:]))
        print()
        print(summary([*measured, alone], info, args))
        print(
            f"\nSeed: {'reused' if seeded.reused else f'{seeded.seconds} s'}; " + "; ".join(describe(seeded.shape)[2:4])
        )
        missed = [
            f"{view.page.label} (median {view.page.median_ms:g} ms, target < {view.target_ms:g} ms)"
            for view in [*measured, alone]
            if not view.met
        ]
        if missed:
            print("Targets MISSED: " + "; ".join(missed))
        else:
            print(f"Targets met: now views < {NOW_TARGET_MS:g} ms median, 90-day figures < {FIGURES_TARGET_MS:g} ms.")
        if not args.keep:
            drop_database(config)
            print(f"[db] dropped {config['NAME']} (--keep keeps it)")
        return 1 if missed else 0
    finally:
        if data_dir is not None:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
