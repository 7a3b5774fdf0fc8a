"""A real server with the production settings, for the tests that need real responses and real logs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.processes import Server
from tests.processes import production_server as start_production_server


@pytest.fixture
def production_server(transactional_db, tmp_path) -> Iterator[Server]:
    with start_production_server(tmp_path) as server:
        yield server
