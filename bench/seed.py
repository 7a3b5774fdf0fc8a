"""Shared by the benchmarks: the bench database (create, migrate, drop, refuse any name without "bench")
and the seeds, written with ``INSERT ... SELECT generate_series`` because the services would take hours.

Two seeds, one per benchmark, each recognised by the escalation path it creates (so ``--reuse`` never
mistakes one for the other):

* ``seed`` (bench/sweep.py): N open tickets, each with a pending on-track promise whose warning starts
  within the next 7 days (nothing due), two teams, a 2-level path, one category; one interaction per
  ticket is left to the sweep.
* ``seed_desk`` (bench/desk.py): what an agent desk looks like after months of use. Four first-line
  teams (agents, a few in two teams) and a specialist team, four categories each with its 2-level path,
  two supervisors, N/5 customers (each with about five tickets, plus one frequent customer with 1 ticket in
  97); tickets spread over teams, statuses and promise states (60 % closed and 10 % resolved
  over the last 6 months, 30 % open in the last 3 days: new and unpromised, on track, at risk, breached
  and escalated to the specialists, waiting on the customer); each with its promise and a timeline of
  3 to 10 interactions (customer message, promise, reply, follow-up, note, status changes, at risk,
  breach, escalation, resolution, settlement, rating), and one ticket in 1,000 with about 30.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import platform
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/promisedesk_bench"
BENCH_PREFIX = "bench-"
# The escalation path each seed creates names the seed in the database (see ``seed_kind``).
SWEEP_PATH = "Bench path"
DESK_PATH_PREFIX = "Bench desk path"


@dataclass
class SeedFigures:
    tickets: int
    reused: bool
    seconds: float
    agents: int
    customers: int
    table_mb: float = 0.0
    index_mb: float = 0.0


# --- 1. Environment -----------------------------------------------------------------------------


def configure_environment() -> Path | None:
    """Point Django at the bench database before settings load; returns the throw-away DATA_DIR, if made."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    # Timings as in production: no DEBUG query log on every query.
    os.environ.setdefault("DEBUG", "false")
    made = None
    if not os.environ.get("DATA_DIR"):
        # Each flagged batch kicks the email outbox through the broker; with the default filesystem
        # broker those messages land under DATA_DIR, which must not be the project's var/.
        made = Path(tempfile.mkdtemp(prefix="promisedesk-bench-"))
        os.environ["DATA_DIR"] = str(made)
    return made


def database_settings(script: str = "bench/sweep.py") -> dict[str, Any]:
    from django.conf import settings

    config: dict[str, Any] = settings.DATABASES["default"]
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise SystemExit(f"{script} measures PostgreSQL: set DATABASE_URL=postgres://.../promisedesk_bench")
    if "bench" not in str(config["NAME"]):
        raise SystemExit(
            f"Refusing to run against database {config['NAME']!r}: this benchmark wipes data, so the database "
            "name must contain 'bench' (default: promisedesk_bench)."
        )
    return config


