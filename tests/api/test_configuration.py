"""The configuration endpoints: teams, escalation paths, categories and calendars. Staff read them, supervisors
change them, and every change is judged by the desk's own configuration forms, so the API refuses what the pages
refuse, in the same words, under the API's field names; a row still in use is not deleted (409 in_use).
(What only calendars do, and the warnings re-timed by a team's calendar or a category's business time:
tests/api/test_calendars.py.)"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tests.api.conftest import error_of
from tests.configuration import world_as_saved
from tests.factories import CategoryFactory, EscalationPathFactory, StaffFactory, TeamFactory, TicketFactory
from tickets.configuration import TeamForm
from tickets.models import Calendar, Category, ClosedDay, EscalationLevel, EscalationPath, Priority, Team
from tickets.templatetags.desk import person


def url(name: str, *args: object) -> str:
    return reverse(f"api:{name}", args=args)


def as_person(user) -> dict:
    return {"id": user.pk, "username": user.username, "name": person(user)}


def fields_of(response) -> dict:
    """The fields a 400 names, with their messages."""
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "invalid"
    return error["fields"]


@pytest.fixture
def supervisor(api, carol):
    return api(carol)


NINE_TO_FIVE = [[["09:00", "17:00"]]] * 5 + [[]] * 2


@pytest.fixture
def office(db):
    """Monday to Friday, nine to five, Berlin time."""
    return Calendar.objects.create(name="Berlin office", time_zone="Europe/Berlin", weekly=NINE_TO_FIVE)


@pytest.fixture
def world(billing, technical, standard_path, category, alice, bob, carol, office):
    """The personas' world, plus a team, a path and a calendar nothing uses (to delete)."""
    spare_team = TeamFactory(name="Spare")
    spare_path = EscalationPathFactory(name="Spare route", teams=[technical])
    return {
        "billing": billing,
        "technical": technical,
        "standard_path": standard_path,
        "category": category,
        "office": office,
        "spare_team": spare_team,
        "spare_path": spare_path,
        "spare_calendar": Calendar.objects.create(name="Spare hours", weekly=NINE_TO_FIVE),
    }


def levels_of(path: EscalationPath) -> list[tuple[int, str, str]]:
    """(position, name, team) of each level, in order."""
    return [(level.position, level.name, level.team.name) for level in path.levels.order_by("position")]


# --- Who may do what ---------------------------------------------------------------------------------

# Each endpoint and method: the address's name, the row it is about (by its name in ``world``) and what a
# supervisor sends.
CALLS = {
    "list teams": ("get", "teams", None, None),
    "read a team": ("get", "team", "billing", None),
    "create a team": ("post", "teams", None, lambda w: {"name": "Returns"}),
    "change a team": ("patch", "team", "billing", lambda w: {"name": "Payments"}),
    "delete a team": ("delete", "team", "spare_team", None),
    "list paths": ("get", "escalation-paths", None, None),
    "read a path": ("get", "escalation-path", "standard_path", None),
    "create a path": ("post", "escalation-paths", None,
                      lambda w: {"name": "Urgent", "levels": [{"name": "Engineers", "team": w["technical"].pk}]}),
    "change a path": ("patch", "escalation-path", "standard_path", lambda w: {"description": "Most requests."}),
    "delete a path": ("delete", "escalation-path", "spare_path", None),
    "list categories": ("get", "categories", None, None),
    "read a category": ("get", "category", "category", None),
    "create a category": ("post", "categories", None,
                          lambda w: {"name": "Refunds", "escalation_path": w["standard_path"].pk}),
    "change a category": ("patch", "category", "category", lambda w: {"is_active": False}),
    "list calendars": ("get", "calendars", None, None),
    "read a calendar": ("get", "calendar", "office", None),
    "create a calendar": ("post", "calendars", None, lambda w: {"name": "Lisbon office", "time_zone": "Europe/Lisbon"}),
    "change a calendar": ("patch", "calendar", "office", lambda w: {"weekly": {"saturday": "10:00-14:00"}}),
    "delete a calendar": ("delete", "calendar", "spare_calendar", None),
}  # fmt: skip
READS = [name for name, (method, *_) in CALLS.items() if method == "get"]
WRITES = [name for name in CALLS if name not in READS]
WORKED = {"get": 200, "post": 201, "patch": 200, "delete": 204}


