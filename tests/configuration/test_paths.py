"""Escalation paths: a name, a description and ordered levels (name, team, people notified) that a
supervisor adds, removes and reorders on one page. Positions are always 1..n in the order shown; a path
keeps at least one level, a level tickets are at stays, and a path in use can't be deleted."""

from __future__ import annotations

import pytest

from tests.configuration import (
    level_row,
    path_data,
    refused,
    said,
    saved,
    signed_in,
    text,
    url,
    world_as_saved,
)
from tests.factories import CategoryFactory, EscalationPathFactory, TeamFactory, TicketFactory
from tickets.models import EscalationLevel, EscalationPath
from tickets.services import configuration


@pytest.fixture
def supervisor(carol):
    return signed_in(carol)


def levels_of(path: EscalationPath) -> list[tuple[int, str, str]]:
    """(position, name, team) of each level, in order."""
    return [(level.position, level.name, level.team.name) for level in path.levels.order_by("position")]


def rows(path: EscalationPath) -> list[dict]:
    return [level_row(level) for level in path.levels.order_by("position")]


# --- Creating and editing -----------------------------------------------------------------------


def test_a_new_path_with_two_levels_shows_on_the_overview_in_order(supervisor, billing, technical, alice, bob):
    # when carol creates Urgent: Technical first (bob told), then Billing, with one blank row left over
    data = path_data(
        name="Urgent",
        description="Outages.",
        rows=[
            {"ORDER": "", "name": "Engineers", "team": technical.pk, "notify": [bob.pk]},
            {"ORDER": "", "name": "Account managers", "team": billing.pk},
            {"ORDER": "", "name": "", "team": ""},
        ],
    )
    assert saved(supervisor.post(url("path-new"), data)) == ["Created escalation path “Urgent”."]
    # then the levels are numbered in the order shown, with their people
    urgent = EscalationPath.objects.get(name="Urgent")
    assert urgent.description == "Outages."
    assert levels_of(urgent) == [(1, "Engineers", "Technical"), (2, "Account managers", "Billing")]
    assert list(urgent.levels.get(position=1).notify.all()) == [bob]
    # and the overview lists them so
    page = text(supervisor.get(url("index")))
    section = page[page.index(f'data-path="{urgent.pk}"') :]
    assert section.index("1. Engineers") < section.index("2. Account managers") < section.index("</tr>")


def test_the_new_path_page_offers_three_blank_rows_and_an_existing_path_one_more(supervisor, standard_path):
    assert 'name="levels-TOTAL_FORMS" value="3"' in text(supervisor.get(url("path-new")))
    assert 'name="levels-TOTAL_FORMS" value="3"' in text(supervisor.get(url("path-edit", standard_path.pk)))
    assert 'name="levels-INITIAL_FORMS" value="2"' in text(supervisor.get(url("path-edit", standard_path.pk)))


def test_editing_renames_the_path_and_its_levels_and_sets_who_is_told(supervisor, standard_path, technical, bob):
    edited = rows(standard_path)
    edited[1].update(name="Engineers", notify=[bob.pk])
    data = path_data(standard_path, name="Standard route", description="Most requests.", rows=edited)
    assert saved(supervisor.post(url("path-edit", standard_path.pk), data)) == [
        "Saved escalation path “Standard route”."
    ]
    standard_path.refresh_from_db()
    assert (standard_path.name, standard_path.description) == ("Standard route", "Most requests.")
    assert levels_of(standard_path) == [(1, "Level 1", "Billing"), (2, "Engineers", "Technical")]
    assert list(standard_path.levels.get(position=2).notify.all()) == [bob]


def test_save_and_add_another_level_comes_back_to_the_path(supervisor, standard_path):
    response = supervisor.post(url("path-edit", standard_path.pk), {**path_data(standard_path), "again": "1"})
    assert response.status_code == 302
    assert response["Location"] == url("path-edit", standard_path.pk)


# --- Reordering, adding, removing ----------------------------------------------------------------


