"""/healthz says whether this deployment can take work: database and broker, 503 when either is down."""

from __future__ import annotations

import pytest

from helpdesk import health
from helpdesk.celery import app as celery_app

pytestmark = pytest.mark.django_db


def test_healthy_when_database_and_broker_answer(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": {"ok": True}, "broker": {"ok": True}}}
    assert "no-cache" in response["Cache-Control"]


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