def call(client, name: str, world: dict):
    method, where, row, body = CALLS[name]
    target = url(where, world[row].pk) if row else url(where)
    return getattr(client, method)(target, body(world) if body else None, format="json")


def refused(client, name: str, world: dict, *, status: int) -> dict:
    """The call is refused with ``status``, in the error format, and changes nothing: its error."""
    before = world_as_saved()
    response = call(client, name, world)
    assert response.status_code == status, response.content
    assert world_as_saved() == before
    return error_of(response)


@pytest.mark.parametrize("name", CALLS)
def test_an_anonymous_caller_is_told_to_sign_in(name, api, world):
    assert refused(api(), name, world, status=401)["code"] == "not_authenticated"


@pytest.mark.parametrize("name", CALLS)
def test_a_user_who_is_not_staff_is_refused(name, eve, world):
    # eve can't have a working token (tokens are staff's), so she calls from her signed-in browser session
    browser = APIClient()
    browser.force_login(eve)
    assert refused(browser, name, world, status=403)["code"] == "permission_denied"


@pytest.mark.parametrize("name", READS)
def test_an_agent_reads_the_configuration(name, api, alice, world):
    assert call(api(alice), name, world).status_code == 200


@pytest.mark.parametrize("name", WRITES)
def test_an_agent_may_not_change_it(name, api, alice, world):
    error = refused(api(alice), name, world, status=403)
    assert error["message"] == "Only supervisors may change the configuration; agents may read it."


@pytest.mark.parametrize("name", WRITES)
def test_a_supervisor_changes_it(name, supervisor, world):
    before = world_as_saved()
    response = call(supervisor, name, world)
    assert response.status_code == WORKED[CALLS[name][0]], response.content
    assert world_as_saved() != before


@pytest.mark.parametrize("name", ["team", "escalation-path", "category", "calendar"])
def test_a_row_that_does_not_exist_is_404(name, supervisor, db):
    response = supervisor.get(url(name, 999_999))
    assert response.status_code == 404
    assert error_of(response)["message"].startswith("There is no ")


# --- Deleting -----------------------------------------------------------------------------------------


def test_a_name_taken_a_moment_ago_is_refused_not_a_server_error(supervisor, db, monkeypatch):
    # given someone else saves "Returns" after carol's input was checked, just before it is written
    write = TeamForm.write

    def someone_else_first(form):
        Team.objects.create(name="Returns")
        return write(form)

    monkeypatch.setattr(TeamForm, "write", someone_else_first)
    # when carol's "Returns" is written, the database refuses the duplicate: she is told so
    response = supervisor.post(url("teams"), {"name": "Returns"}, format="json")
    assert fields_of(response) == {}
    assert error_of(response)["message"] == (
        "Someone saved a clashing change a moment ago, so nothing was saved: check the names and try again."
    )
    # and nothing of her save is left (the stand-in for the other save shared its transaction, so went too)
    assert not Team.objects.exists()


@pytest.mark.parametrize(
    ("name", "row"), [("team", "spare_team"), ("escalation-path", "spare_path"), ("calendar", "spare_calendar")]
)
def test_deleting_a_row_nothing_uses_works(name, row, supervisor, world):
    unused = world[row]
    response = supervisor.delete(url(name, unused.pk))
    assert response.status_code == 204
    assert not type(unused).objects.filter(pk=unused.pk).exists()


IN_USE = {
    "billing": "Billing can't be deleted: it still has 1 ticket, and is level 1 of Standard. Give those levels another "
    "team first. Tickets and promises keep their team as history: a team that has had any can only be renamed.",
    "standard_path": "Standard can't be deleted: the category Billing question still uses it and 1 ticket is at its "
    "levels. Give those categories another path first. Tickets keep their level as history: a path that has had any "
    "can only be renamed.",
    "office": "Berlin office can't be deleted: Billing and Technical work to it; give them another calendar first.",
}


@pytest.mark.parametrize(
    ("name", "row"), [("team", "billing"), ("escalation-path", "standard_path"), ("calendar", "office")]
)
def test_deleting_a_row_in_use_is_a_conflict_saying_what_uses_it(name, row, supervisor, world, ticket):
    Team.objects.filter(name__in=["Billing", "Technical"]).update(calendar=world["office"])  # they work to it
    before = world_as_saved()
    response = supervisor.delete(url(name, world[row].pk))
    assert response.status_code == 409
    error = error_of(response)
    assert (error["code"], error["message"]) == ("in_use", IN_USE[row])
    assert world_as_saved() == before


