"""The desk's pages cost a fixed number of queries, however many rows they show.

Each page is measured twice, with few rows and with many, and must cost exactly the same (no N+1),
and no more than the budget named in the comment next to it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.desk.helpers import check_url, notice, promised, references, ticket_url
from tests.factories import StaffFactory, TicketFactory
from tickets import services
from tickets.models import Calendar
from tickets.models.calendar import parse_spans, stored_spans

# The queue: session, user, "is a supervisor?", the page's ticket ids, those tickets (customer, assignee,
# level and team joined in), the unread-notifications badge, the filter form's three option lists
# (category, team, assignee). The tab counts come separately (QUEUE_TABS_QUERIES).
QUEUE_QUERIES = 9

# The tabs: session, user, "is a supervisor?", the views' counts (one aggregate), the unread badge.
QUEUE_TABS_QUERIES = 5

# The ticket page: session, user, "is a supervisor?", the ticket (customer, category, team, assignee,
# level and path joined in), the current promise, the latest hand-off and its author, the unread badge,
# the customer's latest earlier tickets and their ratings (one prefetch) and how many there are, the
# promise history, the path's levels, the option lists of the transfer (team, person), assign (person)
# and details (category) forms, the timeline with its attachments (one prefetch; the details the sender gave
# are read off it), and the guard's estimate for the promise form's quick picks. (A category that runs in
# business time adds its team's calendar and that calendar's closed days.)
TICKET_QUERIES = 20

# Notifications: session, user, the unread badge, "is a supervisor?" (the header's supervisor links), the
# notifications (ticket and customer joined in).
NOTIFICATION_QUERIES = 5

# The guard's live check, one request as the rep types: session, user, "is a supervisor?", the ticket
# (customer, category, team, assignee, level and path joined in), the estimate, the rep's promises due
# before, the unread badge (every desk template's context). A category that runs in business time adds its
# team's calendar and that calendar's closed days.
PROMISE_CHECK_QUERIES = 7
PROMISE_CHECK_IN_BUSINESS_TIME = PROMISE_CHECK_QUERIES + 2


@pytest.fixture
def queries(django_assert_max_num_queries):
    """``queries(client, url, at_most=n)``: how many queries one GET costs, asserting it is at most ``n``."""

    def measure(client, url, *, at_most, **params):
        with django_assert_max_num_queries(at_most), CaptureQueriesContext(connection) as captured:
            response = client.get(url, params)
        assert response.status_code == 200
        return len(captured), response

    return measure


def tickets(n, *, category, alice):
    """``n`` tickets of different customers, some assigned, promised, escalated, so every join is used."""
    for i in range(n):
        ticket = TicketFactory(category=category)
        if i % 3 == 0:
            services.assign(ticket, assignee=alice, by=alice)
        if i % 4 == 1:
            promised(ticket, due_in=timedelta(hours=i + 1))
        if i % 5 == 2:
            services.escalate(ticket, by=alice, note="Over to Technical.")


@pytest.mark.parametrize("persona", ["alice", "carol"])
def test_the_queue_costs_the_same_few_queries_for_3_tickets_as_for_40(
    persona, request, client_for, category, alice, bob, billing, queries
):
    client = client_for(request.getfixturevalue(persona))
    # given 3 tickets
    tickets(3, category=category, alice=alice)
    few, _ = queries(client, reverse("desk:queue"), view="all", at_most=QUEUE_QUERIES)
    # and then 40
    tickets(37, category=category, alice=alice)
    many, response = queries(client, reverse("desk:queue"), view="all", at_most=QUEUE_QUERIES)
    # then both cost the same
    assert len(references(response)) == 25
    assert few == many


def test_the_filtered_and_searched_queue_costs_no_more_for_40_tickets(
    client_for, category, alice, bob, billing, queries
):
    client = client_for(alice)
    params = {"view": "teams", "q": "Request", "team": billing.pk, "assignee": alice.pk, "priority": 2}
    tickets(3, category=category, alice=alice)
    # the two chosen options (team, assignee) are each looked up once more to check them
    at_most = QUEUE_QUERIES + 2
    few, _ = queries(client, reverse("desk:queue"), at_most=at_most, **params)
    tickets(37, category=category, alice=alice)
    many, _ = queries(client, reverse("desk:queue"), at_most=at_most, **params)
    assert few == many


def test_the_htmx_refresh_costs_no_more_than_the_page(
    client_for, category, alice, bob, billing, django_assert_max_num_queries
):
    tickets(40, category=category, alice=alice)
    client = client_for(alice)
    with django_assert_max_num_queries(QUEUE_QUERIES):
        response = client.get(reverse("desk:queue"), headers={"HX-Request": "true"})
    assert response.status_code == 200


def history(ticket, *, earlier, interactions, promises, by):
    """Give Dave's ticket a customer history, a timeline and promises of the sizes asked for."""
    for _ in range(earlier):
        old = TicketFactory(customer=ticket.customer, category=ticket.category)
        services.resolve(old, by=by, summary="Sorted.")
        services.rate(old, rating=4)
    authors = [by, StaffFactory(teams=[ticket.team]), StaffFactory(teams=[ticket.team])]
    while ticket.interactions.count() < interactions:
        n = ticket.interactions.count()
        services.add_note(ticket, by=authors[n % 3], body=f"Note {n}")
    for n in range(promises - ticket.promises.count()):
        services.make_promise(
            ticket,
            due_at=timezone.now() + timedelta(days=2, hours=n),
            by=by,
            words="By Friday.",
            change_reason="" if not ticket.promises.exists() else "Waiting on the bank.",
        )


