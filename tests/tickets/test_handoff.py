"""Transfers and escalations hand the ticket over with a note the next people read first."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tests.factories import StaffFactory, TeamFactory
from tickets import services
from tickets.models import Notification

pytestmark = pytest.mark.django_db


def notices(event: str) -> list[tuple[str, str]]:
    return list(Notification.objects.filter(event=event).values_list("recipient__username", "message"))


def test_escalating_moves_the_ticket_up_one_level_with_the_note(ticket, alice, bob, technical):
    escalation = services.escalate(ticket, by=alice, note="Card processor returns error 502; refund blocked.")

    assert (ticket.escalation_level.position, ticket.team) == (2, technical)
    assert (escalation.kind, escalation.is_public, escalation.author) == ("escalation", False, alice)
    assert escalation.data == {
        "from_level": 1,
        "to_level": 2,
        "from_team": "Billing",
        "to_team": "Technical",
        "automatic": False,
    }
    [(recipient, message)] = notices("escalation")
    assert recipient == "bob" and "Card processor returns error 502" in message


def test_the_next_level_reads_the_handoff_note_first(ticket, alice):
    services.escalate(ticket, by=alice, note="Tried a manual refund; the gateway refuses it.")

    assert ticket.interactions.latest_handoff().body == "Tried a manual refund; the gateway refuses it."


def test_an_escalation_needs_a_handoff_note(ticket, alice):
    with pytest.raises(ValidationError, match="hand-off note"):
        services.escalate(ticket, by=alice, note="  ")
    assert ticket.escalation_level.position == 1


def test_the_top_of_the_path_cannot_escalate_further(ticket, alice):
    services.escalate(ticket, by=alice, note="To engineering.")
    with pytest.raises(ValidationError, match="already at the top of its path"):
        services.escalate(ticket, by=alice, note="Higher!")


def test_a_level_can_name_who_is_told(ticket, alice, carol):
    level_two = ticket.escalation_level.next_level()
    level_two.notify.add(carol)

    services.escalate(ticket, by=alice, note="Over to you.")

    assert [recipient for recipient, _ in notices("escalation")] == ["carol"]


def test_a_transfer_to_a_team_keeps_the_level_and_tells_the_team(ticket, alice, bob, technical):
    transfer = services.transfer(ticket, by=alice, team=technical, note="It's a login bug, not billing.")

    assert (ticket.team, ticket.assignee, ticket.escalation_level.position) == (technical, None, 1)
    assert transfer.data["to_team"] == "Technical" and transfer.body == "It's a login bug, not billing."
    assert [recipient for recipient, _ in notices("transfer")] == ["bob"]


def test_a_transfer_to_a_person_lands_in_their_team(ticket, alice, bob, technical):
    services.transfer(ticket, by=alice, assignee=bob, note="Bob knows this customer.")

    assert (ticket.team, ticket.assignee) == (technical, bob)
    [(recipient, message)] = notices("transfer")
    assert recipient == "bob" and "Bob knows this customer." in message


def test_a_person_in_several_teams_needs_the_team_named(ticket, alice, technical):
    frontline = TeamFactory(name="Front line")
    both = StaffFactory(username="fran", teams=[technical, frontline])

    with pytest.raises(ValidationError, match="several teams"):
        services.transfer(ticket, by=alice, assignee=both, note="Over to Fran.")
    services.transfer(ticket, by=alice, assignee=both, team=frontline, note="Over to Fran.")
    assert ticket.team == frontline


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"note": "x"}, "Choose the team or the person"), ({"note": " ", "team": None}, "hand-off note")],
)
def test_a_transfer_needs_a_destination_and_a_note(ticket, alice, kwargs, message):
    with pytest.raises(ValidationError, match=message):
        services.transfer(ticket, by=alice, **kwargs)


def test_a_transfer_to_where_it_already_is_is_refused(ticket, alice, billing):
    with pytest.raises(ValidationError, match="already there"):
        services.transfer(ticket, by=alice, team=billing, note="Back to us.")


def test_assigning_tells_the_assignee_but_not_when_you_take_it_yourself(ticket, alice, carol, billing):
    services.assign(ticket, assignee=alice, by=alice)
    assert notices("assignment") == []

    other = StaffFactory(username="olga", teams=[billing])
    services.assign(ticket, assignee=other, by=carol)
    assert [recipient for recipient, _ in notices("assignment")] == ["olga"]
