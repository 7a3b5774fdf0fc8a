"""/healthz says whether this deployment can take work: database and broker, 503 when either is down."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from helpdesk import health
from helpdesk.celery import app as celery_app
from tickets import outbox, services
from tickets import sweep as sweep_module
from tickets.models import CustomerEmail, SweepHeartbeat
from tickets.sweep import sweep

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def swept_just_now(db):
    """A sweeper that is keeping up, unless a test says otherwise."""
    return sweep(now=timezone.now())


def test_healthy_when_database_broker_and_sweeper_answer(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    checks = response.json()["checks"]
    assert response.json()["status"] == "ok"
    assert checks["database"] == {"ok": True} and checks["broker"] == {"ok": True}
    assert checks["sweeper"]["ok"] is True and checks["sweeper"]["seconds_ago"] <= 1
    assert "no-cache" in response["Cache-Control"]


def test_a_sweeper_older_than_three_intervals_is_unhealthy(client, settings):
    sweep(now=timezone.now() - timedelta(seconds=3 * settings.PROMISE_SWEEP_INTERVAL + 5))

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["sweeper"]["ok"] is False
    assert "last ran" in response.json()["checks"]["sweeper"]["error"]


def test_a_sweeper_that_never_ran_is_unhealthy(client):
    SweepHeartbeat.objects.all().delete()

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["sweeper"] == {"ok": False, "error": "the sweep has never run"}


def test_unhealthy_when_the_broker_is_down(client, monkeypatch):
    # Celery reads CELERY_BROKER_URL from the environment before its own configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    assert celery_app.conf.broker_url == "redis://127.0.0.1:1/0"

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unhealthy"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["broker"]["ok"] is False


def test_unhealthy_when_the_database_is_down(client, monkeypatch):
    def database_down() -> None:
        raise health.connection.Database.OperationalError("connection refused")

    monkeypatch.setitem(health.CHECKS, "database", database_down)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False, "error": "OperationalError"}


def test_anyone_may_ask_but_only_with_get(client):
    assert client.post("/healthz").status_code == 405


def test_a_fresh_heartbeat_with_a_promise_lapsed_long_ago_and_unbroken_is_unhealthy(client, ticket, alice, settings):
    # given a sweeper that has just beaten (the fixture's sweep), and a promise that lapsed more than three
    # intervals ago and is still unbroken (as when empty sweeps keep beating beside a batch that keeps failing)
    interval = settings.PROMISE_SWEEP_INTERVAL
    long_ago = timezone.now() - timedelta(seconds=4 * interval + 60)
    services.make_promise(ticket, due_at=long_ago + timedelta(seconds=60), by=alice, words="Soon.", reason="Known fix.",
                          now=long_ago)  # fmt: skip

    response = client.get("/healthz")

    sweeper = response.json()["checks"]["sweeper"]
    assert response.status_code == 503
    assert sweeper["error"].startswith(f"the promise on {ticket.reference} lapsed ")
    assert sweeper["oldest_unbroken_lapse"]["ticket"] == ticket.reference
    assert sweeper["oldest_unbroken_lapse"]["seconds_ago"] >= 4 * interval


def test_a_promise_lapsed_a_moment_ago_is_not_yet_an_alarm(client, ticket, alice):
    moment = timezone.now() - timedelta(seconds=5)
    services.make_promise(ticket, due_at=moment, by=alice, words="Now.", reason="Known fix.",
                          now=moment - timedelta(hours=1))  # fmt: skip

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["checks"]["sweeper"]["oldest_unbroken_lapse"]["ticket"] == ticket.reference


def test_the_outbox_is_reported_and_emails_that_need_a_person_leave_the_desk_healthy(client, ticket, alice):
    for n in range(4):
        services.reply(ticket, by=alice, body=f"Update {n}.")
    now = timezone.now()
    _fresh, retrying, sending, stuck, given_up = CustomerEmail.objects.order_by("id")
    CustomerEmail.objects.filter(pk=retrying.pk).update(email_attempts=2, next_attempt_at=now + timedelta(minutes=2))
    CustomerEmail.objects.filter(pk=sending.pk).update(email_state="sending", sending_since=now, email_attempts=1)
    long_ago = now - outbox.in_doubt_after() - timedelta(seconds=1)
    CustomerEmail.objects.filter(pk=stuck.pk).update(email_state="sending", sending_since=long_ago, email_attempts=1)
    CustomerEmail.objects.filter(pk=given_up.pk).update(email_state="given_up", email_attempts=outbox.MAX_ATTEMPTS)

    response = client.get("/healthz")

    assert response.status_code == 200 and response.json()["status"] == "ok"
    assert response.json()["outbox"] == {
        "customer_emails": {"pending": 2, "retrying": 1, "sending": 2, "in_doubt": 1, "given_up": 1},
        "notifications": {"pending": 0, "retrying": 0, "sending": 0, "in_doubt": 0, "given_up": 0},
    }


def test_a_promise_whose_breach_keeps_failing_stays_in_sight(client, ticket, alice, settings, monkeypatch):
    # given a promise lapsed long ago whose breach fails every time (it is then looked at again a minute later)
    interval = settings.PROMISE_SWEEP_INTERVAL
    long_ago = timezone.now() - timedelta(seconds=4 * interval + 60)
    services.make_promise(ticket, due_at=long_ago + timedelta(seconds=60), by=alice, words="Soon.", reason="Known fix.",
                          now=long_ago)  # fmt: skip

    def failing(ids, *, now):
        raise RuntimeError("a bug in breach handling")

    monkeypatch.setattr(sweep_module, "record_breaches", failing)
    sweep(now=timezone.now())  # the breach fails: retried later, and a heartbeat is fresh

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["checks"]["sweeper"]["oldest_unbroken_lapse"]["ticket"] == ticket.reference
