"""The one clock that decisions about time read: the database's.

Web processes, workers and beat run on different machines whose clocks drift apart; the database is the one
place they all share. A worker whose clock ran five minutes fast once breached every promise minutes early and
logged its own time so that it looked right. So a decision about a due time (the sweep, the outbox, a link's
age) reads ``database_now()`` once and passes it down as ``now``.

On SQLite the database lives in the same process, so its clock is the machine's.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.utils import timezone


def database_now() -> datetime:
    """The database server's current time, aware (UTC): one round trip on PostgreSQL.

    ``statement_timestamp()`` is the time this statement started, not the enclosing transaction's start
    (``now()``), so a reading inside a long transaction is still current.
    """
    if connection.vendor != "postgresql":
        return timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement_timestamp()")
        (now,) = cursor.fetchone()
    return now
