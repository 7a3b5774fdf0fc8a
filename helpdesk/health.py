"""/healthz: is this deployment able to take work? JSON for load balancers and people alike."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from helpdesk.celery import app as celery_app
from helpdesk.clock import database_now

logger = logging.getLogger(__name__)


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_broker() -> None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
        conn.default_channel  # noqa: B018 - opening a channel proves the transport answers


def check_sweeper() -> dict[str, object]:
    """The promise sweep must have run within three intervals, and must be keeping up: no promise lapsed more
    than three intervals ago and still unbroken (a fresh heartbeat alone can hide a sweep that keeps failing).
    Judged by the database's clock."""
    from tickets.sweep import behind, is_behind, is_stale, last_beat

    beat, now = last_beat(), database_now()
    if beat is None:
        raise StaleSweeper("the sweep has never run")
    age = (now - beat.last_run_at).total_seconds()
    lapse = behind(now=now)
    details: dict[str, object] = {
        "last_run_at": beat.last_run_at.isoformat(),
        "seconds_ago": round(age),
        "looked_at": beat.looked_at,
        "oldest_unbroken_lapse": {"ticket": lapse[0], "seconds_ago": round(lapse[1])} if lapse else None,
    }
    if is_stale(beat, now=now):
        raise StaleSweeper(f"the sweep last ran {round(age)} s ago", details)
    if lapse and is_behind(lapse):
        raise StaleSweeper(f"the promise on {lapse[0]} lapsed {round(lapse[1])} s ago and is not broken yet", details)
    return details


class StaleSweeper(Exception):
    def __init__(self, message: str, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.details = details or {}


def report_outbox() -> dict[str, object]:
    """How each email outbox stands (``tickets.outbox.summary``): pending, retrying, sending, in doubt, given up.

    Reported, never a reason for a 503. Emails waiting, in doubt or given up leave the deployment able to take
    work; what they need is a person (the admin lists them and sends them again), and a load balancer or
    orchestrator acting on a 503 would take the desk away, or restart it, without sending a single one. Workers
    that stopped draining altogether stop sweeping too, which the sweeper check does fail on.
    """
    from tickets import outbox
    from tickets.models import CustomerEmail, Notification

    now = database_now()
    return {
        "notifications": outbox.summary(Notification.objects.all(), now=now),
        "customer_emails": outbox.summary(CustomerEmail.objects.all(), now=now),
    }


CHECKS: dict[str, Callable[[], dict[str, object] | None]] = {
    "database": check_database,
    "broker": check_broker,
    "sweeper": check_sweeper,
}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Run every check; 200 when all pass, 503 naming the failing ones otherwise. The outbox's report rides along."""
    results: dict[str, dict[str, object]] = {}
    for name, check in CHECKS.items():
        try:
            details = check() or {}
        except StaleSweeper as error:
            results[name] = {"ok": False, "error": str(error), **error.details}
        except Exception as error:  # a health check reports failures, it never raises them
            logger.warning("health check %s failed: %s", name, error)
            results[name] = {"ok": False, "error": error.__class__.__name__}
        else:
            results[name] = {"ok": True, **details}
    healthy = all(result["ok"] for result in results.values())
    try:
        outbox: dict[str, object] = report_outbox()
    except Exception as error:  # the database is down: the database check says so
        outbox = {"error": error.__class__.__name__}
    return JsonResponse(
        {"status": "ok" if healthy else "unhealthy", "checks": results, "outbox": outbox},
        status=200 if healthy else 503,
    )
