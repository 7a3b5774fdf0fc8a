"""The Celery application: worker and beat read their configuration from Django settings (CELERY_*)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from celery import Celery
from celery.signals import task_revoked

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


@task_revoked.connect
def _say_a_task_was_dropped(sender: object = None, request: object = None, **details: object) -> None:
    """A task dropped unrun (expired, revoked) is said out loud: a sweep discarded in silence once left every
    promise unbroken for a whole run while the logs looked calm."""
    reason = "it had expired" if details.get("expired") else "it was revoked"
    name = getattr(request, "name", None) or getattr(sender, "name", "a task")
    logging.getLogger("helpdesk.celery").warning("Dropped %s unrun: %s.", name, reason)


@app.task(name="helpdesk.ping", ignore_result=False)
def ping() -> str:
    """Answer "pong": proves a worker is consuming from the broker (used by tests and operators)."""
    return "pong"
