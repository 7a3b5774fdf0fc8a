"""One's own notifications over the API: listed unread first, marked read once, nobody else's ever."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tests.api.conftest import error_of
from tests.desk.helpers import notice as desk_notice
from tickets.models import Notification

pytestmark = pytest.mark.django_db

LIST = reverse("api:notifications")
READ_ALL = reverse("api:notifications-read-all")


def read_url(notice: Notification | int) -> str:
    return reverse("api:notification-read", args=[getattr(notice, "pk", notice)])


def notice(recipient, ticket, *, minutes_ago: int = 0, read: bool = False, message: str = "Assigned.") -> Notification:
    """One of ``recipient``'s notifications, created ``minutes_ago``; read a minute later when ``read``."""
    made = desk_notice(recipient, ticket, message=message)
    made.created_at = timezone.now() - timedelta(minutes=minutes_ago)
    made.read_at = made.created_at + timedelta(minutes=1) if read else None
    made.save(update_fields=["created_at", "read_at"])
    return made


def listed(client: APIClient, **query: str) -> list[dict]:
    response = client.get(LIST, query)
    assert response.status_code == 200, response.json()
    return response.json()["results"]


# --- Who may ------------------------------------------------------------------------------------

ENDPOINTS = [("get", "list"), ("post", "read"), ("post", "read-all")]


def call(client: APIClient, method: str, endpoint: str, mine: Notification):
    url = {"list": LIST, "read": read_url(mine), "read-all": READ_ALL}[endpoint]
    return getattr(client, method)(url)


@pytest.mark.parametrize(("method", "endpoint"), ENDPOINTS)
def test_anonymous_callers_are_asked_to_sign_in(api, alice, ticket, method, endpoint):
    mine = notice(alice, ticket)
    response = call(api(), method, endpoint, mine)
    assert (response.status_code, error_of(response)["code"]) == (401, "not_authenticated")
    mine.refresh_from_db()
    assert mine.read_at is None


@pytest.mark.parametrize(("method", "endpoint"), ENDPOINTS)
def test_a_signed_in_user_who_is_not_staff_is_refused(eve, ticket, method, endpoint):
    client = APIClient()
    client.force_login(eve)  # eve can't have a token: tokens are for staff
    response = call(client, method, endpoint, notice(eve, ticket))
    assert (response.status_code, error_of(response)["code"]) == (403, "permission_denied")


@pytest.mark.parametrize(("method", "endpoint"), [("post", "list"), ("get", "read"), ("get", "read-all")])
def test_each_endpoint_takes_only_its_method(api, alice, ticket, method, endpoint):
    response = call(api(alice), method, endpoint, notice(alice, ticket))
    assert (response.status_code, error_of(response)["code"]) == (405, "method_not_allowed")


# --- Listing ------------------------------------------------------------------------------------


def test_the_list_is_ones_own_unread_first_then_newest(api, alice, bob, ticket):
    # given alice's notifications, read and unread, old and new, and one of bob's
    old_read = notice(alice, ticket, minutes_ago=5, read=True)
    new_read = notice(alice, ticket, minutes_ago=1, read=True)
    old_unread = notice(alice, ticket, minutes_ago=30)
    new_unread = notice(alice, ticket, minutes_ago=2)
    notice(bob, ticket)

    # when alice lists hers
    results = listed(api(alice))

    # then hers only: the unread first, then the read, each the newest first
    assert [row["id"] for row in results] == [new_unread.pk, old_unread.pk, new_read.pk, old_read.pk]


def test_a_notification_says_what_happened_and_where(api, alice, ticket):
    mine = notice(alice, ticket, message="PD-1 was assigned to you.")

    [row] = listed(api(alice))

    assert row == {
        "id": mine.pk,
        "event": "assignment",
        "message": "PD-1 was assigned to you.",
        "ticket": ticket.reference,
        "ticket_url": reverse("desk:ticket", args=[ticket.reference]),
        "created_at": mine.created_at.isoformat().replace("+00:00", "Z"),
        "read_at": None,
    }