def test_swapping_levels_1_and_2_renumbers_them_and_keeps_the_tickets_on_their_level(
    supervisor, standard_path, category
):
    # given a ticket at Billing's level (level 1)
    ticket = TicketFactory(category=category)
    billing_level = ticket.escalation_level
    # when carol swaps the two levels
    swapped = rows(standard_path)
    swapped[0]["ORDER"], swapped[1]["ORDER"] = 2, 1
    saved(supervisor.post(url("path-edit", standard_path.pk), path_data(standard_path, rows=swapped)))
    # then Technical is level 1 and Billing level 2: the same level rows, renumbered
    assert levels_of(standard_path) == [(1, "Level 2", "Technical"), (2, "Level 1", "Billing")]
    billing_level.refresh_from_db()
    assert billing_level.position == 2
    ticket.refresh_from_db()
    assert ticket.escalation_level == billing_level


def test_a_new_level_can_go_in_the_middle_and_the_rest_move_down(supervisor, standard_path, billing):
    # given three levels
    support = TeamFactory(name="Support")
    third = {"ORDER": "", "name": "Managers", "team": billing.pk}
    saved(
        supervisor.post(
            url("path-edit", standard_path.pk), path_data(standard_path, rows=[*rows(standard_path), third])
        )
    )
    # when carol moves the last to the front (0) and adds a fourth level numbered 1, like the first
    edited = rows(standard_path)
    edited[2]["ORDER"] = 0
    edited.append({"ORDER": 1, "name": "Support desk", "team": support.pk})
    saved(supervisor.post(url("path-edit", standard_path.pk), path_data(standard_path, rows=edited)))
    # then the levels are 1..4 in the order the numbers say, equal numbers in the order shown
    assert levels_of(standard_path) == [
        (1, "Managers", "Billing"),
        (2, "Level 1", "Billing"),
        (3, "Support desk", "Support"),
        (4, "Level 2", "Technical"),
    ]


def test_removing_a_level_no_ticket_is_at_renumbers_the_rest(supervisor, standard_path):
    edited = rows(standard_path)
    edited[0]["DELETE"] = "on"
    saved(supervisor.post(url("path-edit", standard_path.pk), path_data(standard_path, rows=edited)))
    assert levels_of(standard_path) == [(1, "Level 2", "Technical")]


def test_removing_a_level_tickets_are_at_is_refused_and_changes_nothing(supervisor, standard_path, category):
    # given two tickets at level 1
    TicketFactory(category=category)
    TicketFactory(category=category)
    before = world_as_saved()
    # when carol ticks level 1 for removal (and swaps nothing else)
    edited = rows(standard_path)
    edited[0]["DELETE"] = "on"
    page = refused(supervisor.post(url("path-edit", standard_path.pk), path_data(standard_path, rows=edited)))
    # then she is told why, and nothing changed
    assert "Level 1 “Level 1” can't be removed: 2 tickets are at it." in page
    assert "Nothing was saved" in page
    assert world_as_saved() == before


def test_removing_every_level_is_refused(supervisor, standard_path):
    before = world_as_saved()
    edited = [{**row, "DELETE": "on"} for row in rows(standard_path)]
    page = refused(supervisor.post(url("path-edit", standard_path.pk), path_data(standard_path, rows=edited)))
    assert "A path needs at least one level: tickets start at level 1." in page
    assert world_as_saved() == before