def prepare_database(script: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Create the bench database if missing, set Django up and migrate; returns (config, machine())."""
    config = database_settings(script)
    if create_database_if_missing(config):
        print(f"[db] created database {config['NAME']}", flush=True)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    info = machine()
    print(f"[db] {config['NAME']} migrated; {info['postgresql']}, {info['cpus']} CPUs", flush=True)
    return config, info


def maintenance_connection(config: dict[str, Any]) -> Any:
    import psycopg2

    conn = psycopg2.connect(
        dbname="postgres",
        host=config.get("HOST") or None,
        port=config.get("PORT") or None,
        user=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
    )
    conn.autocommit = True
    return conn


# --- 2. Database --------------------------------------------------------------------------------


def create_database_if_missing(config: dict[str, Any]) -> bool:
    from psycopg2 import sql

    conn = maintenance_connection(config)
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]])
            if cursor.fetchone():
                return False
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(config["NAME"])))
            return True
    finally:
        conn.close()


def drop_database(config: dict[str, Any]) -> None:
    from django.db import connections
    from psycopg2 import sql

    connections.close_all()
    conn = maintenance_connection(config)
    try:
        with conn.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(config["NAME"])))
    finally:
        conn.close()


# --- 3. Seed ------------------------------------------------------------------------------------

SEED_CHUNK_SQL = """
WITH g AS (
    SELECT i,
           %(now)s::timestamptz - random() * interval '2 days' AS made_at,
           %(now)s::timestamptz + interval '1 hour' + random() * interval '7 days' AS warn_at
    FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i
), t AS (
    INSERT INTO tickets_ticket (
        customer_id, subject, category_id, channel, priority, status, assignee_id, team_id,
        escalation_level_id, token, promise_due_at, promise_state, promise_warn_at, next_check_at,
        paused_at, first_response_at, resolved_at, last_activity_at, created_at, updated_at
    )
    SELECT (%(customers)s::bigint[])[1 + i %% %(n_customers)s],
           'Bench request ' || i,
           %(category)s,
           'web',
           1 + i %% 4,
           'open',
           (%(agents)s::bigint[])[1 + i %% %(n_agents)s],
           %(team)s,
           %(level)s,
           -- 32 random hex digits, then the sequence number: matches ^[A-Za-z0-9_-]{22,}$ and is unique.
           md5(i::text || random()::text) || '-' || i,
           -- The default rule (WARN_MIN 30 min, WARN_FRACTION 0.2 of the span) solved for the due time.
           warn_at + greatest(interval '30 minutes', (warn_at - made_at) * 0.25),
           'on_track',
           warn_at,
           warn_at,
           NULL,
           made_at,
           NULL,
           made_at,
           made_at - interval '10 minutes',
           made_at
    FROM g
    RETURNING id, assignee_id, promise_due_at, last_activity_at
)
INSERT INTO tickets_promise (
    ticket_id, team_id, due_at, made_at, made_by_id, words, estimate, estimate_sample_size, overrode_estimate,
    override_reason, change_reason, paused_for, outcome, settled_at
)
SELECT id, %(team)s, promise_due_at, last_activity_at, assignee_id, 'We will have an answer for you by then.',
       interval '8 hours', 0, false, '', '', interval '0', 'pending', NULL
FROM t
"""


def wipe() -> None:
    """Empty every table the seed and the sweep write (TRUNCATE: the append-only trigger is row-level)."""
    from django.apps import apps
    from django.contrib.auth import get_user_model
    from django.db import connection

    tables = [
        model._meta.db_table for name in ("tickets", "customers") for model in apps.get_app_config(name).get_models()
    ]
    tables.append(get_user_model()._meta.db_table)
    quoted = ", ".join(connection.ops.quote_name(table) for table in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")


def create_configuration(*, agents: int, customers: int) -> dict[str, Any]:
    """Two teams, a 2-level path, a category and customers, through the ORM like an administrator would."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    from customers.models import Customer
    from tickets.models import Category, EscalationLevel, EscalationPath, Role, Team

    user_model = get_user_model()
    unusable = make_password(None)
    first_line = user_model.objects.bulk_create(
        [
            user_model(
                username=f"{BENCH_PREFIX}agent-{i}",
                first_name=f"Agent {i}",
                email=f"{BENCH_PREFIX}agent-{i}@staff.example.com",
                is_staff=True,
                password=unusable,
            )
            for i in range(1, agents + 1)
        ]
    )
    second_line = user_model.objects.bulk_create(
        [
            user_model(
                username=f"{BENCH_PREFIX}specialist-{i}",
                first_name=f"Specialist {i}",
                email=f"{BENCH_PREFIX}specialist-{i}@staff.example.com",
                is_staff=True,
                password=unusable,
            )
            for i in range(1, 4)
        ]
    )
    Group.objects.get(name=Role.AGENTS).user_set.add(*first_line, *second_line)
    team_1 = Team.objects.create(name="Bench first line", lead=first_line[0])
    team_1.members.add(*first_line)
    team_2 = Team.objects.create(name="Bench second line", lead=second_line[0])
    team_2.members.add(*second_line)
    path = EscalationPath.objects.create(name=SWEEP_PATH)
    level_1 = EscalationLevel.objects.create(path=path, position=1, name="First line", team=team_1)
    EscalationLevel.objects.create(path=path, position=2, name="Second line", team=team_2)
    category = Category.objects.create(
        name="Bench question", slug="bench-question", escalation_path=path, default_target=timedelta(hours=8)
    )
    people = Customer.objects.bulk_create(
        [
            Customer(name=f"Bench Customer {i}", email=f"{BENCH_PREFIX}customer-{i}@example.com")
            for i in range(1, customers + 1)
        ]
    )
    return {
        "agents": [user.pk for user in first_line],
        "customers": [customer.pk for customer in people],
        "category": category.pk,
        "team": team_1.pk,
        "level": level_1.pk,
    }


def seed(*, tickets: int, chunk: int, agents: int, customers: int, reuse: bool) -> SeedFigures:
    from django.db import connection
    from django.utils import timezone

    from tickets.models import Ticket

    started = time.perf_counter()
    if reuse:
        existing = Ticket.objects.count()
        due = Ticket.objects.due_for_check(timezone.now()).count()
        if existing == tickets and due == 0 and seed_kind() == "sweep":
            print(f"[seed] reusing the {existing:,} tickets already seeded (nothing due)", flush=True)
            return SeedFigures(
                tickets=existing, reused=True, seconds=0.0, agents=agents, customers=customers, **table_sizes()
            )
        print(
            f"[seed] cannot reuse ({existing:,} tickets, {due:,} due, {seed_kind()} seed): seeding afresh", flush=True
        )

    print("[seed] wiping the bench tables", flush=True)
    wipe()
    config = create_configuration(agents=agents, customers=customers)
    print(f"[seed] configuration: {agents} agents, 2-level path, 1 category, {customers:,} customers", flush=True)
    now = timezone.now()
    params = {
        "now": now,
        "customers": config["customers"],
        "n_customers": len(config["customers"]),
        "agents": config["agents"],
        "n_agents": len(config["agents"]),
        "category": config["category"],
        "team": config["team"],
        "level": config["level"],
    }
    with connection.cursor() as cursor:
        for first in range(1, tickets + 1, chunk):
            last = min(first + chunk - 1, tickets)
            cursor.execute(SEED_CHUNK_SQL, {**params, "first": first, "last": last})
            elapsed = time.perf_counter() - started
            print(
                f"[seed] {last:>9,} / {tickets:,} tickets and promises  ({elapsed:6.1f} s, {last / elapsed:,.0f}/s)",
                flush=True,
            )
    fill_durations()
    vacuum_analyze()
    seconds = time.perf_counter() - started
    print(f"[seed] done in {seconds:.1f} s", flush=True)
    return SeedFigures(
        tickets=tickets, reused=False, seconds=round(seconds, 1), agents=agents, customers=customers, **table_sizes()
    )


def table_sizes() -> dict[str, float]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_table_size('tickets_ticket'), pg_indexes_size('tickets_ticket')")
        table, indexes = cursor.fetchone()
    return {"table_mb": round(table / 2**20, 1), "index_mb": round(indexes / 2**20, 1)}


def seed_kind() -> str:
    """Which seed the database holds: "sweep", "desk" or "" (none, or something else)."""
    from tickets.models import EscalationPath

    names = set(EscalationPath.objects.values_list("name", flat=True))
    if SWEEP_PATH in names:
        return "sweep"
    if any(name.startswith(DESK_PATH_PREFIX) for name in names):
        return "desk"
    return ""


def fill_durations() -> None:
    """The durations the supervisors' figures read, which the seeds' SQL leaves empty: migration 0026's ``fill``
    (elapsed time, as the seeds' desks run around the clock)."""
    from tickets.models import Promise, Ticket, ticket_writes

    print("[seed] the figures' durations", flush=True)
    with ticket_writes():
        importlib.import_module("tickets.migrations.0026_durations_in_business_time").fill(Promise, Ticket)


def vacuum_analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        print("[seed] VACUUM ANALYZE", flush=True)
        cursor.execute("VACUUM ANALYZE")
        try:  # start the measurements without a checkpoint of the seed's writes pending
            cursor.execute("CHECKPOINT")
        except Exception:  # CHECKPOINT needs superuser (or pg_checkpoint); the figures are still valid
            print("[seed] CHECKPOINT not permitted for this user; skipped", flush=True)


# --- The desk seed ------------------------------------------------------------------------------

DESK_TEAMS = ("Billing", "Technical", "Accounts", "Onboarding")
DESK_SPECIALISTS = 4
DESK_SUPERVISORS = 2
# One ticket in FREQUENT_EVERY belongs to the first customer (a large account with a long history);
# one in LONG_TIMELINE_EVERY (i % 1000 == LONG_TIMELINE_AT: open, on track, first team) gets 24 more interactions.
FREQUENT_EVERY = 97
LONG_TIMELINE_EVERY = 1000
LONG_TIMELINE_AT = 25
LONG_TIMELINE_EXTRA = 24

DESK_CUSTOMERS_SQL = """
INSERT INTO customers_customer (
    name, preferred_name, email, phone, organisation, tier, time_zone, notes, created_at, updated_at
)
SELECT f.name || ' ' || l.name,
       '',
       lower(f.name || '.' || l.name || '.' || i || '@example.com'),
       CASE WHEN i %% 3 = 0 THEN '+44 20 7946 ' || lpad((i %% 10000)::text, 4, '0') ELSE '' END,
       CASE WHEN i %% 4 = 0 THEN 'Organisation ' || (i %% 500) ELSE '' END,
       (ARRAY['standard', 'standard', 'standard', 'priority', 'enterprise'])[1 + i %% 5],
       '',
       CASE WHEN i %% 10 = 0 THEN 'Prefers email; copy their manager on billing questions.' ELSE '' END,
       %(now)s::timestamptz - interval '200 days' - random() * interval '700 days',
       %(now)s::timestamptz - random() * interval '30 days'
FROM generate_series(1, %(customers)s::bigint) AS i
JOIN (SELECT row_number() OVER () - 1 AS k, name FROM unnest(ARRAY[
    'Amara', 'Ben', 'Chloe', 'Dmitri', 'Elena', 'Farid', 'Grace', 'Hiroshi', 'Ines', 'Jonas',
    'Kwame', 'Lena', 'Mateo', 'Nadia', 'Oscar', 'Priya', 'Quentin', 'Rosa', 'Sven', 'Tomasz'
]) AS name) AS f ON f.k = i %% 20
JOIN (SELECT row_number() OVER () - 1 AS k, name FROM unnest(ARRAY[
    'Okafor', 'Smith', 'Novak', 'Garcia', 'Muller', 'Rossi', 'Kowalski', 'Dubois', 'Jensen', 'Silva',
    'Tanaka', 'Nguyen', 'Haddad', 'Brown', 'Kaur', 'Ivanova', 'Lindqvist', 'Murphy', 'Costa', 'Weber',
    'Adeyemi', 'Fischer', 'Moreau', 'Yilmaz', 'Petrov'
]) AS name) AS l ON l.k = (i / 20) %% 25
"""

# Buckets (i * 7919) %% 100: 0-51 closed and kept, 52-59 closed and broken, 60-65 resolved and kept,
# 66-69 resolved and broken, 70-74 new (no promise, unassigned), 75-87 open on track, 88-92 open at risk,
# 93-96 open breached (escalated to the specialists), 97-99 waiting on the customer (clock paused).
DESK_TICKETS_SQL = """
WITH g AS (
    SELECT i, (i * 7919) %% 100 AS b, (i - 1) %% 4 + 1 AS t, random() AS r1, random() AS r2
    FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i
), s AS (
    SELECT g.*,
           CASE WHEN b < 60 THEN 'closed' WHEN b < 70 THEN 'resolved' WHEN b < 75 THEN 'new'
                WHEN b < 97 THEN 'open' ELSE 'waiting' END AS status,
           CASE WHEN b < 52 THEN 'kept' WHEN b < 60 THEN 'broken' WHEN b < 66 THEN 'kept'
                WHEN b < 70 THEN 'broken' WHEN b < 75 THEN 'none' WHEN b < 88 THEN 'on_track'
                WHEN b < 93 THEN 'at_risk' WHEN b < 97 THEN 'breached' ELSE 'on_track' END AS state,
           CASE WHEN b < 70 THEN %(now)s::timestamptz - interval '4 days' - r1 * interval '180 days'
                ELSE %(now)s::timestamptz - interval '10 minutes' - r1 * interval '3 days' END AS made_at
    FROM g
), d AS (
    SELECT s.*,
           CASE state
               WHEN 'none' THEN NULL
               WHEN 'on_track' THEN %(now)s::timestamptz + interval '1 hour' + r2 * interval '3 days'
               WHEN 'at_risk' THEN %(now)s::timestamptz + interval '1 hour' + r2 * interval '6 hours'
               WHEN 'breached' THEN made_at + interval '6 minutes'
                                    + (%(now)s::timestamptz - made_at - interval '7 minutes') * r2
               ELSE made_at + interval '4 hours' + r2 * interval '2 days'
           END AS due_at
    FROM s
), w AS (
    SELECT d.*,
           CASE WHEN state = 'none' THEN NULL
                WHEN state = 'on_track' THEN greatest(
                    due_at - greatest(interval '30 minutes', (due_at - made_at) * 0.2),
                    %(now)s::timestamptz + interval '1 minute')
                WHEN state = 'at_risk' THEN %(now)s::timestamptz - interval '1 minute' - r1 * interval '1 hour'
                ELSE due_at - greatest(interval '30 minutes', (due_at - made_at) * 0.2)
           END AS warn_at,
           CASE WHEN state = 'kept' THEN made_at + (due_at - made_at) * 0.8
                WHEN state = 'broken' THEN due_at + interval '2 hours' + r1 * interval '1 day'
           END AS resolved_at
    FROM d
), t AS (
    INSERT INTO tickets_ticket (
        customer_id, subject, category_id, channel, priority, status, assignee_id, team_id,
        escalation_level_id, token, promise_due_at, promise_state, promise_warn_at, next_check_at,
        paused_at, first_response_at, resolved_at, last_activity_at, created_at, updated_at
    )
    SELECT CASE WHEN i %% %(frequent_every)s = 0 THEN %(customer0)s
                ELSE %(customer0)s + (i * 37) %% %(n_customers)s END,
           (ARRAY['Invoice shows the wrong VAT rate', 'Cannot sign in after the update',
                  'Refund for a duplicate payment', 'Export to CSV is missing columns',
                  'Change the account owner', 'Password reset email never arrives',
                  'Upgrade to the annual plan', 'Webhook deliveries are failing'])[1 + (i * 13) %% 8]
               || ' (' || i || ')',
           (%(categories)s::bigint[])[t],
           (ARRAY['web', 'email', 'phone', 'chat'])[1 + (i / 3) %% 4],
           1 + (i / 7) %% 4,
           status,
           CASE WHEN state = 'none' THEN NULL
                WHEN state = 'breached' THEN (%(specialists)s::bigint[])[1 + (i / 4) %% %(n_specialists)s]
                ELSE (%(agents)s::bigint[])[t + 4 * ((i / 4) %% %(per_team)s)] END,
           CASE WHEN state = 'breached' THEN %(specialist_team)s ELSE (%(teams)s::bigint[])[t] END,
           CASE WHEN state = 'breached' THEN (%(second_levels)s::bigint[])[t]
                ELSE (%(first_levels)s::bigint[])[t] END,
           -- 32 random hex digits, then the sequence number: matches ^[A-Za-z0-9_-]{22,}$ and is unique.
           md5(i::text || random()::text) || '-' || i,
           due_at,
           state,
           warn_at,
           CASE WHEN status = 'waiting' THEN NULL
                WHEN state = 'on_track' THEN warn_at WHEN state = 'at_risk' THEN due_at END,
           CASE WHEN status = 'waiting' THEN greatest(made_at, %(now)s::timestamptz - r1 * interval '1 day') END,
           CASE WHEN state <> 'none' THEN made_at + interval '10 minutes' END,
           resolved_at,
           coalesce(resolved_at, made_at + CASE WHEN state = 'none' THEN interval '0' ELSE interval '10 minutes' END),
           made_at,
           coalesce(resolved_at, made_at + interval '10 minutes')
    FROM w
    RETURNING id, team_id, assignee_id, promise_state, promise_due_at, created_at, resolved_at
)
INSERT INTO tickets_promise (
    ticket_id, team_id, due_at, made_at, made_by_id, words, estimate, estimate_sample_size, overrode_estimate,
    override_reason, change_reason, paused_for, outcome, settled_at, resolved_at
)
SELECT id, team_id, promise_due_at, created_at + interval '5 minutes', assignee_id,
       'We will have an answer for you by then.', interval '8 hours', 40, false, '', '', interval '0',
       CASE WHEN promise_state IN ('kept', 'broken') THEN promise_state ELSE 'pending' END, resolved_at, resolved_at
FROM t
WHERE promise_state <> 'none'
"""

# The ratings' own rows (what the figures count), from the rating entries just written: one per resolution, as
# ``tickets.services.rate`` keeps them, credited to the agent who resolved and the ticket's team.
RATINGS_SQL = """
INSERT INTO tickets_rating (ticket_id, resolution_id, stars, comment, agent_id, team_id, rated_at)
SELECT DISTINCT ON (resolution.id)
       rating.ticket_id, resolution.id, (rating.data ->> 'rating')::int, rating.body, resolution.author_id,
       t.team_id, rating.created_at
FROM tickets_interaction AS rating
JOIN tickets_interaction AS resolution ON resolution.ticket_id = rating.ticket_id AND resolution.kind = 'resolution'
JOIN tickets_ticket AS t ON t.id = rating.ticket_id
WHERE rating.kind = 'rating' AND rating.ticket_id BETWEEN %(first)s AND %(last)s
ORDER BY resolution.id, rating.created_at DESC
"""

DESK_INTERACTIONS_SQL = """
INSERT INTO tickets_interaction (
    ticket_id, kind, author_kind, author_id, customer_name, body, is_public, data, created_at
)
SELECT t.id, e.kind, e.author_kind, CASE WHEN e.author_kind = 'staff' THEN t.assignee_id END, c.name,
       e.body, e.is_public, e.data, e.at
FROM tickets_ticket AS t
JOIN customers_customer AS c ON c.id = t.customer_id
CROSS JOIN LATERAL (VALUES
    (true, 'customer_message', 'customer', 'Hello, ' || t.subject || '. Could you look into it, please?',
     true, '{}'::jsonb, t.created_at),
    (t.promise_state <> 'none', 'promise_made', 'staff', 'We will have an answer for you by then.',
     true, jsonb_build_object('due_at', t.promise_due_at), t.created_at + interval '5 minutes'),
    (t.assignee_id IS NOT NULL, 'reply', 'staff', 'Thank you, we are on it. I will write again shortly.',
     true, '{}'::jsonb, t.created_at + interval '6 minutes'),
    (t.assignee_id IS NOT NULL AND t.id %% 2 = 0, 'customer_message', 'customer',
     'Thanks. Here is a screenshot of what I see, in case it helps.', true, '{}'::jsonb,
     t.created_at + interval '7 minutes'),
    (t.assignee_id IS NOT NULL AND t.id %% 3 = 0, 'note', 'staff',
     'Checked the logs: the same error as last month. Asked the team for the fix.', false, '{}'::jsonb,
     t.created_at + interval '8 minutes'),
    (t.status = 'waiting', 'status_change', 'staff', '', false,
     '{"from": "open", "to": "waiting"}'::jsonb, t.paused_at),
    (t.promise_state IN ('at_risk', 'breached'), 'at_risk', 'system', '', false, '{}'::jsonb,
     t.promise_warn_at),
    (t.promise_state = 'breached', 'breach', 'system', '', false, '{}'::jsonb, t.promise_due_at),
    (t.promise_state = 'breached', 'escalation', 'system',
     'The promise lapsed: moved to the specialists. Customer waiting since the first message.', false,
     '{}'::jsonb, t.promise_due_at),
    (t.resolved_at IS NOT NULL, 'resolution', 'staff', 'Fixed: the settings are corrected on your account.',
     true, '{}'::jsonb, t.resolved_at),
    (t.resolved_at IS NOT NULL, 'promise_settled', 'system', '', false,
     jsonb_build_object('outcome', t.promise_state), t.resolved_at),
    (t.status = 'closed', 'status_change', 'system', '', false,
     '{"from": "resolved", "to": "closed"}'::jsonb, t.resolved_at + interval '1 hour'),
    (t.status = 'closed' AND t.id %% 3 = 0, 'rating', 'customer', 'Quick and clear, thank you.', true,
     jsonb_build_object('rating', 1 + t.id %% 5), t.resolved_at + interval '2 hours')
) AS e(wanted, kind, author_kind, body, is_public, data, at)
WHERE t.id BETWEEN %(first)s AND %(last)s AND e.wanted
UNION ALL
SELECT t.id,
       CASE WHEN k %% 2 = 0 AND t.assignee_id IS NOT NULL THEN 'reply' ELSE 'customer_message' END,
       CASE WHEN k %% 2 = 0 AND t.assignee_id IS NOT NULL THEN 'staff' ELSE 'customer' END,
       CASE WHEN k %% 2 = 0 AND t.assignee_id IS NOT NULL THEN t.assignee_id END,
       c.name, 'Message ' || k || ' of a long conversation.', true, '{}'::jsonb,
       t.created_at + interval '8 minutes' + k * interval '5 seconds'
FROM tickets_ticket AS t
JOIN customers_customer AS c ON c.id = t.customer_id
CROSS JOIN generate_series(1, %(extra)s) AS k
WHERE t.id BETWEEN %(first)s AND %(last)s AND t.id %% %(long_every)s = %(long_at)s
"""


def create_desk_configuration(*, agents: int) -> dict[str, Any]:
    """Teams, paths, categories and staff through the ORM, like an administrator would set them up."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group

    from tickets.models import Category, EscalationLevel, EscalationPath, Role, Team

    user_model = get_user_model()
    unusable = make_password(None)  # bench/desk.py sets a password on the accounts it signs in with

    def staff(kind: str, count: int) -> list[Any]:
        return user_model.objects.bulk_create(
            [
                user_model(
                    username=f"{BENCH_PREFIX}{kind}-{i}",
                    first_name=kind.capitalize(),
                    last_name=str(i),
                    email=f"{BENCH_PREFIX}{kind}-{i}@staff.example.com",
                    is_staff=True,
                    password=unusable,
                )
                for i in range(1, count + 1)
            ]
        )

    # Agent k (1-based) is in first-line team (k - 1) % 4: the seed SQL relies on that order.
    first_line = staff("agent", agents)
    specialists = staff("specialist", DESK_SPECIALISTS)
    supervisors = staff("supervisor", DESK_SUPERVISORS)
    Group.objects.get(name=Role.AGENTS).user_set.add(*first_line, *specialists)
    Group.objects.get(name=Role.SUPERVISORS).user_set.add(*supervisors)
    specialist_team = Team.objects.create(name="Bench specialists", lead=specialists[0])
    specialist_team.members.add(*specialists)
    teams, first_levels, second_levels, categories = [], [], [], []
    for index, name in enumerate(DESK_TEAMS):
        members = first_line[index::4]
        team = Team.objects.create(name=f"Bench {name.lower()}", lead=members[0])
        team.members.add(*members)
        teams.append(team)
        path = EscalationPath.objects.create(name=f"{DESK_PATH_PREFIX}: {name.lower()}")
        first_levels.append(EscalationLevel.objects.create(path=path, position=1, name="First line", team=team))
        second_levels.append(
            EscalationLevel.objects.create(path=path, position=2, name="Specialists", team=specialist_team)
        )
        categories.append(
            Category.objects.create(
                name=f"{name} question",
                slug=f"bench-{name.lower()}",
                escalation_path=path,
                default_target=timedelta(hours=8),
            )
        )
    # The first agent of each team also covers the next team (people in two teams see both queues).
    for index, team in enumerate(teams):
        team.members.add(first_line[(index + 1) % 4])
    return {
        "agents": [user.pk for user in first_line],
        "per_team": agents // 4,
        "specialists": [user.pk for user in specialists],
        "specialist_team": specialist_team.pk,
        "teams": [team.pk for team in teams],
        "first_levels": [level.pk for level in first_levels],
        "second_levels": [level.pk for level in second_levels],
        "categories": [category.pk for category in categories],
    }


def add_desk_seed_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``seed_desk``, for the scripts that seed the desk (bench/desk.py, bench/api.py)."""
    parser.add_argument("--tickets", type=int, default=100_000, help="tickets to seed (N)")
    parser.add_argument("--agents", type=int, default=40, help="first-line agents, a multiple of 4")
    parser.add_argument("--customers", type=int, help="customers (default: N / 5, so about 5 tickets each)")
    parser.add_argument("--chunk", type=int, default=100_000, help="tickets inserted per seeding statement")
    parser.add_argument("--reuse", action="store_true", help="keep an earlier desk seed of the same N")


def check_desk_seed_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace, measured: str) -> None:
    """Fill in the customers' default, and refuse a seed too small for what the script measures."""
    if args.customers is None:
        args.customers = max(100, args.tickets // 5)
    if args.tickets < 1_000:
        parser.error(f"--tickets must be at least 1,000 (the {measured} need the seed's special tickets)")


def seed_desk(*, tickets: int, chunk: int, agents: int, customers: int, reuse: bool) -> SeedFigures:
    """The desk seed (see the module's docstring); ``reuse`` keeps an earlier desk seed of the same size."""
    from django.db import connection
    from django.utils import timezone

    from tickets.models import Ticket

    if agents < 4 or agents % 4:
        raise SystemExit("--agents must be a multiple of 4 (the desk seed has four first-line teams)")
    started = time.perf_counter()
    if reuse:
        existing = Ticket.objects.count()
        kind = seed_kind()
        if existing == tickets and kind == "desk":
            print(f"[seed] reusing the {existing:,} desk tickets already seeded", flush=True)
            return SeedFigures(
                tickets=existing, reused=True, seconds=0.0, agents=agents, customers=customers, **table_sizes()
            )
        print(f"[seed] cannot reuse ({existing:,} tickets, {kind or 'no'} seed): seeding afresh", flush=True)

    print("[seed] wiping the bench tables", flush=True)
    wipe()
    config = create_desk_configuration(agents=agents)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(DESK_CUSTOMERS_SQL, {"now": now, "customers": customers})
        cursor.execute("SELECT min(id) FROM customers_customer")
        (customer0,) = cursor.fetchone()
        print(
            f"[seed] configuration: {agents} agents in {len(DESK_TEAMS)} teams, {DESK_SPECIALISTS} specialists, "
            f"{DESK_SUPERVISORS} supervisors, {len(DESK_TEAMS)} categories and paths, {customers:,} customers",
            flush=True,
        )
        params = {
            **config,
            "now": now,
            "customer0": customer0,
            "n_customers": customers,
            "n_specialists": DESK_SPECIALISTS,
            "frequent_every": FREQUENT_EVERY,
            "extra": LONG_TIMELINE_EXTRA,
            "long_every": LONG_TIMELINE_EVERY,
            "long_at": LONG_TIMELINE_AT,
        }
        for first in range(1, tickets + 1, chunk):
            last = min(first + chunk - 1, tickets)
            cursor.execute(DESK_TICKETS_SQL, {**params, "first": first, "last": last})
            cursor.execute("SELECT min(id), max(id) FROM tickets_ticket WHERE id >= %s", [first])
            low, high = cursor.fetchone()
            cursor.execute(DESK_INTERACTIONS_SQL, {**params, "first": low, "last": high})
            cursor.execute(RATINGS_SQL, {"first": low, "last": high})
            elapsed = time.perf_counter() - started
            print(f"[seed] {last:>9,} / {tickets:,} tickets, promises and timelines  ({elapsed:6.1f} s)", flush=True)
    fill_durations()
    vacuum_analyze()
    seconds = time.perf_counter() - started
    print(f"[seed] done in {seconds:.1f} s", flush=True)
    return SeedFigures(
        tickets=tickets, reused=False, seconds=round(seconds, 1), agents=agents, customers=customers, **table_sizes()
    )


# --- Measuring -------------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def shorten(sql: str, width: int = 160) -> str:
    sql = " ".join(sql.split())
    return sql if len(sql) <= width else sql[: width - 1] + "…"


def machine() -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version(), current_setting('shared_buffers'), current_setting('synchronous_commit')")
        version, shared_buffers, synchronous_commit = cursor.fetchone()
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "postgresql": version.split(" on ")[0],
        "shared_buffers": shared_buffers,
        "synchronous_commit": synchronous_commit,
        "host": f"{connection.settings_dict.get('HOST') or 'socket'}:{connection.settings_dict.get('PORT') or 5432}",
        # The machine may be shared (tests running beside the benchmark): say how busy it was.
        "load_average_1m": round(os.getloadavg()[0], 2),
    }
