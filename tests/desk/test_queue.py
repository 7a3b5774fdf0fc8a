"""The queue: its views and their counts, filters, search, order, pages, and the htmx refresh."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.desk.helpers import counts, force, html, promised, references
from tests.factories import CategoryFactory, CustomerFactory, TicketFactory
from tickets import services
from tickets.forms import QUEUE_VIEWS, QueueFilterForm
from tickets.models import Notification

QUEUE = reverse("desk:queue")


@pytest.fixture
def world(dave, category, alice, bob, carol, billing, technical):
    """One ticket per situation; alice works in Billing, so she sees all but ``technical``."""
    tickets = {
        "plain": TicketFactory(customer=dave, category=category, subject="I was charged twice"),
        "mine": TicketFactory(category=category, subject="Invoice address wrong"),
        "at_risk": TicketFactory(category=category, subject="Card declined"),
        "breached": TicketFactory(category=category, subject="Refund missing"),
        "waiting": TicketFactory(category=category, subject="Which invoice?"),
        "urgent": TicketFactory(category=category, subject="Account locked", priority=4),
        "other_category": TicketFactory(
            category=CategoryFactory(name="Technical fault", escalation_path=category.escalation_path),
            subject="App crashes",
        ),
        "resolved": TicketFactory(category=category, subject="Receipt needed"),
        "technical": TicketFactory(category=category, subject="Gateway timeout"),
    }
    services.assign(tickets["mine"], assignee=alice, by=alice)
    promised(tickets["at_risk"], due_in=timedelta(minutes=10), state="at_risk")
    promised(tickets["breached"], due_in=-timedelta(minutes=10), state="breached")
    services.change_status(tickets["waiting"], to="waiting", by=alice)
    services.resolve(tickets["resolved"], by=alice, summary="Sent.")
    services.transfer(tickets["technical"], by=carol, team=technical, note="Gateway: Technical's.")
    for ticket in tickets.values():
        ticket.refresh_from_db()
    return tickets


def listed(response, world) -> set[str]:
    """The names (in ``world``) of the tickets a queue page lists."""
    names = {ticket.reference: name for name, ticket in world.items()}
    return {names[reference] for reference in references(response)}


OPEN_IN_BILLING = {"plain", "mine", "at_risk", "breached", "waiting", "urgent", "other_category"}

# What alice sees in each view.
ALICE_VIEWS = {
    "mine": {"mine"},
    "teams": OPEN_IN_BILLING,
    "unassigned": OPEN_IN_BILLING - {"mine"},
    "at_risk": {"at_risk"},
    "breached": {"breached"},
    "waiting": {"waiting"},
    "all": OPEN_IN_BILLING | {"resolved"},
}


def test_every_view_is_tested():
    assert set(ALICE_VIEWS) == set(QUEUE_VIEWS)


@pytest.mark.parametrize("view", ALICE_VIEWS)
def test_each_view_lists_the_right_tickets_for_alice(view, client_for, world, alice):
    response = client_for(alice).get(QUEUE, {"view": view})
    assert response.status_code == 200
    assert listed(response, world) == ALICE_VIEWS[view]
    assert f'href="?view={view}" aria-current="page"' in html(response)


TABS = "/desk/tabs/"


def test_the_count_on_each_tab_is_the_number_of_tickets_in_that_view(client_for, world, alice):
    # The counts load (and refresh) on their own, after the page: "All" has none (it holds all history).
    response = client_for(alice).get(TABS, {"view": "teams"})
    assert counts(response) == {view: len(names) for view, names in ALICE_VIEWS.items() if view != "all"}
    assert 'href="?view=teams" aria-current="page"' in html(response)


def test_the_page_asks_for_its_counts_and_refreshes_them(client_for, world, alice):
    page = html(client_for(alice).get(QUEUE, {"view": "mine"}))
    assert 'hx-get="/desk/tabs/?view=mine" hx-trigger="load, every 30s"' in page


def test_a_supervisor_counts_every_open_ticket(client_for, world, carol):
    response = client_for(carol).get(TABS)
    assert counts(response) == {
        "mine": 0,
        "teams": 0,  # carol is in no team
        "unassigned": len(OPEN_IN_BILLING - {"mine"}) + 1,
        "at_risk": 1,
        "breached": 1,
        "waiting": 1,
    }


def test_an_agents_default_view_is_their_teams(client_for, world, alice):
    response = client_for(alice).get(QUEUE)
    assert 'href="?view=teams" aria-current="page"' in html(response)
    assert listed(response, world) == ALICE_VIEWS["teams"]


def test_a_supervisors_default_view_is_everything(client_for, world, carol):
    response = client_for(carol).get(QUEUE)
    assert 'href="?view=all" aria-current="page"' in html(response)
    assert listed(response, world) == set(world)


def test_bobs_teams_view_holds_only_technicals_tickets(client_for, world, bob):
    assert listed(client_for(bob).get(QUEUE), world) == {"technical"}


# --- Filters -----------------------------------------------------------------------------------

FILTERS = {
    "status": (lambda world: "waiting", {"waiting"}),
    "category": (lambda world: world["other_category"].category_id, {"other_category"}),
    "priority": (lambda world: 4, {"urgent"}),
    "team": (lambda world: world["technical"].team_id, {"technical"}),
    "assignee": (lambda world: world["mine"].assignee_id, {"mine"}),
    "promise_state": (lambda world: "at_risk", {"at_risk"}),
}


@pytest.mark.parametrize("name", FILTERS)
def test_each_filter_narrows_the_queue(name, client_for, world, carol):
    value, expected = FILTERS[name]
    response = client_for(carol).get(QUEUE, {"view": "all", name: value(world)})
    assert response.status_code == 200
    assert listed(response, world) == expected
    assert '<details class="mb-3" open>' in html(response)  # the filters stay open while in use


def test_filters_combine(client_for, world, carol):
    response = client_for(carol).get(QUEUE, {"view": "all", "team": world["plain"].team_id, "priority": 4})
    assert listed(response, world) == {"urgent"}


INVALID = {
    "status": ("bogus", "Select a valid choice. bogus is not one of the available choices."),
    "promise_state": ("nope", "Select a valid choice. nope is not one of the available choices."),
    "priority": ("abc", "Select a valid choice. abc is not one of the available choices."),
    "category": ("abc", "Select a valid choice. That choice is not one of the available choices."),
    "team": ("99999", "Select a valid choice. That choice is not one of the available choices."),
    "assignee": ("99999", "Select a valid choice. That choice is not one of the available choices."),
}


def test_every_filter_has_an_invalid_value_test():
    assert set(INVALID) == set(QueueFilterForm.FILTERS)


def test_invalid_filter_values_are_each_shown_as_an_error_and_ignored(client_for, world, carol):
    # when carol's filters hold a value that is not on offer, in every filter at once
    response = client_for(carol).get(QUEUE, {"view": "all", **{name: value for name, (value, _) in INVALID.items()}})
    # then the page still works: each filter says what is wrong, and none of them narrows the list
    assert response.status_code == 200
    page = html(response)
    for name, (_, message) in INVALID.items():
        field = page[page.index(f'id="id_{name}"') :]
        assert message in field[: field.index("</div>")], name
    assert listed(response, world) == set(world)


@pytest.mark.parametrize(("name", "value"), [("view", "bogus"), ("page", "abc"), ("page", "-1"), ("q", "x" * 201)])
def test_an_unexpected_view_page_or_search_does_not_break_the_queue(name, value, client_for, ticket, carol):
    response = client_for(carol).get(QUEUE, {name: value})
    assert response.status_code == 200


def test_a_page_past_the_end_is_empty_with_a_way_back(client_for, world, carol):
    response = client_for(carol).get(QUEUE, {"view": "all", "page": "999"})
    assert response.status_code == 200
    assert listed(response, world) == set()
    assert "page=998" in html(response) and "Previous" in html(response)


@pytest.mark.parametrize("page", ["0", "-3", "abc", ""])
def test_a_page_that_is_not_a_page_number_shows_the_first(client_for, world, carol, page):
    response = client_for(carol).get(QUEUE, {"view": "all", "page": page})
    assert response.status_code == 200
    assert "Page 1<" in html(response) or listed(response, world) == set(world)


# --- Search ------------------------------------------------------------------------------------


@pytest.fixture
def priya(category):
    customer = CustomerFactory(name="Priya Shah", email="priya@shah.example.org")
    return TicketFactory(customer=customer, category=category, subject="Parcel never arrived")


@pytest.mark.parametrize(
    ("text", "finds"),
    [
        ("{dave}", "dave"),
        ("{dave_lower}", "dave"),
        ("  {dave}  ", "dave"),
        ("charged", "dave"),
        ("CHARGED TWICE", "dave"),
        ("Jones", "dave"),
        ("priya", "priya"),
        ("shah.example.org", "priya"),
        ("PRIYA@SHAH", "priya"),
        ("parcel", "priya"),
        ("nothing like this", None),
        ("PD-99999999999999999999999", None),
    ],
)
def test_search_finds_by_reference_subject_customer_name_and_email(text, finds, client_for, ticket, priya, carol):
    found = {"dave": ticket, "priya": priya}
    query = text.format(dave=ticket.reference, dave_lower=ticket.reference.lower())
    response = client_for(carol).get(QUEUE, {"view": "all", "q": query})
    assert response.status_code == 200
    assert references(response) == ([found[finds].reference] if finds else [])


def test_search_keeps_what_was_typed_in_the_box(client_for, ticket, carol):
    response = client_for(carol).get(QUEUE, {"view": "all", "q": "charged twice"})
    assert 'value="charged twice"' in html(response)


def test_search_applies_within_the_view(client_for, ticket, alice, carol, technical):
    # given Dave's ticket was handed to Technical
    services.transfer(ticket, by=carol, team=technical, note="Technical's.")
    # when alice searches her teams' view for it
    response = client_for(alice).get(QUEUE, {"view": "teams", "q": ticket.reference})
    # then it is not there
    assert references(response) == []


# --- Order and pages ---------------------------------------------------------------------------


def test_the_nearest_promise_comes_first_then_unpromised_urgent_and_old_first_then_settled(client_for, category, carol):
    def opened(subject, **kwargs):
        return TicketFactory(category=category, subject=subject, **kwargs)

    # given tickets opened in this order
    old_unpromised = opened("old, no promise")
    settled = opened("resolved")
    in_three_hours = promised(opened("due in 3 h"), due_in=timedelta(hours=3))
    new_unpromised = opened("new, no promise")
    urgent_unpromised = opened("urgent, no promise", priority=4)
    in_one_hour = promised(opened("due in 1 h"), due_in=timedelta(hours=1))
    overdue = promised(opened("overdue"), due_in=-timedelta(minutes=5), state="breached")
    services.resolve(settled, by=carol, summary="Done.")
    # when carol looks at everything
    response = client_for(carol).get(QUEUE, {"view": "all"})
    # then the nearest due time comes first; tickets with no promise after, urgent first, then oldest
    assert references(response) == [
        t.reference
        for t in (overdue, in_one_hour, in_three_hours, urgent_unpromised, old_unpromised, new_unpromised, settled)
    ]


def test_the_queue_shows_25_tickets_a_page(client_for, category, carol):
    tickets = [TicketFactory(category=category) for _ in range(30)]
    client = client_for(carol)
    first = client.get(QUEUE, {"view": "all"})
    second = client.get(QUEUE, {"view": "all", "page": 2})
    assert len(references(first)) == 25
    assert len(references(second)) == 5
    assert set(references(first)) | set(references(second)) == {t.reference for t in tickets}
    assert "page=2" in html(first) and "Next" in html(first)
    assert "Page 2<" in html(second) and "Next" not in html(second)


def test_the_next_page_link_keeps_the_view_and_filters(client_for, category, carol):
    for _ in range(26):
        TicketFactory(category=category, priority=3)
    response = client_for(carol).get(QUEUE, {"view": "all", "priority": 3})
    assert 'href="?view=all&amp;priority=3&amp;page=2"' in html(response)


# --- The htmx refresh --------------------------------------------------------------------------


def test_the_htmx_refresh_returns_only_the_live_part(client_for, world, alice):
    response = client_for(alice).get(QUEUE, {"view": "teams"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    page = html(response)
    assert "<html" not in page
    assert '<nav class="navbar' not in page
    assert listed(response, world) == ALICE_VIEWS["teams"]


def test_the_full_page_asks_htmx_to_refresh_the_same_view(client_for, world, alice):
    page = html(client_for(alice).get(QUEUE, {"view": "mine", "priority": 2}))
    assert "<html" in page
    assert 'hx-get="?view=mine&amp;priority=2" hx-trigger="every 30s"' in page


def test_the_countdown_shows_for_open_promised_tickets(client_for, world, carol):
    force(world["at_risk"], promise_due_at=timezone.now() + timedelta(minutes=42, seconds=20))
    page = html(client_for(carol).get(QUEUE, {"view": "all"}))
    assert "due in 42 min" in page
    assert "overdue by 10 min" in page


def test_a_search_too_long_to_run_says_so_instead_of_showing_everything(client_for, ticket, carol):
    response = client_for(carol).get(QUEUE, {"view": "all", "q": "charged " * 30})
    assert "at most 200 characters" in html(response) or references(response) == []


def test_the_tab_refresh_also_refreshes_the_unread_badge_in_the_header(client_for, world, alice, ticket):
    Notification.objects.create(
        recipient=alice, ticket=ticket, event="at_risk", dedupe_key="t", message="Due soon", created_at=timezone.now()
    )
    page = html(client_for(alice).get(TABS, {"view": "teams"}))
    assert '<span class="badge text-bg-warning" id="unread-count" hx-swap-oob="outerHTML">1</span>' in page


def test_a_promise_paused_while_waiting_on_the_customer_shows_no_countdown(client_for, ticket, alice):
    services.make_promise(ticket, due_at=timezone.now() + timedelta(hours=6), by=alice, words="Today.")
    services.change_status(ticket, to="waiting", by=alice)

    page = html(client_for(alice).get(QUEUE, {"view": "waiting"}))

    assert "clock paused" in page and "due in" not in page