# --- Teams ---------------------------------------------------------------------------------------


def test_a_supervisor_creates_a_team_with_a_lead_and_members(supervisor, alice, bob):
    response = supervisor.post(
        url("teams"), {"name": "Returns", "lead": alice.pk, "members": [bob.pk, alice.pk]}, format="json"
    )
    assert response.status_code == 201, response.content
    returns = Team.objects.get(name="Returns")
    assert response.json() == {
        "id": returns.pk,
        "name": "Returns",
        "calendar": {"id": Calendar.default_id(), "name": "Around the clock"},
        "lead": as_person(alice),
        "members": [as_person(alice), as_person(bob)],  # by username
    }
    assert (returns.lead, set(returns.members.all())) == (alice, {alice, bob})


def test_the_teams_list_is_a_numbered_page(api, alice, billing, technical):
    # given a third team
    TeamFactory(name="Apps")
    # when alice asks for two teams a page
    body = api(alice).get(url("teams"), {"page_size": 2}).json()
    # then she gets the first two by name, with how many there are and where the rest is
    assert body["count"] == 3
    assert [team["name"] for team in body["results"]] == ["Apps", "Billing"]
    assert body["results"][1] == {
        "id": billing.pk,
        "name": "Billing",
        "calendar": {"id": billing.calendar_id, "name": "Around the clock"},
        "lead": None,
        "members": [as_person(alice)],
    }
    assert body["next"].endswith("page=2&page_size=2")
    assert body["previous"] is None


def test_a_patch_changes_only_what_it_sends(supervisor, billing, alice):
    # when carol makes alice, already a member, the lead: the members are not sent
    response = supervisor.patch(url("team", billing.pk), {"lead": alice.pk}, format="json")
    # then the lead is set and the members are as they were
    assert response.status_code == 200, response.content
    assert response.json()["lead"] == as_person(alice)
    assert response.json()["members"] == [as_person(alice)]
    billing.refresh_from_db()
    assert (billing.name, billing.lead, list(billing.members.all())) == ("Billing", alice, [alice])


def test_a_member_who_left_is_kept_when_the_members_are_sent_back(supervisor, billing, alice, bob):
    # given alice left the company, still on Billing's list
    alice.is_active = False
    alice.save()
    # when carol adds bob, sending back the list she read
    members = [member["id"] for member in supervisor.get(url("team", billing.pk)).json()["members"]]
    response = supervisor.patch(url("team", billing.pk), {"members": [*members, bob.pk]}, format="json")
    # then both are members: the form's rule (staff, or already on the team), not a stricter one
    assert response.status_code == 200, response.content
    assert set(billing.members.all()) == {alice, bob}


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"name": "billing"}, {"name": ["The name “Billing” is taken by another team: choose another."]}),
        ({"name": "   "}, {"name": ["Give the team a name."]}),
        ({"name": "x" * 101}, {"name": ["Ensure this value has at most 100 characters (it has 101)."]}),
        ({"lead": "alice"}, {"lead": ["A valid integer is required."]}),
        ({"members": 3}, {"members": ['Expected a list of items but got type "int".']}),
        ({"id": 7}, {"id": ["id is not a field this takes (it takes calendar, lead, members, name)."]}),
        ({"calendar": 999_999}, {"calendar": ["There is no calendar with id 999999."]}),
        ({"calendar": None}, {"calendar": ["This field may not be null."]}),
    ],
)
def test_a_bad_team_is_refused_saying_what_to_fix(body, fields, supervisor, technical, billing):
    before = world_as_saved()
    assert fields_of(supervisor.patch(url("team", technical.pk), body, format="json")) == fields
    assert world_as_saved() == before


def test_a_lead_who_is_not_a_member_is_refused(supervisor, billing, alice, bob):
    response = supervisor.patch(url("team", billing.pk), {"lead": bob.pk}, format="json")
    assert fields_of(response) == {"lead": [f"{person(bob)} leads the team, so tick them among the members too."]}
    assert Team.objects.get(pk=billing.pk).lead is None


def test_only_active_staff_may_be_chosen_naming_the_id(supervisor, billing, eve):
    response = supervisor.post(url("teams"), {"name": "Returns", "members": [eve.pk], "lead": 999_999}, format="json")
    assert fields_of(response) == {
        "lead": ["There is no active staff member with id 999999."],
        "members": [f"There is no active staff member with id {eve.pk}."],
    }
    assert not Team.objects.filter(name="Returns").exists()


