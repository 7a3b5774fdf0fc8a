"""Queueing Celery tasks by name: the one way code below ``tickets.tasks`` asks a worker for something.

``tickets.tasks`` imports the engine (the sweep, the outbox drains, the history import); if the engine imported
the tasks back to queue them, every module on the way would sit in an import loop. So the engine names the task
and this module finds it in the Celery app: the registered task when this process has imported ``tickets.tasks``
(a worker, the tests), else a message sent by name (a web process, which never needs the task's code).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from helpdesk.celery import app

logger = logging.getLogger(__name__)

SEND_NOTIFICATION_EMAILS = "tickets.tasks.send_notification_emails"
SEND_CUSTOMER_EMAILS = "tickets.tasks.send_customer_emails"
IMPORT_UPLOADED_HISTORY = "tickets.tasks.import_uploaded_history"


def enqueue(name: str, *args: Any) -> None:
    """Queue the task called ``name`` now; the broker's errors reach the caller."""
    task = app.tasks.get(name)
    if task is None:
        app.send_task(name, args=args)
    else:
        task.delay(*args)


def enqueue_after_commit(name: str) -> None:
    """After this transaction commits, queue the task called ``name`` (once per transaction, however often
    asked). A broker that refuses loses only the nudge: the rows are in the database for the periodic run."""

    def after_commit() -> None:
        try:
            enqueue(name)
        except Exception:
            logger.warning("Could not enqueue %s; its periodic run will do the work.", name)

    after_commit.task_name = name  # type: ignore[attr-defined]
    pending = transaction.get_connection().run_on_commit
    if not any(getattr(callback, "task_name", None) == name for _, callback, _ in pending):
        transaction.on_commit(after_commit)