def test_the_ticket_page_costs_the_same_for_3_interactions_as_for_40(client_for, ticket, alice, technical, queries):
    client = client_for(alice)
    # given a hand-off note, some earlier tickets of Dave's, a few interactions and one promise
    services.transfer(ticket, by=alice, team=ticket.team, assignee=alice, note="Mine now.")
    history(ticket, earlier=2, interactions=3, promises=1, by=alice)
    few, _ = queries(client, ticket_url(ticket), at_most=TICKET_QUERIES)
    # and then many more of each
    history(ticket, earlier=4, interactions=40, promises=3, by=alice)
    many, response = queries(client, ticket_url(ticket), at_most=TICKET_QUERIES)
    # then the page costs the same
    assert response.content.decode().count("rated 4/5") == 6
    assert ticket.interactions.count() >= 40
    assert few == many


def test_the_notifications_page_costs_the_same_for_3_as_for_40(client_for, ticket, alice, category, queries):
    client = client_for(alice)
    for _ in range(3):
        notice(alice, TicketFactory(category=category))
    few, _ = queries(client, reverse("desk:notifications"), at_most=NOTIFICATION_QUERIES)
    for _ in range(37):
        notice(alice, TicketFactory(category=category))
    many, response = queries(client, reverse("desk:notifications"), at_most=NOTIFICATION_QUERIES)
    assert response.content.decode().count('<li class="list-group-item') == 40
    assert few == many


def test_the_tab_counts_cost_the_same_for_3_tickets_as_for_40(client_for, category, alice, bob, billing, queries):
    client = client_for(alice)
    tickets(3, category=category, alice=alice)
    few, _ = queries(client, reverse("desk:queue-tabs"), view="teams", at_most=QUEUE_TABS_QUERIES)
    tickets(37, category=category, alice=alice)
    many, response = queries(client, reverse("desk:queue-tabs"), view="teams", at_most=QUEUE_TABS_QUERIES)
    assert few == many
    assert 'data-count="teams">' in response.content.decode()


def in_business_time(billing, category):
    """Billing works Monday to Friday, 9 to 17, and the category runs in business time."""
    billing.calendar = Calendar.objects.create(
        name="Office", time_zone="Europe/Berlin", weekly=[stored_spans(parse_spans("09:00-17:00"))] * 5 + [[]] * 2
    )
    billing.save()
    category.business_hours = True
    category.save()


def test_a_ticket_in_business_time_costs_its_calendar_and_closed_days_more(
    client_for, ticket, alice, billing, category, queries
):
    client = client_for(alice)
    history(ticket, earlier=2, interactions=3, promises=1, by=alice)
    around_the_clock, _ = queries(client, ticket_url(ticket), at_most=TICKET_QUERIES)

    in_business_time(billing, category)
    count, response = queries(client, ticket_url(ticket), at_most=TICKET_QUERIES + 2)

    assert count == around_the_clock + 2
    assert "In 2 business hours" in response.content.decode()


@pytest.mark.parametrize("business_hours", [False, True])
def test_the_guards_live_check_costs_a_fixed_number_of_queries(
    client_for, ticket, alice, billing, category, queries, business_hours
):
    client = client_for(alice)
    if business_hours:
        in_business_time(billing, category)
    due = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    budget = PROMISE_CHECK_IN_BUSINESS_TIME if business_hours else PROMISE_CHECK_QUERIES

    count, response = queries(client, check_url(ticket), at_most=budget, due_at=due)

    assert count == budget
    verdict = response.content.decode()  # the guard's verdict, not a problem with the time typed
    assert "of your promises are due before this one" in verdict
    assert ("(we work Mon-Fri 9-17)" in verdict) is business_hours
