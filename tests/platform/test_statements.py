"""Compiled statements (``helpdesk.statements``): values only ever as parameters, by name; prepared once per
connection, in the same round trip as the first call; planned once, or with the values when asked."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import DatabaseError, DataError, connection, transaction
from django.test.utils import CaptureQueriesContext

from helpdesk import statements
from helpdesk.statements import Slots, Statement
from tests.factories import TeamFactory
from tickets.models import Team


def team_names(*, generic: bool = True, order: str = "pk") -> Statement:
    slots = Slots()
    slots.number("above")
    teams = Team.objects.order_by(order)
    return Statement.of(lambda values: teams.filter(pk__gt=values["above"]).values("name"), slots, generic=generic)


def plan_counts(statement: Statement) -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = %s", [statement._prepared[0]]
        )
        return cursor.fetchone()


@pytest.fixture
def teams(db):
    """Three teams, on a connection that has prepared nothing (the test database's outlives a test)."""
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    connection._promisedesk_prepared = None
    return [TeamFactory(name=name) for name in ("Billing", "Technical", "Specialists")]


def test_a_statement_returns_what_its_query_returns_for_any_value(teams):
    statement = team_names()
    for team in teams:
        expected = list(Team.objects.filter(pk__gt=team.pk).order_by("pk").values("name"))
        assert statement.rows({"above": team.pk}) == expected


def test_the_first_call_prepares_in_the_same_round_trip_and_the_next_only_executes(teams):
    statement = team_names()
    with CaptureQueriesContext(connection) as first:
        statement.rows({"above": 0})
    with CaptureQueriesContext(connection) as second:
        assert statement.rows({"above": teams[1].pk}) == [{"name": "Specialists"}]
    assert len(first) == 1 and "PREPARE pd_" in first[0]["sql"] and "EXECUTE pd_" in first[0]["sql"]
    assert len(second) == 1 and "PREPARE" not in second[0]["sql"] and "EXECUTE pd_" in second[0]["sql"]
    assert str(teams[1].pk) in second[0]["sql"]  # the value went as the EXECUTE's argument
    assert str(teams[1].pk) not in statement._prepared[1]


def test_a_generic_statement_is_planned_once_and_another_with_its_values(teams):
    generic, planned = team_names(), team_names(generic=False, order="name")
    for _ in range(8):
        generic.rows({"above": 0})
    assert plan_counts(generic) == (8, 0)
    for _ in range(3):
        planned.rows({"above": 0})
    assert plan_counts(planned) == (0, 3)  # PostgreSQL's choice (auto): custom plans for the first five
    generic.rows({"above": 0})
    assert plan_counts(generic) == (9, 0)  # the mode follows the statement


@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_again():
    TeamFactory(name="Billing")
    statement = team_names()
    assert statement.rows({"above": 0}) == [{"name": "Billing"}]
    connection.close()
    with CaptureQueriesContext(connection) as queries:
        assert statement.rows({"above": 0}) == [{"name": "Billing"}]
    assert "PREPARE pd_" in queries[0]["sql"]


def test_after_a_failed_first_call_the_next_prepares_it_afresh(teams):
    statement = team_names()
    with pytest.raises(DataError), transaction.atomic():
        statement.rows({"above": 2**70})  # prepared, then the EXECUTE fails: out of range for bigint
    with CaptureQueriesContext(connection) as queries:
        assert len(statement.rows({"above": 0})) == 3
    assert "pg_prepared_statements" in queries[0]["sql"]
    assert "DEALLOCATE pd_" in queries[1]["sql"] and "PREPARE pd_" in queries[1]["sql"]  # not "already exists"


def test_a_statement_whose_table_changed_under_it_is_prepared_again(teams):
    """A migration that changes a column a prepared statement reads fails its next call ("cached plan must
    not change result type"); the call after prepares it again, instead of failing until the connection
    is closed."""
    statement = team_names()
    statement.rows({"above": 0})
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the teams' inserts checked, so the table may change
        cursor.execute("ALTER TABLE tickets_team ALTER COLUMN name TYPE text")
    with pytest.raises(DatabaseError), transaction.atomic():
        statement.rows({"above": 0})
    assert len(statement.rows({"above": 0})) == 3


def test_past_the_limit_a_connection_lets_its_own_statements_go(teams, monkeypatch):
    monkeypatch.setattr(statements, "MAX_PREPARED", 1)
    with connection.cursor() as cursor:
        cursor.execute("PREPARE someone_elses AS SELECT 1")
    first, second = team_names(), team_names(order="name")
    first.rows({"above": 0})
    second.rows({"above": 0})
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements ORDER BY name")
        assert [name for (name,) in cursor.fetchall()] == [second._prepared[0], "someone_elses"]
    assert len(first.rows({"above": 0})) == 3  # prepared again


def test_a_query_that_ignores_a_value_is_refused(db):
    slots = Slots()
    slots.number("above")
    slots.number("me")  # a caller's id that the query below never uses: its rule would be missing
    with pytest.raises(ValueError, match="does not use the slots me"):
        Statement.of(lambda values: Team.objects.filter(pk__gt=values["above"]).values("name"), slots)


@pytest.mark.parametrize("values", [{}, {"above": 1, "me": 2}, {"me": 2}])
def test_values_must_be_exactly_the_statements_slots(db, values: dict[str, Any]):
    with pytest.raises(KeyError, match="takes"):
        team_names().rows(values)


def test_a_query_whose_sql_changes_with_its_values_is_refused(db):
    slots = Slots()
    slots.number("above")
    with pytest.raises(ValueError, match="changes with its values"):
        Statement.of(lambda values: Team.objects.filter(pk__gt=values["above"])[: values["above"] % 7], slots)


def test_a_query_holding_a_constant_equal_to_a_stand_in_is_refused(db):
    slots = Slots()
    slots.number("above")
    stand_in = slots.stand_ins()["above"]
    with pytest.raises(ValueError, match="constant equal to a stand-in"):
        Statement.of(lambda values: Team.objects.filter(pk__gt=values["above"], pk__lt=stand_in), slots)


def test_stand_ins_differ_by_series_and_slot_and_fit_the_smallest_integer_column():
    slots = Slots()
    for i in range(100):
        slots.number(f"n{i}")
    slots.text("t")
    slots.moment("m")
    series = [slots.stand_ins(n) for n in range(Slots.SERIES)]
    numbers = [made[f"n{i}"] for made in series for i in range(100)]
    assert all(0 < number <= 32_767 for number in numbers) and len(set(numbers)) == 100 * Slots.SERIES
    assert len({made["t"] for made in series}) == len({made["m"] for made in series}) == Slots.SERIES
    with pytest.raises(ValueError, match="Two slots"):
        slots.number("n1")


def test_on_another_database_the_orm_runs_the_query(teams, monkeypatch):
    statement = team_names()
    monkeypatch.setattr(connection, "vendor", "sqlite")
    with CaptureQueriesContext(connection) as queries:
        assert statement.rows({"above": 0}) == [{"name": "Billing"}, {"name": "Technical"}, {"name": "Specialists"}]
    assert "PREPARE" not in queries[0]["sql"] and "EXECUTE" not in queries[0]["sql"]