def test_an_id_too_big_for_the_database_is_just_not_found(supervisor, billing, standard_path, category):
    huge = 2**70
    team = supervisor.patch(url("team", billing.pk), {"lead": huge, "members": [huge]}, format="json")
    assert fields_of(team) == {
        "lead": [f"There is no active staff member with id {huge}."],
        "members": [f"There is no active staff member with id {huge}."],
    }
    level = {"levels": [{"name": "Engineers", "team": huge}]}
    assert fields_of(supervisor.patch(url("escalation-path", standard_path.pk), level, format="json")) == {
        "levels.0.team": [f"There is no team with id {huge}."]
    }
    assert fields_of(supervisor.patch(url("category", category.pk), {"escalation_path": huge}, format="json")) == {
        "escalation_path": [f"There is no escalation path with id {huge}."]
    }


def test_a_new_team_needs_a_name(supervisor, db):
    assert fields_of(supervisor.post(url("teams"), {}, format="json")) == {"name": ["This field is required."]}


# --- Escalation paths ----------------------------------------------------------------------------------


def test_a_supervisor_creates_a_path_with_levels_in_the_order_sent(supervisor, billing, technical, bob):
    body = {
        "name": "Urgent",
        "description": "Outages.",
        "levels": [
            {"name": "Engineers", "team": technical.pk, "notify": [bob.pk]},
            {"name": "Account managers", "team": billing.pk},
        ],
    }
    response = supervisor.post(url("escalation-paths"), body, format="json")
    assert response.status_code == 201, response.content
    urgent = EscalationPath.objects.get(name="Urgent")
    engineers, managers = urgent.levels.order_by("position")
    assert response.json() == {
        "id": urgent.pk,
        "name": "Urgent",
        "description": "Outages.",
        "levels": [
            {
                "id": engineers.pk,
                "position": 1,
                "name": "Engineers",
                "team": {"id": technical.pk, "name": "Technical"},
                "notify": [as_person(bob)],
            },
            {
                "id": managers.pk,
                "position": 2,
                "name": "Account managers",
                "team": {"id": billing.pk, "name": "Billing"},
                "notify": [],
            },
        ],
    }


def test_a_patch_of_the_name_keeps_the_levels(supervisor, standard_path):
    response = supervisor.patch(url("escalation-path", standard_path.pk), {"name": "Standard route"}, format="json")
    assert response.status_code == 200, response.content
    assert [level["position"] for level in response.json()["levels"]] == [1, 2]
    assert levels_of(standard_path) == [(1, "Level 1", "Billing"), (2, "Level 2", "Technical")]


def test_reordering_levels_renumbers_them_and_keeps_the_tickets_on_their_level(supervisor, standard_path, category):
    # given a ticket at Billing's level, level 1
    ticket = TicketFactory(category=category)
    first, second = standard_path.levels.order_by("position")
    assert ticket.escalation_level == first
    # when carol lists the levels the other way round, renaming one on the way
    levels = [{"id": second.pk, "name": "Engineers"}, {"id": first.pk}]
    response = supervisor.patch(url("escalation-path", standard_path.pk), {"levels": levels}, format="json")
    # then the same level rows are renumbered, and the ticket is still at Billing's
    assert response.status_code == 200, response.content
    assert [(level["id"], level["position"]) for level in response.json()["levels"]] == [(second.pk, 1), (first.pk, 2)]
    assert levels_of(standard_path) == [(1, "Engineers", "Technical"), (2, "Level 1", "Billing")]
    ticket.refresh_from_db()
    assert ticket.escalation_level == first
    assert ticket.escalation_level.position == 2


def test_a_new_level_goes_where_it_is_listed(supervisor, standard_path, billing):
    first, second = standard_path.levels.order_by("position")
    levels = [{"id": first.pk}, {"name": "Managers", "team": billing.pk}, {"id": second.pk}]
    response = supervisor.patch(url("escalation-path", standard_path.pk), {"levels": levels}, format="json")
    assert response.status_code == 200, response.content
    assert levels_of(standard_path) == [
        (1, "Level 1", "Billing"),
        (2, "Managers", "Billing"),
        (3, "Level 2", "Technical"),
    ]


