"""Supervisors keep teams here: name, lead and members (chosen from active staff), and delete a team
only when nothing uses it, being told what does otherwise."""

from __future__ import annotations

import pytest

from tests.configuration import refused, said, saved, signed_in, team_data, text, url, world_as_saved
from tests.factories import StaffFactory, TeamFactory, TicketFactory
from tickets.configuration import TeamForm
from tickets.models import Team
from tickets.templatetags.desk import person


@pytest.fixture
def supervisor(carol):
    return signed_in(carol)


def overview_row(client, team) -> str:
    """The overview's table row for ``team``."""
    page = text(client.get(url("index")))
    start = page.index(f'data-team="{team.pk}"')
    return page[start : page.index("</tr>", start)]


def test_a_new_team_with_a_lead_and_members_shows_on_the_overview(supervisor, alice, bob):
    # when carol creates Returns, led by alice, with alice and bob
    response = supervisor.post(url("team-new"), team_data(name="Returns", lead=alice.pk, members=[alice.pk, bob.pk]))
    # then she is back on the overview, told so, and the team is there with its lead and two members
    assert saved(response) == ["Created team “Returns”."]
    returns = Team.objects.get(name="Returns")
    assert returns.lead == alice
    assert set(returns.members.all()) == {alice, bob}
    row = overview_row(supervisor, returns)
    assert "Returns" in row
    assert "Alice" in row
    assert "<td>2</td>" in row


def test_editing_a_team_renames_it_and_changes_its_members(supervisor, billing, alice, bob):
    response = supervisor.post(
        url("team-edit", billing.pk), team_data(billing, name="Payments", lead=bob.pk, members=[bob.pk])
    )
    assert saved(response) == ["Saved team “Payments”."]
    billing.refresh_from_db()
    assert (billing.name, billing.lead, list(billing.members.all())) == ("Payments", bob, [bob])
    assert "<td>1</td>" in overview_row(supervisor, billing)


def test_the_edit_page_shows_the_team_as_saved(supervisor, billing, alice, bob):
    billing.lead = alice
    billing.save()
    page = text(supervisor.get(url("team-edit", billing.pk)))
    assert 'value="Billing"' in page
    assert f'<option value="{alice.pk}" selected>Alice' in page
    assert f'value="{alice.pk}" class="form-check-input" id="id_members_' in page
    assert page.count("checked") == 1  # alice is a member, bob is not


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "Give the team a name."),
        ({"name": "   "}, "Give the team a name."),
        ({"name": "Technical"}, "The name “Technical” is taken by another team: choose another."),
        ({"name": "technical"}, "The name “Technical” is taken by another team: choose another."),
        ({"name": "x" * 101}, "Ensure this value has at most 100 characters (it has 101)."),
    ],
)
def test_a_bad_name_is_refused_with_a_clear_message(change, message, supervisor, billing, technical, alice):
    before = world_as_saved()
    page = refused(supervisor.post(url("team-edit", billing.pk), team_data(billing, **change)))
    assert message in page
    assert "Nothing was saved" in page
    assert world_as_saved() == before


def test_a_new_team_with_a_taken_name_is_refused(supervisor, billing):
    page = refused(supervisor.post(url("team-new"), team_data(name="BILLING")))
    assert "The name “Billing” is taken by another team: choose another." in page
    assert Team.objects.count() == 1


def test_a_lead_who_is_not_a_member_is_refused(supervisor, billing, alice, bob):
    before = world_as_saved()
    page = refused(supervisor.post(url("team-edit", billing.pk), team_data(billing, lead=bob.pk)))
    assert f"{person(bob)} leads the team, so tick them among the members too." in page
    assert world_as_saved() == before


def test_only_active_staff_are_offered_as_members(supervisor, billing, alice, eve):
    # given a former agent (no longer active)
    gone = StaffFactory(username="gone", first_name="Gone", is_active=False)
    page = text(supervisor.get(url("team-new")))
    assert "Alice" in page
    assert "Eve" not in page
    assert "Gone" not in page
    # and posting someone not offered is refused
    before = world_as_saved()
    page = refused(supervisor.post(url("team-new"), team_data(name="Returns", members=[eve.pk])))
    assert f"Select a valid choice. {eve.pk} is not one of the available choices." in page
    page = refused(supervisor.post(url("team-new"), team_data(name="Returns", lead=gone.pk, members=[gone.pk])))
    assert "Select a valid choice. That choice is not one of the available choices." in page
    assert world_as_saved() == before


def test_a_member_who_left_stays_listed_and_is_not_dropped_by_saving(supervisor, billing, alice):
    # given alice has left (inactive) but is still in Billing
    alice.is_active = False
    alice.save()
    assert "Alice" in text(supervisor.get(url("team-edit", billing.pk)))
    # when carol renames Billing, leaving the members as shown
    saved(supervisor.post(url("team-edit", billing.pk), team_data(billing, name="Payments")))
    # then alice is still a member
    assert list(billing.members.all()) == [alice]


# --- Deleting ------------------------------------------------------------------------------------


def test_deleting_an_unused_team_works(supervisor, billing):
    spare = TeamFactory(name="Spare")
    response = supervisor.post(url("team-delete", spare.pk))
    assert saved(response) == ["Deleted team “Spare”."]
    assert not Team.objects.filter(pk=spare.pk).exists()
    assert f'data-team="{spare.pk}"' not in text(supervisor.get(url("index")))


def test_deleting_a_team_with_tickets_on_a_path_is_refused_saying_what_uses_it(supervisor, billing, category):
    # given two tickets in Billing, level 1 of Standard
    TicketFactory(category=category)
    TicketFactory(category=category)
    before = world_as_saved()
    # when carol tries to delete Billing
    response = supervisor.post(url("team-delete", billing.pk))
    # then she is back on its page, told what still uses it, and Billing stays
    assert response.status_code == 302
    assert response["Location"] == url("team-edit", billing.pk)
    [message] = said(response)
    assert message.startswith("Billing can't be deleted: it still has 2 tickets, and is level 1 of Standard.")
    assert "Give those levels another team first." in message
    assert "can only be renamed" in message
    assert world_as_saved() == before


def test_deleting_a_team_only_a_level_uses_names_the_levels(supervisor, standard_path, technical):
    [message] = said(supervisor.post(url("team-delete", technical.pk)))
    assert message == "Technical can't be deleted: it is level 2 of Standard. Give those levels another team first."
    assert Team.objects.filter(pk=technical.pk).exists()


def test_the_refusal_shows_on_the_teams_page(supervisor, standard_path, technical):
    response = supervisor.post(url("team-delete", technical.pk), follow=True)
    assert "Technical can&#x27;t be deleted: it is level 2 of Standard." in text(response)


def test_a_name_taken_a_moment_ago_is_refused_not_a_server_error(supervisor, billing, monkeypatch):
    # given someone else saves "Returns" after carol's form was checked, just before it is written
    write = TeamForm.write

    def someone_else_first(form):
        Team.objects.create(name="Returns")
        return write(form)

    monkeypatch.setattr(TeamForm, "write", someone_else_first)
    before = world_as_saved()
    # when carol's "Returns" is written, the database refuses the duplicate
    page = refused(supervisor.post(url("team-new"), team_data(name="Returns")))
    # then she is told, not shown a server error, and her save left nothing behind
    assert "Someone saved a clashing change a moment ago, so nothing was saved" in page
    assert world_as_saved() == before
