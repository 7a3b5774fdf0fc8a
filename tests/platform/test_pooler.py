"""The API behind a pooler in transaction mode: gunicorn with the production settings and
``DATABASE_TRANSACTION_POOLER=true`` (``CONN_MAX_AGE`` 0) reaches the test database only through PgBouncer
(``pool_mode = transaction``, one server connection for every client), and answers every ticket list
right: what each caller may see, page after page, and a write in between."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from django.conf import settings

from scripts.prepare_test import Machine
from tests.desk.helpers import force
from tests.factories import CustomerFactory, TicketFactory
from tests.processes import PROXIED, free_port, production_server, wait_until
from tickets import services
from tickets.api.access import issue_token
from tickets.api.listing import ORDERINGS
from tickets.models import Ticket

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PGBOUNCER = Machine.pgbouncer  # scripts/prepare_test.py installs Debian's when it is missing


@pytest.fixture
def pooler() -> Iterator[str]:
    """PgBouncer on a free loopback port in front of the test database; yields the URL to reach it by."""
    assert os.access(PGBOUNCER, os.X_OK), "PgBouncer is missing: run scripts/prepare_test.py (make test does)"
    database = settings.DATABASES["default"]
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="promisedesk-pgbouncer-"))
    config = folder / "pgbouncer.ini"
    config.write_text(
        "[databases]\n"
        f"desk = host={database['HOST'] or '127.0.0.1'} port={database['PORT'] or 5432} "
        f"dbname={database['NAME']} user={database['USER'] or 'postgres'}"
        + (f" password={database['PASSWORD']}" if database.get("PASSWORD") else "")
        + "\n[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\nauth_type = any\n"
        "pool_mode = transaction\ndefault_pool_size = 1\nmax_client_conn = 50\n"
    )
    config.chmod(0o644)
    log = folder / "pgbouncer.log"
    # PgBouncer refuses to run as root: it then runs as nobody.
    command = [str(PGBOUNCER), *(["-u", "nobody"] if os.geteuid() == 0 else []), str(config)]
    process = subprocess.Popen(command, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: "listening on" in log.read_text(), timeout=10, message=lambda: log.read_text())
        yield f"postgres://{database['USER'] or 'postgres'}@127.0.0.1:{port}/desk"
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def references(response: requests.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [row["reference"] for row in response.json()["results"]]


def test_the_ticket_lists_answer_right_through_pgbouncer_in_transaction_mode(
    pooler, tmp_path, alice, carol, category, technical
):
    for n in range(7):
        ticket = TicketFactory(category=category, customer=CustomerFactory(), subject=f"Ticket {n}")
        if n % 2:
            services.assign(ticket, assignee=alice, by=alice)
    force(TicketFactory(category=category, subject="Another team's"), team=technical)  # alice is in Billing
    tokens = {user.username: issue_token(user=user, name="pooler", days=None)[1] for user in (alice, carol)}
    overrides = {"DATABASE_URL": pooler, "DATABASE_TRANSACTION_POOLER": "true"}

    with production_server(tmp_path, **overrides) as server:

        def get(user: str, path: str) -> requests.Response:
            headers = {**PROXIED, "Authorization": f"Bearer {tokens[user]}"}
            return requests.get(server.url + path, headers=headers, timeout=30)

        for user, caller in (("alice", alice), ("carol", carol)):
            seen = Ticket.objects.visible_to(caller)
            expected = [t.reference for t in seen.order_by("-created_at", "-id")]
            # page after page (each its own connection at the pooler), and all at once
            pages, path = [], "/api/v1/tickets/?ordering=-created_at&page_size=3"
            while path:
                response = get(user, path)
                pages += references(response)
                link = response.json()["next"]
                path = link[link.index("/api/") :] if link else ""
            assert pages == expected
            assert references(get(user, "/api/v1/tickets/?ordering=-created_at&page_size=100")) == expected
            assert ("Another team's" in {t.subject for t in seen}) == (user == "carol")

        # many at once, over the one server connection the pooler has
        with ThreadPoolExecutor(max_workers=6) as pool:
            answers = list(pool.map(lambda _: get("carol", "/api/v1/tickets/?page_size=100"), range(12)))
        queue = Ticket.objects.annotate(open_rank=Ticket.OPEN_FIRST).order_by(*(k.order_by() for k in ORDERINGS[""]))
        assert {tuple(references(answer)) for answer in answers} == {tuple(t.reference for t in queue)}

        # a write in its own transaction, read back by the next request
        first = Ticket.objects.visible_to(alice).order_by("id").first()
        headers = {**PROXIED, "Authorization": f"Bearer {tokens['alice']}"}
        note = requests.post(
            f"{server.url}/api/v1/tickets/{first.reference}/interactions/",
            json={"kind": "note", "body": "Through the pooler."},
            headers=headers,
            timeout=30,
        )
        assert note.status_code == 201, note.text
        log = get("alice", f"/api/v1/tickets/{first.reference}/interactions/").json()["results"]
        assert log[-1]["body"] == "Through the pooler."