def test_a_level_left_out_is_removed_and_the_rest_renumbered(supervisor, standard_path):
    first, second = standard_path.levels.order_by("position")
    response = supervisor.patch(
        url("escalation-path", standard_path.pk), {"levels": [{"id": second.pk}]}, format="json"
    )
    assert response.status_code == 200, response.content
    assert levels_of(standard_path) == [(1, "Level 2", "Technical")]
    assert not EscalationLevel.objects.filter(pk=first.pk).exists()


def test_removing_a_level_tickets_are_at_is_refused_naming_it(supervisor, standard_path, category):
    TicketFactory(category=category)  # at level 1
    second = standard_path.levels.get(position=2)
    before = world_as_saved()
    response = supervisor.patch(
        url("escalation-path", standard_path.pk), {"levels": [{"id": second.pk}]}, format="json"
    )
    assert fields_of(response) == {
        "levels": [
            "Level 1 “Level 1” can't be removed: 1 ticket is at it. Escalate or move the open ones first; a level "
            "that closed tickets ended at stays, but can be renamed or given another team."
        ]
    }
    assert world_as_saved() == before


@pytest.mark.parametrize("levels", [[], None], ids=["empty list", "left out"])
def test_a_path_with_no_levels_is_refused(levels, supervisor, db):
    body = {"name": "Empty"} if levels is None else {"name": "Empty", "levels": levels}
    fields = fields_of(supervisor.post(url("escalation-paths"), body, format="json"))
    message = (
        "A path needs at least one level: tickets start at level 1." if levels == [] else "This field is required."
    )
    assert fields == {"levels": [message]}
    assert not EscalationPath.objects.exists()


def test_bad_levels_are_named_by_their_place_in_the_list_sent(supervisor, standard_path):
    # given another path, Urgent, and a list where the faults are in a new row (first) and a kept one (second)
    EscalationPathFactory(name="Urgent")
    first, second = standard_path.levels.order_by("position")
    levels = [{"name": " ", "team": 999_999}, {"id": first.pk, "team": 999_998}, {"id": second.pk}]
    before = world_as_saved()
    response = supervisor.patch(
        url("escalation-path", standard_path.pk), {"name": "urgent", "levels": levels}, format="json"
    )
    # then each is named by where it stands in the list sent, in that order, after the path's own
    fields = fields_of(response)
    assert list(fields.items()) == [
        ("name", ["The name “Urgent” is taken by another path: choose another."]),
        ("levels.0.name", ["Give the level a name."]),
        ("levels.0.team", ["There is no team with id 999999."]),
        ("levels.1.team", ["There is no team with id 999998."]),
    ]
    assert world_as_saved() == before


def test_a_new_level_without_name_or_team_is_refused_not_ignored(supervisor, standard_path):
    levels = [*({"id": level.pk} for level in standard_path.levels.order_by("position")), {}]
    response = supervisor.patch(url("escalation-path", standard_path.pk), {"levels": levels}, format="json")
    assert fields_of(response) == {
        "levels.2.name": ["Give the level a name."],
        "levels.2.team": ["Choose the team that works tickets at this level."],
    }


@pytest.mark.parametrize(
    ("level", "fields"),
    [
        (
            {"id": 999_999},
            {"levels.1.id": ["The path has no level with id 999999: leave id out for a new one."]},
        ),
        (
            {"id": "first"},
            {"levels.1.id": ["Level {first} is listed twice: list each level once."]},
        ),
        (
            {"id": "first", "position": 1},
            {
                "levels.1.position": [
                    "position can't be set here: levels are numbered 1, 2, ... in the order of the list."
                ]
            },
        ),
        (
            {"id": "first", "path": 1},
            {"levels.1.path": ["path is not a field this takes (it takes id, name, notify, team)."]},
        ),
    ],
    ids=["not a level of the path", "listed twice", "position", "path"],
)
def test_a_level_is_refused_for_what_the_list_decides(level, fields, supervisor, standard_path, world):
    """Ids of levels of another path, twice listed, or positions and paths set by hand (mass assignment)."""
    first = standard_path.levels.get(position=1)
    level = {key: first.pk if value == "first" else value for key, value in level.items()}
    before = world_as_saved()
    response = supervisor.patch(
        url("escalation-path", standard_path.pk), {"levels": [{"id": first.pk}, level]}, format="json"
    )
    assert fields_of(response) == {
        name: [message.format(first=first.pk) for message in messages] for name, messages in fields.items()
    }
    assert world_as_saved() == before


