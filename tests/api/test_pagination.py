"""Cursor pages over tickets: every ordering, forwards and back, shows every ticket exactly once and in order,
with ties on the sort value and tickets without a promise; a bad or foreign cursor is a clear 400."""

from __future__ import annotations

import base64
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing
from django.utils import timezone

from helpdesk.api.pagination import CURSOR_SALT
from tests.api.conftest import error_of
from tests.desk.helpers import force
from tests.factories import TicketFactory
from tickets import services
from tickets.api.tickets import ORDERINGS
from tickets.models import Ticket


@pytest.fixture
def thirteen(ticket, category, carol):
    """Thirteen tickets with ties everywhere: shared due times, shared creation times, equal priorities,
    some without a promise, some settled."""
    now = timezone.now().replace(microsecond=0)
    tickets = [ticket] + [TicketFactory(category=category, subject=f"Ticket {n}") for n in range(12)]
    for n, one in enumerate(tickets):
        due = now + timedelta(hours=n % 3) if n % 4 else None  # three due times, and every fourth unpromised
        state = "none" if due is None else "on_track"
        force(one, promise_due_at=due, promise_warn_at=due, promise_state=state, priority=1 + n % 2,
              created_at=now - timedelta(days=n % 5))  # fmt: skip
    services.resolve(tickets[5], by=carol, summary="Done.")
    return tickets


def walk(client, first_url: str, link: str) -> list[list[str]]:
    pages, url = [], first_url
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.json()
        body = response.json()
        pages.append([row["reference"] for row in body["results"]])
        url = body[link]
    return pages


@pytest.mark.parametrize("ordering", list(ORDERINGS))
def test_every_ordering_pages_through_every_ticket_once_in_order_and_back(api, carol, thirteen, ordering):
    client = api(carol)
    query = f"?ordering={ordering}&page_size=4" if ordering else "?page_size=4"
    # the order the database gives for the whole list at once
    keys = ORDERINGS[ordering]
    expected = [
        t.reference
        for t in Ticket.objects.annotate(open_rank=Ticket.OPEN_FIRST).order_by(*(key.order_by() for key in keys))
    ]
    # forwards: the pages, joined, are that order
    pages = walk(client, f"/api/v1/tickets/{query}", "next")
    assert [len(page) for page in pages] == [4, 4, 4, 1]
    assert [ref for page in pages for ref in page] == expected
    # and back from the last page: the same pages, in reverse
    last = client.get(f"/api/v1/tickets/{query}").json()
    while last["next"]:
        last = client.get(last["next"]).json()
    back = walk(client, last["previous"], "previous")
    assert back == list(reversed(pages[:-1]))


def test_the_first_page_has_no_previous_and_the_last_no_next(api, carol, thirteen):
    client = api(carol)
    first = client.get("/api/v1/tickets/?page_size=13").json()
    assert (first["previous"], first["next"]) == (None, None)
    assert len(first["results"]) == 13


def test_paging_on_while_a_ticket_moves_repeats_and_skips_none_of_the_others(api, carol, thirteen):
    client = api(carol)
    first = client.get("/api/v1/tickets/?ordering=updated_at&page_size=4").json()
    seen = [row["reference"] for row in first["results"]]
    # a ticket already seen is updated, so it moves to the end of the updated_at order
    services.add_note(Ticket.objects.by_reference(seen[0]).get(), by=carol, body="Touched.")
    later = [ref for page in walk(client, first["next"], "next") for ref in page]
    # the others are neither repeated nor skipped; the one that moved is met again, where it now is
    assert set(seen[1:]).isdisjoint(later)
    assert sorted(seen[1:] + later[:-1]) == sorted(t.reference for t in thirteen if t.reference != seen[0])
    assert later[-1] == seen[0]


def test_a_cursor_of_another_ordering_is_refused(api, carol, thirteen):
    client = api(carol)
    cursor = parse_qs(urlsplit(client.get("/api/v1/tickets/?page_size=2").json()["next"]).query)["cursor"][0]
    response = client.get(f"/api/v1/tickets/?ordering=priority&cursor={cursor}")
    assert response.status_code == 400
    assert "start from the first page" in error_of(response)["fields"]["cursor"][0]


def signed(payload: dict) -> str:
    """A cursor signed as the API signs its own: what a crafted payload would need to be read at all."""
    return signing.dumps(payload, salt=CURSOR_SALT, compress=True)


@pytest.mark.parametrize(
    ("ordering", "cursor"),
    [
        ("", signed({})),
        ("", signed({"d": "next", "o": "", "v": []})),  # the right shape, no values
        ("priority", signed({"d": "next", "o": "priority", "v": [1, 2**70]})),  # an id beyond 64 bits
        ("priority", signed({"d": "next", "o": "priority", "v": [True, 1]})),  # not a number
        ("created_at", signed({"d": "next", "o": "created_at", "v": ["not a time", 1]})),
        ("created_at", signed({"d": "next", "o": "created_at", "v": ["2026-01-01T00:00:00", 1]})),  # no offset
        ("priority", signed({"d": "sideways", "o": "priority", "v": [1, 1]})),
        ("", "%%%"),
        ("", "[" * 5000),  # once a RecursionError in the JSON parser
        # unsigned: never read, whatever it holds
        ("created_at", base64.urlsafe_b64encode(b'{"d":"next","o":"created_at","v":["2020-01-01T00:00:00-16:00",1]}')
         .decode()),
    ],
)  # fmt: skip
def test_a_crafted_cursor_is_a_400_not_a_500(api, carol, thirteen, ordering, cursor):
    query = {"cursor": cursor, **({"ordering": ordering} if ordering else {})}
    response = api(carol).get("/api/v1/tickets/", query)
    assert response.status_code == 400
    assert "cursor" in error_of(response)["fields"]


def test_a_cursor_changed_by_a_character_is_refused(api, carol, thirteen):
    client = api(carol)
    cursor = parse_qs(urlsplit(client.get("/api/v1/tickets/?page_size=2").json()["next"]).query)["cursor"][0]
    tampered = cursor[:-1] + ("A" if cursor[-1] != "A" else "B")
    assert client.get("/api/v1/tickets/", {"cursor": tampered, "page_size": 2}).status_code == 400
    assert client.get("/api/v1/tickets/", {"cursor": cursor, "page_size": 2}).status_code == 200
