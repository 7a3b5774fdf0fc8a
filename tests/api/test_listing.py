"""The ticket list through the API: for every caller, filter and order, walking its cursor pages forwards
and back gives exactly the tickets that caller may see (their teams' and those assigned to them, for an
agent; every one, for a supervisor; none, for someone who is not active staff), each once, in order."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.desk.helpers import force
from tests.factories import CustomerFactory, StaffFactory, TeamFactory, TicketFactory
from tickets.api.listing import ORDERINGS, filtered
from tickets.models import Ticket, is_supervisor

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


def expected(user, values: dict[str, Any], ordering: str) -> list[str]:
    """The references ``user`` should be listed, in the order's keys, worked out without the gate: every
    ticket for a supervisor, their teams' and their own for an agent."""
    tickets = filtered(Ticket.objects.annotate(open_rank=Ticket.OPEN_FIRST), values)
    if not is_supervisor(user):
        teams = set(user.teams.values_list("pk", flat=True))
        mine = [t.pk for t in Ticket.objects.all() if t.team_id in teams or t.assignee_id == user.pk]
        tickets = tickets.filter(pk__in=mine)
    return [t.reference for t in tickets.order_by(*(key.order_by() for key in ORDERINGS[ordering]))]


def walk(client, url: str, link: str) -> list[list[str]]:
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.json()
        pages.append([row["reference"] for row in response.json()["results"]])
        url = response.json()[link]
    return pages


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


def filters_of(desk, drawn: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Drawn filters as the list's query parameters, and as ``filter_values`` gives them (ids, times,
    ``unassigned``)."""
    query: dict[str, Any] = {}
    values: dict[str, Any] = {}
    for name, value in drawn.items():
        query[name] = values[name] = value
        if name == "team":
            query[name] = values[name] = desk["teams"][value].pk
        elif name == "assignee":
            del values[name]
            query[name] = "none" if value == "unassigned" else desk[value].pk
            values.update({"unassigned": True} if value == "unassigned" else {"assignee": desk[value].pk})
        elif name.startswith("due_"):
            values[name] = desk["now"] + timedelta(hours=value)
            query[name] = values[name].isoformat()
        elif name == "priority":
            query[name] = ["low", "normal", "high", "urgent"][value - 1]
    return query, values


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    caller=st.sampled_from(["carol", "alice", "bob", "ann", "sol"]),
    drawn=filters,
    ordering=st.sampled_from(list(ORDERINGS)),
    size=st.integers(3, 7),
)
def test_the_pages_hold_what_the_caller_may_see_each_once_in_order(api, desk, caller, drawn, ordering, size):
    user = desk[caller]
    client = api(user)
    query, values = filters_of(desk, drawn)
    query.update({"page_size": size, **({"ordering": ordering} if ordering else {})})
    pages = walk(client, f"/api/v1/tickets/?{urlencode(query)}", "next")
    want = expected(user, values, ordering)
    assert [ref for page in pages for ref in page] == want
    assert all(len(page) == size for page in pages[:-1])
    if len(pages) > 1:  # and back from the last page: the same pages, in reverse
        last = client.get(f"/api/v1/tickets/?{urlencode(query)}").json()
        while last["next"]:
            last = client.get(last["next"]).json()
        assert walk(client, last["previous"], "previous") == list(reversed(pages[:-1]))


def test_an_agent_in_two_teams_sees_each_of_their_tickets_once(api, desk):
    ann = desk["ann"]
    listed = [row["reference"] for row in api(ann).get("/api/v1/tickets/?page_size=100").json()["results"]]
    assert listed == expected(ann, {}, "")
    assert len(listed) == len(set(listed)) == Ticket.objects.visible_to(ann).count() > 0


def test_agents_each_see_only_their_own(api, desk):
    seen = {}
    for name in ("alice", "bob"):
        seen[name] = {
            row["reference"] for row in api(desk[name]).get("/api/v1/tickets/?page_size=100").json()["results"]
        }
        assert seen[name] == set(expected(desk[name], {}, ""))
    assert seen["alice"] != seen["bob"]


@pytest.mark.parametrize("change", [{"is_active": False}, {"is_staff": False}])
def test_someone_who_is_not_active_staff_sees_no_ticket(desk, change):
    ann = desk["ann"]
    for name, value in change.items():
        setattr(ann, name, value)
    assert not Ticket.objects.visible_to(ann).exists()
