"""PostgreSQL as Django has it, with a health check that costs no round trip on a busy connection.

Django's check (``CONN_HEALTH_CHECKS``) asks a kept connection ``SELECT 1`` before a request's first query: a
round trip on every request, about 8% of an API list's time in gunicorn under load (docs/benchmarks.md, REST
API). This one first looks at the connection's socket. Between requests a healthy connection has nothing to
say: a server that shuts down, restarts or ends the backend says so (a FATAL message) and closes it, which
also reads. So anything waiting to be read means the connection is not to be used: it is closed, and the
request's first query opens a new one, as after a failed ``SELECT 1``.

What the socket can't tell: a connection lost without a word, by a failover to another server at the same
address or a firewall that forgot it, which only the next packet finds out (a reset). ``SELECT 1`` sends one,
so it is still asked of a connection that has not answered for ``RECENTLY`` seconds: idle time is when such
losses happen. A connection in steady use (the previous request checked it a moment ago) is spared the round
trip; were it lost in that moment, the request fails as a request does whose connection is lost during it.
"""

from __future__ import annotations

import select
import time

from django.db.backends.postgresql import base

RECENTLY = 1.0  # seconds since the connection last answered, within which its socket alone is trusted


class DatabaseWrapper(base.DatabaseWrapper):
    health_check_enabled: bool  # Django's own (set from CONN_HEALTH_CHECKS on connecting); not in its stubs
    health_check_done: bool
    answered_at = -float("inf")  # time.monotonic() when the connection was opened or last passed a check

    def connect(self) -> None:
        super().connect()
        self.answered_at = time.monotonic()

    def close_if_health_check_failed(self) -> None:
        if self.connection is None or not self.health_check_enabled or self.health_check_done or self.pool:
            return super().close_if_health_check_failed()  # as Django does (a pool checks its own)
        now = time.monotonic()
        if self.is_quiet() and (now - self.answered_at < RECENTLY or self.is_usable()):
            self.answered_at = now
        else:
            self.close()
        self.health_check_done = True

    def is_quiet(self) -> bool:
        """Whether the open connection has nothing waiting to be read: between queries, the sign of a live one."""
        connection = self.connection
        if connection is None or connection.closed:
            return False
        try:
            waiting = select.poll()
            waiting.register(connection.fileno(), select.POLLIN)
            return not waiting.poll(0)
        except (OSError, ValueError):  # psycopg has let go of the socket
            return False
