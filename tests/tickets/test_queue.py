"""Tasks are queued by name (``tickets.queue``), so nothing below ``tickets.tasks`` imports it."""

from __future__ import annotations

import ast
from pathlib import Path

from tickets import queue, tasks

ROOT = Path(__file__).resolve().parents[2]


def test_every_name_queued_is_a_task():
    names = [queue.SEND_NOTIFICATION_EMAILS, queue.SEND_CUSTOMER_EMAILS, queue.IMPORT_UPLOADED_HISTORY]

    assert [queue.app.tasks[name].name for name in names] == names
    assert tasks.send_customer_emails.name == queue.SEND_CUSTOMER_EMAILS


def test_a_process_without_the_tasks_sends_the_task_by_name(monkeypatch):
    sent = []
    monkeypatch.setattr(queue.app, "tasks", {})
    monkeypatch.setattr(queue.app, "send_task", lambda name, args: sent.append((name, args)))

    queue.enqueue(queue.IMPORT_UPLOADED_HISTORY, 7)

    assert sent == [(queue.IMPORT_UPLOADED_HISTORY, (7,))]


def test_nothing_but_the_tasks_module_imports_it():
    importers = []
    for path in (ROOT / "tickets").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.module == "tickets.tasks" or (node.module == "tickets" and "tasks" in [a.name for a in node.names]):
                importers.append(path.relative_to(ROOT).as_posix())
    assert importers == []