def test_a_level_of_another_path_can_not_be_taken(supervisor, standard_path, world):
    theirs = world["spare_path"].levels.get()
    response = supervisor.patch(
        url("escalation-path", standard_path.pk), {"levels": [{"id": theirs.pk, "name": "Mine"}]}, format="json"
    )
    assert fields_of(response) == {
        "levels.0.id": [f"The path has no level with id {theirs.pk}: leave id out for a new one."]
    }
    assert theirs.path == world["spare_path"]


# --- Categories ------------------------------------------------------------------------------------


def test_a_new_category_starts_from_the_defaults(supervisor, standard_path):
    response = supervisor.post(
        url("categories"), {"name": "Refunds", "escalation_path": standard_path.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    refunds = Category.objects.get(name="Refunds")
    assert response.json() == {
        "id": refunds.pk,
        "name": "Refunds",
        "slug": "refunds",
        "description": "",
        "default_priority": "normal",
        "escalation_path": {"id": standard_path.pk, "name": "Standard"},
        "default_target_seconds": 8 * 3600,
        "warn_min_seconds": None,
        "warn_fraction": None,
        "business_hours": False,
        "is_active": True,
    }


def test_a_patch_sets_the_durations_and_the_warning_window(supervisor, category):
    body = {"default_target_seconds": 5400, "warn_min_seconds": 0, "warn_fraction": 0.25, "default_priority": "high"}
    response = supervisor.patch(url("category", category.pk), body, format="json")
    assert response.status_code == 200, response.content
    assert {name: response.json()[name] for name in body} == body
    category.refresh_from_db()
    assert (category.default_target, category.warn_min, category.warn_fraction, category.default_priority) == (
        timedelta(minutes=90),
        timedelta(0),
        0.25,
        Priority.HIGH,
    )
    assert category.name == "Billing question"  # not sent, kept


def test_null_brings_back_the_site_defaults(supervisor, category):
    Category.objects.filter(pk=category.pk).update(warn_min=timedelta(hours=1), warn_fraction=0.5)
    body = {"warn_min_seconds": None, "warn_fraction": None}
    assert supervisor.patch(url("category", category.pk), body, format="json").json()["warn_min_seconds"] is None
    category.refresh_from_db()
    assert (category.warn_min, category.warn_fraction) == (None, None)


def test_a_retired_category_stays_listed(supervisor, category):
    assert supervisor.patch(url("category", category.pk), {"is_active": False}, format="json").status_code == 200
    listed = supervisor.get(url("categories")).json()["results"]
    assert [(row["name"], row["is_active"]) for row in listed] == [("Billing question", False)]


BAD_FRACTION = "Type a fraction from 0 to 1 (0.25 is a quarter), or leave it empty for the site default."
BAD_SLUG = "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens."
NOT_POSITIVE = "Type a duration longer than zero, such as 8h or 45m."
TOO_MANY_SECONDS = "Ensure this value is less than or equal to 2147483647."


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"name": "refunds"}, {"name": ["The name “Refunds” is taken by another category: choose another."]}),
        ({"slug": "refunds"}, {"slug": ["The slug “refunds” is taken by the category “Refunds”: type another."]}),
        ({"slug": "not a slug"}, {"slug": [BAD_SLUG]}),
        ({"default_target_seconds": 0}, {"default_target_seconds": [NOT_POSITIVE]}),
        (
            {"default_target_seconds": 31 * 24 * 3600},
            {"default_target_seconds": ["Type at most 30 days: no promise is made further ahead than that."]},
        ),
        ({"warn_min_seconds": -60}, {"warn_min_seconds": ["Ensure this value is greater than or equal to 0."]}),
        ({"default_target_seconds": "8h"}, {"default_target_seconds": ["A valid integer is required."]}),
        ({"default_target_seconds": 10**30}, {"default_target_seconds": [TOO_MANY_SECONDS]}),
        ({"warn_fraction": 1.5}, {"warn_fraction": [BAD_FRACTION]}),
        ({"warn_fraction": -0.1}, {"warn_fraction": [BAD_FRACTION]}),
        ({"default_priority": 3}, {"default_priority": ["Choose one of low, normal, high, urgent."]}),
        ({"escalation_path": 999_999}, {"escalation_path": ["There is no escalation path with id 999999."]}),
        ({"escalation_path": None}, {"escalation_path": ["This field may not be null."]}),
        ({"id": 1, "slug": "x"}, {"id": ["id is not a field this takes (it takes business_hours, default_priority, "
                                        "default_target_seconds, description, escalation_path, is_active, name, slug, "
                                        "warn_fraction, warn_min_seconds)."]}),
        ({"default_target": 60}, {"default_target": ["default_target is not a field this takes (it takes "
                                                    "business_hours, default_priority, default_target_seconds, "
                                                    "description, escalation_path, is_active, name, slug, "
                                                    "warn_fraction, warn_min_seconds)."]}),
        ({"business_hours": "sometimes"}, {"business_hours": ["Must be a valid boolean."]}),
    ],
)  # fmt: skip
def test_a_bad_category_is_refused_saying_what_to_fix(body, fields, supervisor, category, standard_path):
    CategoryFactory(name="Refunds", slug="refunds", escalation_path=standard_path)
    before = world_as_saved()
    response = supervisor.patch(url("category", category.pk), body, format="json")
    assert fields_of(response) == fields
    assert world_as_saved() == before


