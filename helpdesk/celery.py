"""The Celery application: worker and beat read their configuration from Django settings (CELERY_*)."""

from __future__ import annotations

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_broker_folders(sender: Celery, **kwargs: object) -> None:
    """The filesystem transport expects its folders to exist; create them for every process."""
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "control_folder"):
        if options.get(key):
            Path(options[key]).mkdir(parents=True, exist_ok=True)


@app.task(name="helpdesk.ping", ignore_result=False)
def ping() -> str:
    """Answer "pong": proves a worker is consuming from the broker (used by tests and operators)."""
    return "pong"
