"""An action through the API leaves exactly the trail the same action leaves from the desk: the same log
entries (kind, author, words, visibility, details), the same notifications and the same customer emails.

Two identical tickets of Dave's; alice acts on one in the browser and on the other through the API.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from customers.models import Customer
from customers.services import update_customer
from tests.desk.helpers import action_url, prepare
from tests.factories import TicketFactory
from tickets.action_forms import ACTIONS as DESK_ACTIONS
from tickets.models import CustomerEmail, Notification, Team, Ticket

TOMORROW = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)


def technical() -> int:
    return Team.objects.get(name="Technical").pk


# action: (desk form data, API path, API JSON), for a ticket of Dave's in Billing
SAME: dict[str, tuple[Any, str, Any]] = {
    "reply": (lambda t: {"body": "Refunded."}, "interactions/", lambda t: {"kind": "reply", "body": "Refunded."}),
    "note": (lambda t: {"body": "Two captures."}, "interactions/", lambda t: {"kind": "note", "body": "Two captures."}),
    "call": (
        lambda t: {"minutes": "12", "summary": "Talked it through."},
        "interactions/",
        lambda t: {"kind": "call", "minutes": 12, "body": "Talked it through."},
    ),
    "promise": (
        lambda t: {"due_at": TOMORROW.strftime("%Y-%m-%dT%H:%M"), "words": "By this time tomorrow."},
        "promise/",
        lambda t: {"due_at": TOMORROW.isoformat(), "words": "By this time tomorrow."},
    ),
    "transfer": (
        lambda t: {"team": str(technical()), "note": "Gateway bug."},
        "transfer/",
        lambda t: {"team": technical(), "note": "Gateway bug."},
    ),
    "escalate": (lambda t: {"note": "Above my limit."}, "escalate/", lambda t: {"note": "Above my limit."}),
    "assign": (
        lambda t: {"assignee": str(t.team.members.get().pk)},
        "assign/",
        lambda t: {"assignee": t.team.members.get().pk},
    ),
    "status": (
        lambda t: {"to": "waiting", "note": "Asked for the invoice."},
        "status/",
        lambda t: {"to": "waiting", "note": "Asked for the invoice."},
    ),
    "resolve": (lambda t: {"summary": "Refunded."}, "resolve/", lambda t: {"summary": "Refunded."}),
    "reopen": (lambda t: {"reason": "Refund bounced."}, "reopen/", lambda t: {"reason": "Refund bounced."}),
    "details": (
        lambda t: {"subject": "Charged twice in November", "category": str(t.category_id), "priority": "3"},
        "",
        lambda t: {"subject": "Charged twice in November", "category": t.category_id, "priority": "high"},
    ),
    "use-sender-details": (lambda t: {}, "use-sender-details/", lambda t: {}),
    "new-link": (lambda t: {"note": "Forwarded."}, "new-link/", lambda t: {"note": "Forwarded."}),
}


def test_every_desk_action_has_an_api_twin_here():
    assert set(SAME) == set(DESK_ACTIONS)


def test_a_ticket_opened_through_the_api_is_opened_as_from_the_desk(api, client_for, alice, category):
    # when alice takes down the same call in the desk and through the API (two customers, same words)
    said = {"phone": "+44 20 7946 0000", "subject": "Invoice wrong", "body": "Old address on it.", "priority": 3}
    desk = {**said, "name": "Erin Walsh", "email": "erin@example.com", "category": str(category.pk),
            "channel": "phone", "priority": "3"}  # fmt: skip
    assert client_for(alice).post("/desk/tickets/new/", desk).status_code == 302
    through_api = {**said, "name": "Erin Walsh", "email": "erin2@example.com", "category": category.pk,
                   "priority": "high"}  # fmt: skip
    assert api(alice).post("/api/v1/tickets/", through_api, format="json").status_code == 201
    # then both tickets tell the same story and emailed their customer the same kind of message
    first, second = Ticket.objects.order_by("pk")
    one, two = trail(first, 0), trail(second, 0)
    two["emailed"] = [(to.replace("erin2", "erin"), s.replace(second.reference, first.reference))
                      for to, s in two["emailed"]]  # fmt: skip
    assert one == two


def trail(ticket: Ticket, since: int) -> dict[str, list[Any]]:
    """What an action wrote about the ticket, without ids and times (which differ between two tickets)."""

    def plain(data: dict[str, Any]) -> dict[str, Any]:
        return {
            key: ("<id>" if key in ("promise", "from", "to") and isinstance(value, int) else value)
            for key, value in data.items()
        }

    log = ticket.interactions.filter(pk__gt=since).order_by("id")
    return {
        "log": [(i.kind, i.author_kind, i.author_id, i.customer_name, i.body, i.is_public, plain(i.data)) for i in log],
        "notified": sorted(Notification.objects.filter(ticket=ticket).values_list("recipient", "event", "message")),
        "emailed": sorted(CustomerEmail.objects.filter(ticket=ticket).values_list("to", "subject")),
        "state": list(
            Ticket.objects.filter(pk=ticket.pk).values_list(
                "status",
                "team",
                "assignee",
                "escalation_level__position",
                "promise_state",
                "promise_due_at",
                "subject",
                "priority",
                "category",
            )
        ),
    }


@pytest.mark.parametrize("action", SAME)
def test_the_api_leaves_the_same_trail_as_the_desk(action, api, client_for, ticket, category, alice, technical):
    # given two identical tickets of Dave's, brought to where the action makes sense
    twin = TicketFactory(customer=ticket.customer, category=category, subject=ticket.subject)
    for one in (ticket, twin):
        prepare(action, one, by=alice)
    marks = {one.pk: one.interactions.order_by("-id").values_list("id", flat=True).first() for one in (ticket, twin)}
    CustomerEmail.objects.all().delete()
    desk_data, path, api_data = SAME[action]
    # when alice does it in the browser on one, and through the API on the other
    response = client_for(alice).post(action_url(ticket, action), desk_data(ticket))
    assert response.status_code == 302, response.content.decode()[:500]
    if action == "use-sender-details":  # the twins share Dave's record, which the desk's action just changed
        update_customer(Customer.objects.get(pk=ticket.customer_id), name="Dave Jones", by=alice)
    response = api(alice).post if path else api(alice).patch
    answer = response(f"/api/v1/tickets/{twin.reference}/{path}", api_data(twin), format="json")
    assert answer.status_code in (200, 201), answer.json()
    # then both wrote the same story, told the same people and emailed the customer the same
    desk, through_api = trail(ticket, marks[ticket.pk]), trail(twin, marks[twin.pk])
    assert desk["log"], "the action was logged"
    through_api["notified"] = [
        (r, e, m.replace(twin.reference, ticket.reference)) for r, e, m in through_api["notified"]
    ]
    through_api["emailed"] = [(to, s.replace(twin.reference, ticket.reference)) for to, s in through_api["emailed"]]
    assert through_api == desk
