"""For tests that start real processes (Celery, gunicorn): where the pytest database is, a free port."""

from __future__ import annotations

import socket
from urllib.parse import quote

from django.conf import settings


def database_url() -> str:
    """The pytest database (test_…), as a URL the subprocesses' settings understand."""
    db = settings.DATABASES["default"]
    credentials = quote(db["USER"] or "postgres", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
