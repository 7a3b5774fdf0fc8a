"""The serverless broker of `make run` (Kombu's filesystem transport) really carries tasks between processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def embedded_environment(data_dir: Path) -> dict[str, str]:
    """The environment of `make run`: nothing but a data folder, plus a result store to read the answer."""
    environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL")}
    (data_dir / "results").mkdir(parents=True)
    environ.update(
        DATA_DIR=str(data_dir), ENVIRONMENT="development", CELERY_RESULT_BACKEND=f"file://{data_dir / 'results'}"
    )
    return environ


def test_a_task_sent_by_one_process_is_run_by_a_worker_in_another(tmp_path):
    environ = embedded_environment(tmp_path)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "--pool", "solo", "--loglevel", "INFO"],
        cwd=ROOT,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        producer = subprocess.run(
            [
                sys.executable,
                "-c",
                "import django; django.setup(); from helpdesk.celery import ping; print(ping.delay().get(timeout=60))",
            ],
            cwd=ROOT,
            env={**environ, "DJANGO_SETTINGS_MODULE": "helpdesk.settings"},
            capture_output=True,
            text=True,
            timeout=90,
        )
    finally:
        worker.terminate()
        worker_log, _ = worker.communicate(timeout=30)

    assert producer.returncode == 0, producer.stderr + worker_log
    assert producer.stdout.strip() == "pong"
    assert "filesystem" in worker_log  # the worker really was on the filesystem transport
    assert "helpdesk.ping" in worker_log and "succeeded" in worker_log
