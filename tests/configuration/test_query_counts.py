"""The configuration pages cost a fixed number of queries, however many teams, members, paths, levels,
categories, calendars and closed days there are: each page is measured with few and with many, and must cost
the same."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.configuration import signed_in, url
from tests.factories import CategoryFactory, EscalationPathFactory, StaffFactory, TeamFactory
from tickets.models import Calendar, ClosedDay, EscalationLevel

# Every page: session, user, "is a supervisor?" (the decorator; the header reuses it), the unread badge.
PAGE = 4

# The overview: teams with lead, calendar and member count, paths, their levels with teams, categories with
# path, calendars, the names of their teams.
INDEX_QUERIES = PAGE + 6

# A team: the team with its lead, its members (the ticks), the staff listed as lead and as members, the
# calendars to choose from. (A new team: no members; the around-the-clock calendar it starts on instead.)
TEAM_QUERIES = PAGE + 5

# A calendar: the calendar, its closed days (the form's rows and the preview share them), its teams' names.
CALENDAR_QUERIES = PAGE + 3

# A path: the path, its levels with their people (one prefetch), the team and people option lists.
PATH_QUERIES = PAGE + 5

# A category: the category with its path, the path option list.
CATEGORY_QUERIES = PAGE + 2


def more_of_everything(n, *, team, path, calendar=None):
    """``n`` more staff in ``team`` and each told at a level of ``path``; ``n`` more teams (working to
    ``calendar``), paths, categories and calendars, and ``n`` closed days of ``calendar``."""
    people = [StaffFactory(teams=[team]) for _ in range(n)]
    for i, person in enumerate(people):
        level, _ = EscalationLevel.objects.get_or_create(
            path=path, position=3 + i, defaults={"name": f"Level {3 + i}", "team": TeamFactory()}
        )
        level.notify.add(person)
    for _ in range(n):
        other = TeamFactory()
        other.lead = people[0]
        if calendar is not None:
            other.calendar = calendar
        other.save()
        other.members.add(*people[:3])
        CategoryFactory(escalation_path=EscalationPathFactory(teams=[team, other]))
    for i in range(n):
        Calendar.objects.create(name=f"Calendar {i}", weekly=[[["09:00", "17:00"]]] * 7, country="DE")
        if calendar is not None:
            ClosedDay.objects.create(calendar=calendar, date=date.today() + timedelta(days=i), reason=f"Day off {i}")


@pytest.fixture
def office(db):
    return Calendar.objects.create(
        name="Office", time_zone="Europe/Berlin", weekly=[[["09:00", "17:00"]]] * 5 + [[]] * 2
    )


@pytest.mark.parametrize(
    ("page", "at_most"),
    [
        ("index", INDEX_QUERIES),
        ("team-edit", TEAM_QUERIES),
        ("path-edit", PATH_QUERIES),
        ("category-edit", CATEGORY_QUERIES),
        ("calendar-edit", CALENDAR_QUERIES),
    ],
)
def test_each_page_costs_the_same_for_a_few_rows_as_for_many(
    page, at_most, carol, billing, standard_path, category, alice, bob, office, queries
):
    client = signed_in(carol)
    target = {
        "index": url("index"),
        "team-edit": url("team-edit", billing.pk),
        "path-edit": url("path-edit", standard_path.pk),
        "category-edit": url("category-edit", category.pk),
        "calendar-edit": url("calendar-edit", office.pk),
    }[page]
    few = queries(client, target, at_most=at_most)
    more_of_everything(12, team=billing, path=standard_path, calendar=office)
    many = queries(client, target, at_most=at_most)
    assert few == many


@pytest.mark.parametrize(
    ("page", "at_most"),
    [
        ("team-new", TEAM_QUERIES - 1),
        ("path-new", PATH_QUERIES - 3),
        ("category-new", CATEGORY_QUERIES - 1),
        ("calendar-new", PAGE),
    ],
)
def test_the_new_pages_cost_the_same_however_many_people_teams_and_paths(
    page, at_most, carol, billing, standard_path, alice, queries
):
    client = signed_in(carol)
    few = queries(client, url(page), at_most=at_most)
    more_of_everything(12, team=billing, path=standard_path)
    assert queries(client, url(page), at_most=at_most) == few
