"""PostgreSQL as Django has it, with a health check that costs no round trip.

Django's check (``CONN_HEALTH_CHECKS``) asks a kept connection ``SELECT 1`` before a request's first query: a
round trip on every request, about 8% of an API list's time in gunicorn under load (docs/benchmarks.md, REST
API). This one looks at the connection's socket instead. Between requests a healthy connection has nothing
to say: a server that shuts down, restarts or terminates the backend says so (a FATAL message) and closes
it, which also reads. So anything waiting to be read means the connection is not to be used: it is closed,
and the request's first query opens a new one, as after a failed ``SELECT 1``.

Neither check catches a connection that died without a word (a network that dropped it): ``SELECT 1`` would
wait for TCP's timeout, as the request's own first query does here.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    health_check_enabled: bool  # Django's own (set from CONN_HEALTH_CHECKS on connecting); not in its stubs
    health_check_done: bool

    def close_if_health_check_failed(self) -> None:
        if self.connection is None or not self.health_check_enabled or self.health_check_done:
            return
        if not self.is_quiet():
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