@pytest.mark.parametrize(
    ("unread", "expected"), [("true", ["unread"]), ("false", ["read"]), (None, ["unread", "read"])]
)
def test_the_list_filters_by_unread(api, alice, ticket, unread, expected):
    notice(alice, ticket, message="read", read=True)
    notice(alice, ticket, message="unread")

    query = {} if unread is None else {"unread": unread}
    assert [row["message"] for row in listed(api(alice), **query)] == expected


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"unread": "maybe"}, "unread", "Must be a valid boolean."),
        ({"read": "true"}, "read", "read is not a parameter here (this takes page, page_size, unread)."),
        ({"page": "0"}, "page", "Pages are numbered from 1."),
    ],
)
def test_a_bad_filter_is_explained(api, alice, query, field, message):
    response = api(alice).get(LIST, query)
    assert response.status_code == 400
    assert error_of(response)["fields"] == {field: [message]}


def test_the_list_is_paged_with_a_count(api, alice, ticket):
    for minutes in range(3):
        notice(alice, ticket, minutes_ago=minutes)

    body = api(alice).get(LIST, {"page_size": 2}).json()

    assert (body["count"], len(body["results"]), body["previous"]) == (3, 2, None)
    assert "page=2" in body["next"]


def test_the_list_costs_the_same_for_few_and_many(api, alice, ticket, dave, django_assert_max_num_queries):
    client = api(alice)
    notice(alice, ticket)
    listed(client)  # the token's first use writes its last-used time: not counted below
    # The token, the count, the page (with its tickets joined).
    with django_assert_max_num_queries(3):
        assert len(listed(client)) == 1
    for minutes in range(1, 12):
        notice(alice, ticket, minutes_ago=minutes, read=minutes % 2 == 0)
    with django_assert_max_num_queries(3):
        assert len(listed(client)) == 12


# --- Marking read -------------------------------------------------------------------------------


def test_marking_one_read_answers_with_it_read(api, alice, ticket):
    mine = notice(alice, ticket)

    response = api(alice).post(read_url(mine))

    assert response.status_code == 200
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert response.json()["read_at"] == mine.read_at.isoformat().replace("+00:00", "Z")


def test_marking_it_read_again_keeps_the_first_time(api, alice, ticket):
    mine = notice(alice, ticket, minutes_ago=10, read=True)
    first = mine.read_at

    response = api(alice).post(read_url(mine))

    assert response.status_code == 200
    mine.refresh_from_db()
    assert mine.read_at == first
    assert response.json()["read_at"] == first.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("caller", ["alice", "carol"])  # her teammate's, or a supervisor: still not theirs
def test_someone_elses_notification_is_a_404_and_stays_unread(api, request, bob, ticket, caller):
    bobs = notice(bob, ticket)

    response = api(request.getfixturevalue(caller)).post(read_url(bobs))

    assert (response.status_code, error_of(response)["code"]) == (404, "not_found")
    bobs.refresh_from_db()
    assert bobs.read_at is None


@pytest.mark.parametrize("pk", [999_999_999, 2**70])
def test_a_notification_that_does_not_exist_is_a_404(api, alice, pk):
    response = api(alice).post(read_url(pk))
    assert (response.status_code, error_of(response)["code"]) == (404, "not_found")


def test_marking_all_read_touches_only_ones_own_unread_and_says_how_many(api, alice, bob, ticket):
    # given two unread and one read of alice's, and one of bob's
    read_before = notice(alice, ticket, minutes_ago=10, read=True)
    unread = [notice(alice, ticket), notice(alice, ticket)]
    bobs = notice(bob, ticket)
    client = api(alice)

    # when alice marks all read, twice
    first, second = client.post(READ_ALL), client.post(READ_ALL)

    # then the first marks her two unread, the second nothing; the one read before keeps its time
    assert (first.status_code, first.json(), second.json()) == (200, {"marked": 2}, {"marked": 0})
    assert all(Notification.objects.get(pk=n.pk).read_at for n in unread)
    assert Notification.objects.get(pk=read_before.pk).read_at == read_before.read_at
    assert Notification.objects.get(pk=bobs.pk).read_at is None
