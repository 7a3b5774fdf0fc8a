"""Settings come from the environment, and a bad value stops start-up with the variable's name."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.processes import PRODUCTION, RUN_VARIABLES

SETTINGS_FILE = Path(__file__).resolve().parents[2] / "helpdesk" / "settings.py"
STRONG_KEY = PRODUCTION["SECRET_KEY"]


@pytest.fixture
def load_settings(monkeypatch, tmp_path):
    """Evaluate settings.py afresh under the given environment and return its names."""

    def load(**environ: str) -> dict:
        for name in RUN_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("DATA_DIR", str(tmp_path))
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(SETTINGS_FILE))

    return load


def test_nothing_set_runs_on_embedded_defaults(load_settings, tmp_path):
    settings = load_settings()

    assert settings["DATABASES"]["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert settings["DATABASES"]["default"]["NAME"] == str(tmp_path / "promisedesk.sqlite3")
    assert settings["CELERY_BROKER_URL"] == "filesystem://"
    assert settings["CACHES"]["default"]["BACKEND"].endswith("LocMemCache")
    assert settings["DEBUG"] is True
    assert settings["USE_TZ"] is True


def test_services_are_taken_from_urls(load_settings):
    settings = load_settings(
        DATABASE_URL="postgres://desk:pw@db.internal:5433/desk",
        CELERY_BROKER_URL="redis://cache.internal:6379/0",
        REDIS_URL="redis://cache.internal:6379/1",
    )

    database = settings["DATABASES"]["default"]
    assert (database["ENGINE"], database["HOST"], database["PORT"], database["NAME"]) == (
        "django.db.backends.postgresql",
        "db.internal",
        5433,
        "desk",
    )
    assert settings["CELERY_BROKER_URL"] == "redis://cache.internal:6379/0"
    assert settings["CACHES"]["default"]["LOCATION"] == "redis://cache.internal:6379/1"


def test_a_new_database_connection_gives_up_after_a_few_seconds(load_settings):
    """A server that does not answer must not hold a request until gunicorn kills the worker (a 503 instead)."""
    assert load_settings(DATABASE_URL="postgres://desk@db.internal/desk")["DATABASES"]["default"]["OPTIONS"] == {
        "connect_timeout": 5
    }
    chosen = load_settings(DATABASE_URL="postgres://desk@db.internal/desk?connect_timeout=2")
    assert chosen["DATABASES"]["default"]["OPTIONS"]["connect_timeout"] == 2


def test_promise_engine_knobs_are_read(load_settings):
    settings = load_settings(
        PROMISE_SWEEP_INTERVAL_SECONDS="10",
        PROMISE_WARN_MIN="45",
        PROMISE_WARN_FRACTION="0.25",
        PROMISE_ESTIMATE_PERCENTILE="0.9",
        PROMISE_ESTIMATE_LOOKBACK_DAYS="30",
        PROMISE_MAX_HORIZON_DAYS="14",
    )

    assert settings["PROMISE_SWEEP_INTERVAL"] == 10
    assert settings["PROMISE_WARN_MIN"].total_seconds() == 45 * 60
    assert settings["PROMISE_WARN_FRACTION"] == 0.25
    assert settings["PROMISE_ESTIMATE_PERCENTILE"] == 0.9
    assert settings["PROMISE_ESTIMATE_LOOKBACK_DAYS"] == 30
    assert settings["PROMISE_MAX_HORIZON_DAYS"] == 14


def test_task_time_limits_are_read_and_the_email_drain_stops_in_time(load_settings):
    defaults = load_settings()
    settings = load_settings(TASK_SOFT_TIME_LIMIT_SECONDS="20", TASK_TIME_LIMIT_SECONDS="25", EMAIL_TIMEOUT="4")

    assert (defaults["CELERY_TASK_SOFT_TIME_LIMIT"], defaults["CELERY_TASK_TIME_LIMIT"]) == (60, 90)
    assert defaults["OUTBOX_DRAIN_SECONDS"] == 60 - 2 * 10
    assert (settings["CELERY_TASK_SOFT_TIME_LIMIT"], settings["CELERY_TASK_TIME_LIMIT"]) == (20, 25)
    assert settings["OUTBOX_DRAIN_SECONDS"] == 12  # room for one more send waiting 4 s twice


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"TASK_TIME_LIMIT_SECONDS": "60"}, "TASK_TIME_LIMIT_SECONDS must be more than TASK_SOFT_TIME_LIMIT"),
        ({"TASK_SOFT_TIME_LIMIT_SECONDS": "20"}, r"must be more than twice EMAIL_TIMEOUT \(10\)"),
        ({"TASK_SOFT_TIME_LIMIT_SECONDS": "0"}, "TASK_SOFT_TIME_LIMIT_SECONDS must be at least 1"),
        ({"TASK_TIME_LIMIT_SECONDS": "a minute"}, "TASK_TIME_LIMIT_SECONDS must be a whole number"),
    ],
)
def test_task_time_limits_that_cannot_work_are_refused(load_settings, environ, expected):
    with pytest.raises(ImproperlyConfigured, match=expected):
        load_settings(**environ)


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("DEBUG", "maybe", "DEBUG must be true or false"),
        ("ENVIRONMENT", "staging", "ENVIRONMENT must be one of"),
        ("DATABASE_URL", "mysql://root@localhost/desk", "DATABASE_URL must point at PostgreSQL or SQLite"),
        ("DATABASE_URL", "not a url", "DATABASE_URL"),
        ("CELERY_BROKER_URL", "http://broker", "CELERY_BROKER_URL must be a URL starting with"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL must be a URL starting with"),
        ("TIME_ZONE", "Mars/Olympus_Mons", "TIME_ZONE must be an IANA time zone"),
        ("EMAIL_PORT", "twenty-five", "EMAIL_PORT must be a whole number"),
        ("EMAIL_PORT", "70000", "EMAIL_PORT must be at most 65535"),
        ("PROMISE_WARN_FRACTION", "1.5", "PROMISE_WARN_FRACTION must be at most 1.0"),
        ("PROMISE_WARN_FRACTION", "a fifth", "PROMISE_WARN_FRACTION must be a number"),
        ("PROMISE_WARN_MIN", "-5", "PROMISE_WARN_MIN must be at least 0"),
        ("PROMISE_SWEEP_INTERVAL_SECONDS", "0", "PROMISE_SWEEP_INTERVAL_SECONDS must be at least 1"),
        ("PROMISE_MAX_HORIZON_DAYS", "0", "PROMISE_MAX_HORIZON_DAYS must be at least 1"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL must be one of"),
        ("SITE_URL", "desk.example.com", "SITE_URL must be a URL starting with"),
    ],
)
def test_a_bad_value_names_the_variable(load_settings, variable, value, expected):
    with pytest.raises(ImproperlyConfigured, match=expected):
        load_settings(**{variable: value})


def test_email_tls_and_ssl_together_are_refused(load_settings):
    with pytest.raises(ImproperlyConfigured, match="EMAIL_USE_TLS and EMAIL_USE_SSL"):
        load_settings(EMAIL_USE_TLS="true", EMAIL_USE_SSL="true")


def test_production_with_a_strong_key_starts_secure(load_settings):
    settings = load_settings(**PRODUCTION)

    assert settings["DEBUG"] is False
    assert settings["SESSION_COOKIE_SECURE"] and settings["CSRF_COOKIE_SECURE"]
    assert settings["SECURE_SSL_REDIRECT"] is True
    assert settings["SECURE_HSTS_SECONDS"] >= 31536000


@pytest.mark.parametrize(
    "secret_key",
    ["", "short-key", "django-insecure-" + "a1b2c3d4e5" * 6, "a" * 60],
    ids=["unset", "short", "django-insecure", "low-entropy"],
)
def test_production_refuses_an_insecure_secret_key(load_settings, secret_key):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY is insecure"):
        load_settings(**{**PRODUCTION, "SECRET_KEY": secret_key})


def test_production_refuses_debug(load_settings):
    with pytest.raises(ImproperlyConfigured, match="DEBUG must be off"):
        load_settings(**PRODUCTION, DEBUG="true")


@pytest.mark.parametrize("variable", ["ALLOWED_HOSTS", "SITE_URL"])
def test_production_requires_the_sites_own_address(load_settings, variable):
    with pytest.raises(ImproperlyConfigured, match=variable):
        load_settings(**{**PRODUCTION, variable: ""})


def test_an_empty_flag_means_its_default_not_off(load_settings):
    settings = load_settings(**PRODUCTION, SECURE_SSL_REDIRECT="", BEHIND_TLS_PROXY="")

    assert settings["SECURE_SSL_REDIRECT"] is True
    assert settings["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")


def test_production_settings_pass_djangos_deployment_checks(tmp_path):
    environ = {k: v for k, v in os.environ.items() if k not in RUN_VARIABLES}
    environ.update(PRODUCTION, DATA_DIR=str(tmp_path))

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=SETTINGS_FILE.parents[1],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("environ", "proxies"),
    [
        ({}, 0),  # development: the peer's address, X-Forwarded-For ignored
        (PRODUCTION, 1),  # production sits behind the TLS proxy
        ({**PRODUCTION, "BEHIND_TLS_PROXY": "false"}, 0),
        ({**PRODUCTION, "TRUSTED_PROXIES": "2"}, 2),
    ],
)
def test_the_proxies_trusted_for_the_clients_address(load_settings, environ, proxies):
    assert load_settings(**environ)["TRUSTED_PROXIES"] == proxies


def test_a_negative_proxy_count_is_refused_by_name(load_settings):
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
        load_settings(TRUSTED_PROXIES="-1")


def test_a_sweep_run_works_for_half_the_soft_time_limit_and_never_for_all_of_it(load_settings):
    assert load_settings()["PROMISE_SWEEP_BUDGET_SECONDS"] == 30
    with pytest.raises(ImproperlyConfigured, match="PROMISE_SWEEP_BUDGET_SECONDS must be at most 59"):
        load_settings(PROMISE_SWEEP_BUDGET_SECONDS="60")
    shorter = load_settings(PROMISE_SWEEP_BUDGET_SECONDS="", TASK_SOFT_TIME_LIMIT_SECONDS="20", EMAIL_TIMEOUT="4")
    assert shorter["PROMISE_SWEEP_BUDGET_SECONDS"] == 10


def test_behind_a_transaction_pooler_connections_are_not_kept_and_no_cursor_outlives_a_transaction(load_settings):
    kept = load_settings(DATABASE_URL="postgres://desk@db.internal/desk")["DATABASES"]["default"]
    assert (kept["CONN_MAX_AGE"], kept.get("DISABLE_SERVER_SIDE_CURSORS", False), kept["CONN_HEALTH_CHECKS"]) == (
        60,
        False,
        True,
    )
    pooled = load_settings(DATABASE_URL="postgres://desk@pgbouncer/desk", DATABASE_TRANSACTION_POOLER="true")
    database = pooled["DATABASES"]["default"]
    assert (database["CONN_MAX_AGE"], database["DISABLE_SERVER_SIDE_CURSORS"]) == (0, True)
