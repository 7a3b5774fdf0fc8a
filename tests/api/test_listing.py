"""The ticket list's compiled statements (``tickets.api.listing``) return what the ORM's query returns, for
every caller, filter, order, page size and cursor; and a statement compiled for one caller gives another
caller only their own tickets."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpdesk.api.pagination import Window
from tests.desk.helpers import force
from tests.factories import CustomerFactory, StaffFactory, TeamFactory, TicketFactory
from tickets.api.listing import ORDERINGS, Shape, compiled_page, filtered, ordered_rows, statement
from tickets.models import Ticket

STATUSES = ["new", "open", "waiting", "resolved", "closed"]
STATES = ["none", "on_track", "at_risk", "breached", "kept", "broken"]


@pytest.fixture
def desk(billing, technical, category, alice, bob, carol):
    """Three teams, agents in one, two or none of them, and 40 tickets with every status and promise state,
    ties on every sort value and tickets without a promise, spread over the teams and the agents."""
    specialists = TeamFactory(name="Specialists")
    ann = StaffFactory(username="ann", teams=[billing, technical])
    sol = StaffFactory(username="sol")  # in no team: sees only what is assigned to them
    teams, agents = [billing, technical, specialists], [None, alice, bob, ann, sol]
    now = timezone.now().replace(microsecond=0)
    customer = CustomerFactory()
    for n in range(40):
        ticket = TicketFactory(customer=customer, category=category, subject=f"Ticket {n}")
        status, state = STATUSES[n % 5], STATES[n % 6]
        due = None if state == "none" else now + timedelta(hours=n % 4 - 1)
        force(
            ticket,
            team=teams[n % 3],
            assignee=agents[n % 5 if n % 7 else 4],
            status=status,
            promise_state=state,
            promise_due_at=due,
            promise_warn_at=due,
            priority=1 + n % 4,
            created_at=now - timedelta(days=n % 6),
            updated_at=now - timedelta(minutes=n % 9),
            resolved_at=now if status in ("resolved", "closed") else None,
            paused_at=None,
        )
    return {"carol": carol, "alice": alice, "bob": bob, "ann": ann, "sol": sol, "teams": teams, "now": now}


def by_orm(user, values: dict[str, Any], ordering: str, window: Window) -> list[dict[str, Any]]:
    """The reference: the one gate, the filters and the keyset window, as the ORM reads them (with the names
    the compiled page carries)."""
    tickets = filtered(Ticket.objects.visible_to(user), values)
    return list(window.applied_to(ordered_rows(tickets, ordering, named=True)))


def window_at(user, values: dict[str, Any], ordering: str, size: int, at: int | None, backwards: bool) -> Window:
    """A window of ``size`` rows starting after the ``at``-th row of the whole list (or the first page)."""
    keys = ORDERINGS[ordering]
    if backwards:
        keys = tuple(key.reversed() for key in keys)
    after = None
    if at is not None:
        every = by_orm(user, values, ordering, Window(ORDERINGS[ordering], None, False, 1000))
        if every:
            row = every[at % len(every)]
            after = [row[key.field] for key in keys]
    return Window(keys, after, backwards, size + 1)


filters = st.fixed_dictionaries(
    {},
    optional={
        "status": st.sampled_from(STATUSES),
        "promise_state": st.sampled_from(STATES),
        "team": st.integers(0, 2),
        "priority": st.integers(1, 4),
        "assignee": st.sampled_from(["alice", "bob", "ann", "sol", "unassigned"]),
        "due_before": st.integers(-2, 3),
        "due_after": st.integers(-2, 3),
    },
)


def plain(desk, drawn: dict[str, Any]) -> dict[str, Any]:
    """Drawn filters as ``filter_values`` gives them: ids, times, ``unassigned``."""
    values: dict[str, Any] = {}
    for name, value in drawn.items():
        if name == "team":
            values[name] = desk["teams"][value].pk
        elif name == "assignee":
            values.update({"unassigned": True} if value == "unassigned" else {"assignee": desk[value].pk})
        elif name.startswith("due_"):
            values[name] = desk["now"] + timedelta(hours=value)
        else:
            values[name] = value
    return values


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    caller=st.sampled_from(["carol", "alice", "bob", "ann", "sol"]),
    drawn=filters,
    ordering=st.sampled_from(list(ORDERINGS)),
    size=st.integers(1, 7),
    at=st.none() | st.integers(0, 60),
    backwards=st.booleans(),
)
def test_a_compiled_page_is_what_the_orm_reads(desk, caller, drawn, ordering, size, at, backwards):
    user, values = desk[caller], plain(desk, drawn)
    window = window_at(user, values, ordering, size, at, backwards and at is not None)
    assert compiled_page(user, values, ordering, window) == by_orm(user, values, ordering, window)


def test_an_agents_queue_reads_one_index_per_team_and_still_every_ticket_in_order(desk):
    ann = desk["ann"]
    ids = [row["id"] for row in compiled_page(ann, {}, "", Window(ORDERINGS[""], None, False, 100))]
    assert ids == [row["id"] for row in by_orm(ann, {}, "", Window(ORDERINGS[""], None, False, 100))]
    assert len(ids) == Ticket.objects.visible_to(ann).count()  # the overlap (her team's, assigned to her) once
    sql = statement(Shape(False, 2, (), "", False, None, 101))._prepared[1]
    assert sql.count(" UNION ") == 3  # her 2 teams, hers, the settled ones


def test_a_statement_compiled_for_one_agent_gives_another_only_their_own(desk):
    """alice and bob are each in one team: one statement serves both, and each sees their own team's."""
    window = Window(ORDERINGS[""], None, False, 100)
    seen = {}
    for name in ("alice", "bob", "alice"):
        user = desk[name]
        with CaptureQueriesContext(connection) as queries:
            seen[name] = {row["id"] for row in compiled_page(user, {}, "", window)}
        assert seen[name] == set(Ticket.objects.visible_to(user).values_list("id", flat=True))
        assert any("EXECUTE pd_" in query["sql"] for query in queries.captured_queries)
    assert seen["alice"] != seen["bob"]
    assert statement.cache_info().currsize >= 1


def test_someone_who_is_not_active_staff_gets_no_ticket(desk):
    ann = desk["ann"]
    ann.is_active = False
    assert compiled_page(ann, {}, "", Window(ORDERINGS[""], None, False, 10)) == []


def test_page_sizes_share_a_few_statements(desk):
    """The page size is the statement's LIMIT: sizes 1 to 100 take four statements (pages of up to 10, 25,
    50 and 100 rows), each page cut to its size."""
    carol = desk["carol"]
    names = set()
    for size in (1, 4, 10):
        with CaptureQueriesContext(connection) as queries:
            page = compiled_page(carol, {}, "", Window(ORDERINGS[""], None, False, size + 1))
        assert len(page) == size + 1
        sent = [query["sql"] for query in queries.captured_queries if "EXECUTE " in query["sql"]]
        names |= {sql.split("EXECUTE ")[1].split()[0] for sql in sent}
    assert len(names) == 1