def test_a_path_without_levels_is_refused(supervisor, category):
    empty = EscalationPath.objects.create(name="Empty")
    response = supervisor.patch(url("category", category.pk), {"escalation_path": empty.pk}, format="json")
    assert fields_of(response) == {
        "escalation_path": ["Empty has no levels yet, and tickets start at level 1: add one to it first."]
    }


def test_a_new_category_needs_a_name_and_a_path(supervisor, db):
    response = supervisor.post(url("categories"), {"name": " "}, format="json")
    assert fields_of(response) == {"escalation_path": ["This field is required."]}
    response = supervisor.post(url("categories"), {"name": " ", "escalation_path": 999_999}, format="json")
    assert fields_of(response) == {
        "name": ["Give the category a name."],
        "slug": ["Type a slug (letters, digits and hyphens): there is no name to make one from."],
        "escalation_path": ["There is no escalation path with id 999999."],
    }


def test_a_category_is_never_deleted_the_refusal_says_how_to_retire_it(supervisor, category):
    response = supervisor.delete(url("category", category.pk))
    assert response.status_code == 405
    error = error_of(response)
    assert (error["code"], error["message"]) == (
        "method_not_allowed",
        "Categories are never deleted: set is_active to false to retire one.",
    )
    assert "DELETE" not in response["Allow"]
    assert Category.objects.filter(pk=category.pk).exists()


def test_another_method_not_offered_is_a_plain_405(supervisor, category):
    response = supervisor.put(url("category", category.pk), {"is_active": False}, format="json")
    assert response.status_code == 405
    assert error_of(response)["message"] == 'Method "PUT" not allowed.'


# --- What a list costs ------------------------------------------------------------------------------

# Every call: the token with its user (1), and the first call of a fresh token notes when it was used (1).
CALL = 2

LIST_QUERIES = {
    # the count (1), the page of teams with their leads and calendars (1), their members (1)
    "teams": CALL + 3,
    # the count (1), the page of paths (1), their levels with their teams (1), the people each notifies (1)
    "escalation-paths": CALL + 4,
    # the count (1), the page of categories with their paths (1)
    "categories": CALL + 2,
    # the count (1), the page of calendars (1), their closed days (1), the names of their teams (1)
    "calendars": CALL + 4,
}


def many_rows(n: int) -> None:
    """``n`` teams with a lead and members, each working to a calendar of its own with two closed days, each
    the single level of a path that notifies them, each path used by a category."""
    for i in range(n):
        people = [StaffFactory() for _ in range(2)]
        calendar = Calendar.objects.create(name=f"Calendar {i}", weekly=NINE_TO_FIVE, country="DE")
        for day in (24, 31):
            ClosedDay.objects.create(calendar=calendar, date=date(2026, 12, day), reason="Year end")
        team = TeamFactory(name=f"Team {i}", lead=people[0], calendar=calendar)
        team.members.add(*people)
        path = EscalationPathFactory(name=f"Path {i}", teams=[team])
        path.levels.get().notify.add(*people)
        CategoryFactory(name=f"Category {i}", escalation_path=path)


@pytest.mark.parametrize("name", LIST_QUERIES)
def test_a_list_costs_the_same_queries_however_many_rows(name, api, alice, django_assert_max_num_queries):
    many_rows(6)
    client = api(alice)
    with django_assert_max_num_queries(LIST_QUERIES[name]):
        response = client.get(url(name))
    assert response.status_code == 200
    assert response.json()["count"] == 6 + (1 if name in ("teams", "calendars") else 0)  # Billing, around the clock
