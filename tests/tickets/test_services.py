"""The write path: every change goes through a service and leaves its Interaction, with the customer's name."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers.models import Customer
from customers.services import update_customer
from tests.factories import CategoryFactory, EscalationPathFactory
from tickets import services
from tickets.models import STATUS_TRANSITIONS, InteractionKind, Ticket, TicketStatus

pytestmark = pytest.mark.django_db


def kinds(ticket: Ticket) -> list[str]:
    return list(ticket.interactions.values_list("kind", flat=True))


# --- Opening ----------------------------------------------------------------------------------


def test_a_web_ticket_starts_at_level_one_with_the_customers_words(category, billing):
    ticket = services.open_ticket(
        name="Dave Jones",
        email="dave@example.com",
        subject="Charged twice",
        body="My card shows two charges.",
        category=category,
    )

    assert ticket.reference == f"PD-{ticket.pk + 1000}"
    assert (ticket.status, ticket.team, ticket.escalation_level.position) == ("new", billing, 1)
    assert ticket.priority == category.default_priority
    message = ticket.interactions.get()
    assert (message.kind, message.author_kind, message.is_public) == ("customer_message", "customer", True)
    assert (message.customer_name, message.body) == ("Dave Jones", "My card shows two charges.")


def test_a_ticket_is_found_by_its_public_reference(ticket):
    assert Ticket.objects.by_reference(ticket.reference.lower()).get() == ticket
    assert not Ticket.objects.by_reference("PD-abc").exists()
    assert not Ticket.objects.by_reference("1042").exists()


def test_a_returning_customer_is_recognised_by_email_whatever_the_case(dave, category):
    ticket = services.open_ticket(
        name="David Jones", email="  DAVE@Example.com ", subject="Again", body="Hello again", category=category
    )

    assert ticket.customer == dave
    assert Customer.objects.count() == 1
    # The name on this interaction is the name given this time; the customer's record is not changed by it.
    assert ticket.interactions.get().customer_name == "David Jones"
    dave.refresh_from_db()
    assert dave.name == "Dave Jones"


def test_an_agent_can_open_a_ticket_for_a_caller(alice, category):
    ticket = services.open_ticket(
        name="Mia Wong",
        email="mia@example.com",
        subject="Can't log in",
        body="Locked out since this morning.",
        category=category,
        channel="phone",
        by=alice,
    )

    message = ticket.interactions.get()
    assert ticket.channel == "phone"
    assert (message.author, message.author_kind, message.customer_name) == (alice, "staff", "Mia Wong")


@pytest.mark.parametrize(
    ("field", "message"),
    [("name", "your name"), ("subject", "subject"), ("body", "describe what you need")],
)
def test_opening_without_required_words_is_refused_clearly(category, field, message):
    values = {"name": "Dave", "email": "dave@example.com", "subject": "Help", "body": "Please help", field: "   "}
    with pytest.raises(ValidationError, match=message) as refusal:
        services.open_ticket(category=category, **values)

    assert field in refusal.value.message_dict
    assert not Ticket.objects.exists()


def test_a_category_whose_path_has_no_levels_cannot_take_tickets():
    empty = CategoryFactory(escalation_path=EscalationPathFactory(name="Empty", teams=[]))
    empty.escalation_path.levels.all().delete()
    with pytest.raises(ValidationError, match="no levels"):
        services.open_ticket(name="Dave", email="d@example.com", subject="Hi", body="Hi", category=empty)


# --- Conversation -----------------------------------------------------------------------------


def test_the_first_reply_opens_a_new_ticket_and_sets_the_first_response_time(ticket, alice):
    first = timezone.now()
    services.reply(ticket, by=alice, body="Hi Dave, looking into it now.", now=first)
    services.reply(ticket, by=alice, body="Refund issued.", now=first + timedelta(minutes=5))

    assert ticket.status == "open"
    assert ticket.first_response_at == first
    assert kinds(ticket) == ["customer_message", "reply", "status_change", "reply"]
    reply = ticket.interactions.filter(kind="reply").first()
    assert (reply.author, reply.is_public, reply.customer_name) == (alice, True, "Dave Jones")


def test_a_note_stays_internal(ticket, alice):
    note = services.add_note(ticket, by=alice, body="Customer sounds upset; check the ledger.")

    assert (note.kind, note.is_public, note.author_kind) == ("note", False, "staff")
    assert ticket.last_activity_at == note.created_at


def test_a_call_is_logged_with_its_length(ticket, alice):
    call = services.log_call(ticket, by=alice, summary="Walked through the refund.", duration=timedelta(minutes=7))

    assert (call.kind, call.body, call.data) == ("call", "Walked through the refund.", {"duration_seconds": 420})


@pytest.mark.parametrize("minutes", [0, -3, 60 * 9])
def test_a_call_of_impossible_length_is_refused(ticket, alice, minutes):
    with pytest.raises(ValidationError, match="at most 8 hours"):
        services.log_call(ticket, by=alice, summary="Chat", duration=timedelta(minutes=minutes))
    assert kinds(ticket) == ["customer_message"]


@pytest.mark.parametrize("write", ["reply", "add_note"])
def test_empty_words_are_refused(ticket, alice, write):
    with pytest.raises(ValidationError, match="Write the"):
        getattr(services, write)(ticket, by=alice, body=" \n ")


def test_someone_who_is_not_staff_cannot_act_on_a_ticket(ticket, eve):
    with pytest.raises(ValidationError, match="Only active staff"):
        services.reply(ticket, by=eve, body="Hello")
    assert kinds(ticket) == ["customer_message"]


def test_the_customers_reply_reopens_a_ticket_waiting_on_them(ticket, alice):
    services.change_status(ticket, to="waiting", by=alice)
    services.receive_customer_message(ticket, body="Here is the screenshot.")

    assert (ticket.status, ticket.paused_at) == ("open", None)
    assert kinds(ticket)[-2:] == ["customer_message", "status_change"]


def test_a_customer_cannot_write_to_a_resolved_ticket_without_reopening(ticket, alice):
    services.resolve(ticket, by=alice, summary="Refunded.")
    with pytest.raises(ValidationError, match="reopen it"):
        services.receive_customer_message(ticket, body="One more thing")


def test_every_interaction_carries_the_customers_name_at_that_moment(ticket, alice):
    services.reply(ticket, by=alice, body="On it.")
    update_customer(ticket.customer, name="Dave Jones-Smith", by=alice)
    services.reply(ticket, by=alice, body="Done.")

    names = list(ticket.interactions.filter(kind="reply").values_list("customer_name", flat=True))
    assert names == ["Dave Jones", "Dave Jones-Smith"]


# --- Assignment -------------------------------------------------------------------------------


def test_a_ticket_is_assigned_to_a_member_of_its_team(ticket, alice, carol):
    services.assign(ticket, assignee=alice, by=carol)

    assert ticket.assignee == alice
    assignment = ticket.interactions.get(kind="assignment")
    assert (assignment.author, assignment.is_public, assignment.data) == (carol, False, {"from": None, "to": alice.pk})


def test_assigning_to_another_teams_agent_asks_for_a_transfer(ticket, bob, carol):
    with pytest.raises(ValidationError, match="bob is not in Billing: transfer"):
        services.assign(ticket, assignee=bob, by=carol)
    assert ticket.assignee is None
    assert kinds(ticket) == ["customer_message"]


def test_a_ticket_can_be_unassigned(ticket, alice):
    services.assign(ticket, assignee=alice, by=alice)
    services.assign(ticket, assignee=None, by=alice)

    assert ticket.assignee is None
    assert kinds(ticket) == ["customer_message", "assignment", "assignment"]


# --- Status: the transitions table ------------------------------------------------------------


def put_in(ticket: Ticket, status: str, by) -> None:
    """Bring a new ticket to ``status`` the way people would."""
    if status == "new":
        return
    if status in ("resolved", "closed"):
        services.resolve(ticket, by=by, summary="Sorted.")
        if status == "closed":
            services.change_status(ticket, to="closed", by=by)
        return
    services.change_status(ticket, to=status, by=by)


ALL_MOVES = [(start, to) for start in TicketStatus.values for to in TicketStatus.values if start != to]


@pytest.mark.parametrize(("start", "to"), ALL_MOVES, ids=[f"{s}->{t}" for s, t in ALL_MOVES])
def test_status_moves_follow_the_transitions_table(ticket, alice, start, to):
    put_in(ticket, start, alice)
    before = ticket.interactions.count()
    allowed = to in STATUS_TRANSITIONS[start]

    if to == "resolved" and allowed:
        services.resolve(ticket, by=alice, summary="Done.")
    elif start in ("resolved", "closed") and to in Ticket.OPEN_STATUSES and allowed:
        services.reopen(ticket, by=alice, reason="Still broken.")
    elif allowed:
        services.change_status(ticket, to=to, by=alice)
    else:
        with pytest.raises(services.InvalidTransition):
            services.change_status(ticket, to=to, by=alice)

    ticket.refresh_from_db()
    assert ticket.status == (to if allowed else start)
    assert ticket.interactions.count() > before if allowed else ticket.interactions.count() == before


def test_an_illegal_move_says_where_the_ticket_can_go(ticket, alice):
    with pytest.raises(services.InvalidTransition, match="can move to Open, Waiting on customer, Resolved"):
        services.change_status(ticket, to="closed", by=alice)

    put_in(ticket, "closed", alice)
    with pytest.raises(
        services.InvalidTransition,
        match=r"is Closed: it cannot move to Waiting on customer\. "
        r"From Closed it can move to nothing \(it is final\)",
    ):
        services.change_status(ticket, to="waiting", by=alice)


def test_an_unknown_status_is_refused(ticket, alice):
    with pytest.raises(services.InvalidTransition, match="'lost' is not a ticket status"):
        services.change_status(ticket, to="lost", by=alice)


def test_resolving_and_reopening_need_their_words(ticket, alice):
    with pytest.raises(services.InvalidTransition, match="use Resolve"):
        services.change_status(ticket, to="resolved", by=alice)
    with pytest.raises(ValidationError, match="Say how it was resolved"):
        services.resolve(ticket, by=alice, summary="")

    services.resolve(ticket, by=alice, summary="Refunded.")
    with pytest.raises(services.InvalidTransition, match="use Reopen"):
        services.change_status(ticket, to="open", by=alice)
    with pytest.raises(ValidationError, match="what is still wrong"):
        services.reopen(ticket, reason=" ")


def test_waiting_on_the_customer_pauses_the_clock(ticket, alice):
    now = timezone.now()
    services.change_status(ticket, to="waiting", by=alice, now=now)
    assert ticket.paused_at == now

    services.change_status(ticket, to="open", by=alice, now=now + timedelta(hours=1))
    assert ticket.paused_at is None


def test_resolution_is_public_and_timed(ticket, alice):
    now = timezone.now()
    resolution = services.resolve(ticket, by=alice, summary="Refund of £12.99 issued.", now=now)

    assert (ticket.status, ticket.resolved_at) == ("resolved", now)
    assert (resolution.kind, resolution.is_public) == (InteractionKind.RESOLUTION, True)
    assert kinds(ticket)[-2:] == ["status_change", "resolution"]


def test_the_customer_can_reopen_a_resolved_ticket(ticket, alice):
    services.resolve(ticket, by=alice, summary="Refunded.")
    reopen = services.reopen(ticket, reason="The second charge is still there.")

    assert (ticket.status, ticket.resolved_at) == ("open", None)
    assert (reopen.author_kind, reopen.author, reopen.is_public) == ("customer", None, True)


def test_a_failed_service_writes_nothing(ticket, bob, carol):
    before = ticket.interactions.count()
    with pytest.raises(ValidationError):
        services.assign(ticket, assignee=bob, by=carol)

    ticket.refresh_from_db()
    assert ticket.interactions.count() == before
    assert ticket.assignee is None


def test_the_same_form_sent_twice_opens_one_ticket(category):
    key = uuid.uuid4()
    first = services.open_ticket(
        name="Dave", email="dave@example.com", subject="Help", body="Please", category=category, submission_key=key
    )
    again = services.open_ticket(
        name="Dave", email="dave@example.com", subject="Help", body="Please", category=category, submission_key=key
    )

    assert again.pk == first.pk
    assert Ticket.objects.count() == 1 and first.interactions.count() == 1
