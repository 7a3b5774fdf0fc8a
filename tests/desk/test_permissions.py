"""Who may open which desk page and take which action.

Anonymous visitors sign in first; signed-in people who are not staff are refused (403); an agent of
another team finds no such ticket (404: its existence is not disclosed); the ticket's team and
supervisors get through. Every page and every action in ``tickets.action_forms.ACTIONS`` is covered.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.desk.helpers import (
    VALID_POSTS,
    action_url,
    assert_sent_to_sign_in,
    check_url,
    html,
    notice,
    prepare,
    references,
    ticket_url,
    typed,
    written,
)
from tests.factories import CategoryFactory, EscalationPathFactory, TicketFactory
from tickets import services
from tickets.action_forms import ACTIONS
from tickets.forms import QUEUE_VIEWS
from tickets.views.desk import HISTORY_SHOWN

QUEUE = [f"queue:{view}" for view in QUEUE_VIEWS]
TICKET_PAGES = ["ticket", "promise-check", "reply-check"]
TICKET_ACTIONS = [f"action:{name}" for name in VALID_POSTS]
OWN_PAGES = ["notifications", "notification-open", "notifications-read-all", "password-change", "tokens", "new-ticket"]
EVERYTHING = [*QUEUE, *TICKET_PAGES, *TICKET_ACTIONS, *OWN_PAGES]


def route(endpoint, *, ticket, notification):
    """(method, URL, POST data) for one endpoint on this ticket and notification."""
    kind, _, arg = endpoint.partition(":")
    if kind == "queue":
        return "get", f"{reverse('desk:queue')}?{urlencode({'view': arg})}", {}
    if kind == "ticket":
        return "get", ticket_url(ticket), {}
    if kind == "promise-check":
        return "get", f"{check_url(ticket)}?{urlencode({'due_at': typed(timezone.now() + timedelta(days=2))})}", {}
    if kind == "reply-check":
        return "post", reverse("desk:reply-check", args=[ticket.reference]), {"body": "I'll call you in 3 days."}
    if kind == "action":
        return "post", action_url(ticket, arg), VALID_POSTS[arg](ticket)
    if kind == "notifications":
        return "get", reverse("desk:notifications"), {}
    if kind == "notification-open":
        return "post", reverse("desk:notification-open", args=[notification.pk]), {}
    if kind == "notifications-read-all":
        return "post", reverse("desk:notifications-read-all"), {}
    if kind == "tokens":
        return "get", reverse("desk:tokens"), {}
    if kind == "new-ticket":
        return "get", reverse("desk:new-ticket"), {}
    assert kind == "password-change"
    return "get", reverse("password_change"), {}


def visit(client, endpoint, *, ticket, notification):
    method, url, data = route(endpoint, ticket=ticket, notification=notification)
    return getattr(client, method)(url, data), url


def test_the_permission_tests_cover_every_action():
    assert set(VALID_POSTS) == set(ACTIONS)


# --- Anonymous visitors ------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", EVERYTHING)
def test_an_anonymous_visitor_is_sent_to_sign_in_and_back(endpoint, client_for, ticket, alice):
    # given a notification (of alice's) for the notification URLs
    notification = notice(alice, ticket)
    before = written(ticket)
    # when someone who has not signed in asks for the page
    response, url = visit(client_for(None), endpoint, ticket=ticket, notification=notification)
    # then they are asked to sign in, and brought back afterwards; nothing happened
    assert_sent_to_sign_in(response, url)
    assert written(ticket) == before


def test_an_anonymous_visitor_opening_an_action_url_is_sent_to_sign_in_not_told_405(client_for, ticket):
    response = client_for(None).get(action_url(ticket, "reply"))
    assert_sent_to_sign_in(response, action_url(ticket, "reply"))


# --- Signed in, not staff ----------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", [e for e in EVERYTHING if e != "password-change"])
def test_eve_who_is_not_staff_is_refused_everywhere(endpoint, client_for, ticket, eve, alice):
    notification = notice(alice, ticket)
    before = written(ticket)
    response, _ = visit(client_for(eve), endpoint, ticket=ticket, notification=notification)
    assert response.status_code == 403
    assert written(ticket) == before


def test_eve_who_is_not_staff_is_refused_the_password_change_page(client_for, eve):
    assert client_for(eve).get(reverse("password_change")).status_code == 403


# --- An agent of another team ------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", [*TICKET_PAGES, *TICKET_ACTIONS])
def test_bob_of_another_team_finds_no_such_ticket(endpoint, client_for, ticket, bob, carol, alice):
    # given Dave's ticket in Billing (for reopening, resolved first); bob works in Technical
    if endpoint.startswith("action:"):
        prepare(endpoint.partition(":")[2], ticket, by=carol)
    before = written(ticket)
    # when bob opens it or acts on it
    response, _ = visit(client_for(bob), endpoint, ticket=ticket, notification=None)
    # then it does not exist for him, and nothing was written
    assert response.status_code == 404
    assert ticket.subject not in html(response)
    assert written(ticket) == before


@pytest.mark.parametrize("view", QUEUE_VIEWS)
def test_bob_of_another_team_does_not_see_the_ticket_in_any_queue_view(view, client_for, ticket, bob):
    response = client_for(bob).get(reverse("desk:queue"), {"view": view})
    assert response.status_code == 200
    assert ticket.reference not in references(response)
    assert ticket.subject not in html(response)


@pytest.mark.parametrize("query", ["reference", "reference in lower case", "subject", "customer name", "email"])
def test_bob_of_another_team_cannot_find_the_ticket_by_searching(query, client_for, ticket, bob):
    text = {
        "reference": ticket.reference,
        "reference in lower case": ticket.reference.lower(),
        "subject": "charged twice",
        "customer name": "Dave",
        "email": "dave@example.com",
    }[query]
    response = client_for(bob).get(reverse("desk:queue"), {"view": "all", "q": text})
    assert response.status_code == 200
    assert references(response) == []
    assert "Nothing here." in html(response)


def test_the_customers_history_lists_only_the_tickets_the_agent_may_see(client_for, ticket, alice, bob, carol, dave):
    # given Dave also has a request with Technical (bob's team), and one of Billing's that went to Technical
    technical_ticket = TicketFactory(
        customer=dave,
        category=CategoryFactory(escalation_path=EscalationPathFactory(teams=[bob.teams.get()])),
        subject="Router keeps rebooting",
    )
    billing_ticket = TicketFactory(customer=dave, category=ticket.category, subject="Refund for March")
    # when alice (Billing) and carol (supervisor) open Dave's first ticket
    for_alice = html(client_for(alice).get(ticket_url(ticket)))
    for_carol = html(client_for(carol).get(ticket_url(ticket)))
    # then alice sees her team's other request, not Technical's, whose reference 404s for her everywhere else
    assert billing_ticket.reference in for_alice and "Refund for March" in for_alice
    assert technical_ticket.reference not in for_alice and "Router keeps rebooting" not in for_alice
    assert client_for(alice).get(ticket_url(technical_ticket)).status_code == 404
    # and carol, who sees every ticket, sees both
    assert technical_ticket.reference in for_carol and billing_ticket.reference in for_carol


def test_the_count_of_further_earlier_requests_counts_only_what_the_agent_may_see(client_for, ticket, alice, bob, dave):
    # given Dave has many requests with Technical and none more with Billing
    technical = CategoryFactory(escalation_path=EscalationPathFactory(teams=[bob.teams.get()]))
    for _ in range(HISTORY_SHOWN + 2):
        TicketFactory(customer=dave, category=technical)
    # then alice is told of no other request at all
    page = html(client_for(alice).get(ticket_url(ticket)))
    assert "First request." in page
    assert "earlier: search the queue" not in page


@pytest.mark.parametrize("endpoint", OWN_PAGES)
def test_bob_of_another_team_still_has_his_own_pages(endpoint, client_for, ticket, bob, carol, technical):
    # given a notification of bob's about a ticket he can see (carol handed it to Technical)
    mine = services.transfer(ticket, by=carol, team=technical, note="Over to Technical.").ticket
    response, _ = visit(client_for(bob), endpoint, ticket=mine, notification=notice(bob, mine))
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        assert client_for(bob).get(response["Location"]).status_code == 200


def test_a_ticket_assigned_to_bob_from_another_team_is_visible_to_bob(client_for, ticket, bob, billing, carol):
    # given bob was in Billing when the ticket was assigned to him, and has since moved to Technical
    billing.members.add(bob)
    services.assign(ticket, assignee=bob, by=carol)
    billing.members.remove(bob)
    client = client_for(bob)
    # then he still sees it: on its page, in his queue, and he can work on it
    assert client.get(ticket_url(ticket)).status_code == 200
    assert ticket.reference in references(client.get(reverse("desk:queue"), {"view": "mine"}))
    response = client.post(action_url(ticket, "note"), {"body": "Looking into it."})
    assert response.status_code == 302
    assert ticket.interactions.filter(kind="note", author=bob).exists()


# --- The ticket's team and supervisors ---------------------------------------------------------

# Where a new, unassigned ticket in Billing appears, for alice (in Billing) and carol (in no team).
LISTED = {"alice": {"teams", "unassigned", "all"}, "carol": {"unassigned", "all"}}


def assert_allowed(persona, endpoint, *, client, ticket, user, by):
    notification = notice(user, ticket)
    if endpoint.startswith("action:"):
        prepare(endpoint.partition(":")[2], ticket, by=by)
    response, _ = visit(client, endpoint, ticket=ticket, notification=notification)
    kind, _, arg = endpoint.partition(":")
    if kind == "queue":
        assert response.status_code == 200
        assert (ticket.reference in references(response)) == (arg in LISTED[persona])
    elif kind == "ticket":
        assert response.status_code == 200
        assert ticket.subject in html(response)
    elif kind == "promise-check":
        assert response.status_code == 200
        assert 'data-guard="realistic"' in html(response)
    elif kind == "reply-check":
        assert response.status_code == 200
        assert 'data-commitment="realistic"' in html(response)
    elif kind == "action":
        assert response.status_code == 302, html(response)
        # Handing the ticket to Technical takes it out of alice's sight: she goes back to her queue.
        handed_away = persona == "alice" and arg in ("transfer", "escalate")
        assert response["Location"] == (reverse("desk:queue") if handed_away else ticket_url(ticket))
    elif kind == "notification-open":
        assert response.status_code == 302
        assert response["Location"] == ticket_url(ticket)
        notification.refresh_from_db()
        assert notification.read_at is not None
    elif kind == "notifications-read-all":
        assert response.status_code == 302
        assert response["Location"] == reverse("desk:notifications")
    else:
        assert response.status_code == 200


@pytest.mark.parametrize("endpoint", EVERYTHING)
def test_alice_of_the_tickets_team_may_use_every_page_and_action(endpoint, client_for, ticket, alice, technical):
    assert_allowed("alice", endpoint, client=client_for(alice), ticket=ticket, user=alice, by=alice)


@pytest.mark.parametrize("endpoint", EVERYTHING)
def test_carol_the_supervisor_may_use_every_page_and_action(endpoint, client_for, ticket, carol, alice, technical):
    assert_allowed("carol", endpoint, client=client_for(carol), ticket=ticket, user=carol, by=carol)


# --- Wrong method, wrong action, someone else's notification -----------------------------------


@pytest.mark.parametrize("action", ["fly", "delete", "__class__", "perform"])
def test_an_action_that_does_not_exist_is_404(action, client_for, ticket, alice):
    before = written(ticket)
    response = client_for(alice).post(action_url(ticket, action), {"body": "Hello"})
    assert response.status_code == 404
    assert written(ticket) == before


@pytest.mark.parametrize("action", VALID_POSTS)
def test_get_on_an_action_url_is_405(action, client_for, ticket, alice):
    before = written(ticket)
    response = client_for(alice).get(action_url(ticket, action), VALID_POSTS[action](ticket))
    assert response.status_code == 405
    assert written(ticket) == before


@pytest.mark.parametrize("reference", ["PD-999999", "PD-99999999999999999999999", "1001", "nonsense"])
def test_a_ticket_that_does_not_exist_is_404(reference, client_for, ticket, carol):
    response = client_for(carol).get(reverse("desk:ticket", args=[reference]))
    assert response.status_code == 404


def test_the_reference_in_a_ticket_url_is_read_in_any_case(client_for, ticket, alice):
    response = client_for(alice).get(reverse("desk:ticket", args=[ticket.reference.lower()]))
    assert response.status_code == 200


@pytest.mark.parametrize("opener", ["alice", "carol"])
def test_someone_elses_notification_is_404_on_open_and_stays_unread(opener, request, client_for, ticket, bob):
    # given a notification of bob's; alice is in the ticket's team, carol supervises everyone
    bobs = notice(bob, ticket)
    # when someone else opens it
    response = client_for(request.getfixturevalue(opener)).post(reverse("desk:notification-open", args=[bobs.pk]))
    # then it is not theirs to open, and bob still has it unread
    assert response.status_code == 404
    bobs.refresh_from_db()
    assert bobs.read_at is None


def test_a_notification_that_does_not_exist_is_404_on_open(client_for, alice):
    response = client_for(alice).post(reverse("desk:notification-open", args=[99999999999999999999]))
    assert response.status_code == 404


def test_marking_all_as_read_touches_only_ones_own_notifications(client_for, ticket, alice, bob):
    mine, bobs = notice(alice, ticket), notice(bob, ticket)
    client_for(alice).post(reverse("desk:notifications-read-all"))
    mine.refresh_from_db()
    bobs.refresh_from_db()
    assert mine.read_at is not None
    assert bobs.read_at is None


@pytest.mark.parametrize("url_name", ["desk:notification-open", "desk:notifications-read-all"])
def test_notification_writes_refuse_get(url_name, client_for, ticket, alice):
    mine = notice(alice, ticket)
    args = [mine.pk] if url_name == "desk:notification-open" else []
    assert client_for(alice).get(reverse(url_name, args=args)).status_code == 405
    mine.refresh_from_db()
    assert mine.read_at is None


def test_the_notifications_page_lists_the_unread_first_even_after_many_read(client_for, ticket, alice):
    # given many read notifications, newer than one still unread
    unread = notice(alice, ticket, message="Still unread: the oldest.")
    for n in range(55):
        read = notice(alice, ticket, message=f"Read {n}.")
        read.read_at = timezone.now()
        read.save(update_fields=["read_at"])
    # then the unread one is on the page, first (once, PostgreSQL's NULLS LAST hid it past 50 read ones)
    page = html(client_for(alice).get(reverse("desk:notifications")))
    assert unread.message in page
    assert page.index(unread.message) < page.index("Read 54.")
