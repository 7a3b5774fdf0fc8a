"""Only supervisors (and superusers) configure the desk: every page and every method of the configuration
area is checked for every persona. Anonymous visitors sign in first; eve (not staff) and alice (an agent)
are refused with a 403 and change nothing; carol (a supervisor) and a superuser get through.
"""

from __future__ import annotations

import pytest

from tests.configuration import (
    NINE_TO_FIVE,
    calendar_data,
    category_data,
    path_data,
    signed_in,
    team_data,
    url,
    world_as_saved,
)
from tests.desk.helpers import assert_sent_to_sign_in
from tests.factories import EscalationPathFactory, TeamFactory, UserFactory
from tickets.models import Calendar, Category, EscalationPath, Team

# (method, page): every page and every method it answers.
ENDPOINTS = [
    ("get", "index"),
    ("get", "team-new"),
    ("post", "team-new"),
    ("get", "team-edit"),
    ("post", "team-edit"),
    ("post", "team-delete"),
    ("get", "path-new"),
    ("post", "path-new"),
    ("get", "path-edit"),
    ("post", "path-edit"),
    ("post", "path-delete"),
    ("get", "category-new"),
    ("post", "category-new"),
    ("get", "category-edit"),
    ("post", "category-edit"),
    ("get", "calendar-new"),
    ("post", "calendar-new"),
    ("get", "calendar-edit"),
    ("post", "calendar-edit"),
    ("post", "calendar-delete"),
]


@pytest.fixture
def world(standard_path, category, alice, bob):
    """The standard world, plus a team, a path and calendars nothing uses (so deleting them would succeed)."""
    spare = TeamFactory(name="Spare")
    return {
        "path": standard_path,
        "empty_team": TeamFactory(name="Empty"),
        "spare_team": spare,
        "spare_path": EscalationPathFactory(name="Spare path", teams=[spare]),
        "office": Calendar.objects.create(name="Office", time_zone="Europe/Berlin", weekly=NINE_TO_FIVE),
        "spare_calendar": Calendar.objects.create(name="Spare hours", weekly=NINE_TO_FIVE),
    }


@pytest.fixture
def root(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def send(client, method, page, *, world, category, technical):
    """Send a valid request to ``page``: one that would change something if let through."""
    path = world["path"]
    target, data = {
        "index": (url("index"), {}),
        "team-new": (url("team-new"), team_data(name="Returns")),
        "team-edit": (url("team-edit", technical.pk), team_data(technical, name="Tech support")),
        "team-delete": (url("team-delete", world["empty_team"].pk), {}),
        "path-new": (url("path-new"), path_data(name="Urgent", rows=[{"name": "First", "team": technical.pk}])),
        "path-edit": (url("path-edit", path.pk), path_data(path, name="Standard route")),
        "path-delete": (url("path-delete", world["spare_path"].pk), {}),
        "category-new": (url("category-new"), category_data(name="Refunds", escalation_path=path.pk)),
        "category-edit": (url("category-edit", category.pk), category_data(category, default_target="2h")),
        "calendar-new": (url("calendar-new"), calendar_data(name="Lisbon office", time_zone="Europe/Lisbon")),
        "calendar-edit": (
            url("calendar-edit", world["office"].pk),
            calendar_data(world["office"], sunday="10:00-14:00"),
        ),
        "calendar-delete": (url("calendar-delete", world["spare_calendar"].pk), {}),
    }[page]
    response = client.get(target) if method == "get" else client.post(target, data)
    return response, target


@pytest.mark.parametrize(("method", "page"), ENDPOINTS)
def test_an_anonymous_visitor_is_sent_to_sign_in_and_back(method, page, world, category, technical):
    before = world_as_saved()
    response, target = send(signed_in(None), method, page, world=world, category=category, technical=technical)
    assert_sent_to_sign_in(response, target)
    assert world_as_saved() == before


@pytest.mark.parametrize("persona", ["eve", "alice"])
@pytest.mark.parametrize(("method", "page"), ENDPOINTS)
def test_anyone_but_a_supervisor_is_refused_and_changes_nothing(
    persona, method, page, request, world, category, technical
):
    user = request.getfixturevalue(persona)
    before = world_as_saved()
    response, _ = send(signed_in(user), method, page, world=world, category=category, technical=technical)
    assert response.status_code == 403
    assert world_as_saved() == before


@pytest.mark.parametrize("persona", ["carol", "root"])
@pytest.mark.parametrize(("method", "page"), ENDPOINTS)
def test_a_supervisor_or_superuser_gets_through(persona, method, page, request, world, category, technical):
    user = request.getfixturevalue(persona)
    response, _ = send(signed_in(user), method, page, world=world, category=category, technical=technical)
    if method == "get":
        assert response.status_code == 200
    else:
        assert response.status_code == 302, response.content.decode()
        assert response["Location"] == url("index")


def test_what_the_supervisors_posts_did(carol, world, category, technical):
    """The posts above that got through really changed what they said they would."""
    client = signed_in(carol)
    for method, page in ENDPOINTS:
        if method == "post":
            send(client, method, page, world=world, category=category, technical=technical)
    assert set(Team.objects.values_list("name", flat=True)) == {"Billing", "Tech support", "Spare", "Returns"}
    assert set(EscalationPath.objects.values_list("name", flat=True)) == {"Standard route", "Urgent"}
    assert set(Category.objects.values_list("name", flat=True)) == {"Billing question", "Refunds"}
    assert set(Calendar.objects.values_list("name", flat=True)) == {"Around the clock", "Office", "Lisbon office"}
    assert Calendar.objects.get(name="Office").weekly[6] == [["10:00", "14:00"]]


@pytest.mark.parametrize("page", ["team-delete", "path-delete", "calendar-delete"])
def test_deleting_answers_only_post(page, carol, world):
    target = {"team-delete": "spare_team", "path-delete": "spare_path", "calendar-delete": "spare_calendar"}[page]
    before = world_as_saved()
    response = signed_in(carol).get(url(page, world[target].pk))
    assert response.status_code == 405
    assert world_as_saved() == before


@pytest.mark.parametrize("page", ["index", "team-new", "path-new", "category-new", "calendar-new"])
def test_other_methods_are_405(page, carol, db):
    assert signed_in(carol).put(url(page)).status_code == 405


@pytest.mark.parametrize(
    "page",
    ["team-edit", "path-edit", "category-edit", "calendar-edit", "team-delete", "path-delete", "calendar-delete"],
)
def test_a_row_that_does_not_exist_is_404(page, carol, db):
    client = signed_in(carol)
    response = client.post(url(page, 999999)) if page.endswith("delete") else client.get(url(page, 999999))
    assert response.status_code == 404