def test_a_new_path_with_no_levels_is_refused(supervisor, db):
    blank = [{"ORDER": "", "name": "", "team": ""}] * 3
    page = refused(supervisor.post(url("path-new"), path_data(name="Empty", rows=blank)))
    assert "A path needs at least one level: tickets start at level 1." in page
    assert not EscalationPath.objects.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "Give the path a name."),
        ({"name": "standard"}, "The name “Standard” is taken by another path: choose another."),
    ],
)
def test_a_bad_path_name_is_refused(change, message, supervisor, standard_path, billing):
    EscalationPathFactory(name="Other", teams=[billing])
    other = EscalationPath.objects.get(name="Other")
    before = world_as_saved()
    page = refused(supervisor.post(url("path-edit", other.pk), path_data(other, **change)))
    assert message in page
    assert world_as_saved() == before


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"name": ""}, "Give the level a name."),
        ({"team": ""}, "Choose the team that works tickets at this level."),
        ({"team": 999999}, "Select a valid choice. That choice is not one of the available choices."),
        ({"ORDER": "first"}, "Enter a whole number."),
    ],
)
def test_a_bad_level_is_refused(row, message, supervisor, standard_path):
    before = world_as_saved()
    edited = rows(standard_path)
    edited[1].update(row)
    page = refused(supervisor.post(url("path-edit", standard_path.pk), path_data(standard_path, rows=edited)))
    assert message in page
    assert world_as_saved() == before


def test_a_half_filled_blank_row_is_refused_not_ignored(supervisor, standard_path):
    before = world_as_saved()
    edited = [*rows(standard_path), {"ORDER": "3", "name": "Managers", "team": ""}]
    page = refused(supervisor.post(url("path-edit", standard_path.pk), path_data(standard_path, rows=edited)))
    assert "Choose the team that works tickets at this level." in page
    assert world_as_saved() == before


# --- Deleting ------------------------------------------------------------------------------------


def test_deleting_an_unused_path_works(supervisor, standard_path, technical):
    spare = EscalationPathFactory(name="Spare", teams=[technical])
    assert saved(supervisor.post(url("path-delete", spare.pk))) == ["Deleted escalation path “Spare”."]
    assert not EscalationPath.objects.filter(pk=spare.pk).exists()
    assert not EscalationLevel.objects.filter(path_id=spare.pk).exists()


def test_deleting_a_path_categories_use_is_refused_naming_them(supervisor, standard_path, category):
    CategoryFactory(name="Refunds", escalation_path=standard_path)
    before = world_as_saved()
    response = supervisor.post(url("path-delete", standard_path.pk))
    assert response["Location"] == url("path-edit", standard_path.pk)
    assert said(response) == [
        "Standard can't be deleted: the categories Billing question and Refunds still use it. "
        "Give those categories another path first."
    ]
    assert world_as_saved() == before


def test_deleting_a_path_tickets_are_on_is_refused(supervisor, standard_path, category, technical):
    # given a ticket on Standard, whose category has since moved to another path
    TicketFactory(category=category)
    category.escalation_path = EscalationPathFactory(name="Other", teams=[technical])
    category.save()
    [message] = said(supervisor.post(url("path-delete", standard_path.pk)))
    assert message.startswith("Standard can't be deleted: 1 ticket is at its levels.")
    assert EscalationPath.objects.filter(pk=standard_path.pk).exists()


def test_names_are_shown_escaped(supervisor, billing):
    EscalationPathFactory(name="<b>Loud</b>", teams=[billing])
    page = text(supervisor.get(url("index")))
    assert "<b>Loud</b>" not in page
    assert "&lt;b&gt;Loud&lt;/b&gt;" in page


def test_a_level_tickets_reached_after_the_check_is_still_refused(supervisor, standard_path, category, monkeypatch):
    # given a ticket at level 1 that the form's check does not see (it arrived just after the check)
    TicketFactory(category=category)
    checks = iter([""])
    real = configuration.level_in_use
    monkeypatch.setattr(configuration, "level_in_use", lambda level: next(checks, None) or real(level))
    before = world_as_saved()
    # when carol removes level 1
    edited = rows(standard_path)
    edited[0]["DELETE"] = "on"
    page = refused(supervisor.post(url("path-edit", standard_path.pk), path_data(standard_path, rows=edited)))
    # then the database's refusal (PROTECT) is shown like any other mistake, and nothing changed
    assert "Level 1 “Level 1” can't be removed: 1 ticket is at it." in page
    assert world_as_saved() == before
