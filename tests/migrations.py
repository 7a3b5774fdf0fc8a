"""Running the migrations to a point and back, for the tests of data migrations (transactional tests only)."""

from __future__ import annotations

from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(target: list[tuple[str, str]]) -> Apps:
    """Migrate the test database to ``target`` (forwards or back); the models as they were there."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)
    return executor.loader.project_state(target).apps


def migrate_to_latest() -> Apps:
    """Back to the latest schema, for the tests that follow."""
    return migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
