"""Categories: the help topics on the web form and the defaults their tickets start from. Durations are
typed as people say them; the warning window's overrides fall back to the site defaults when empty; a
category is deactivated, never deleted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import NoReverseMatch

from tests.configuration import category_data, refused, saved, signed_in, text, url, world_as_saved
from tests.factories import EscalationPathFactory
from tickets.models import Category, EscalationPath, Priority


@pytest.fixture
def supervisor(carol):
    return signed_in(carol)


def overview_row(client, category) -> str:
    page = text(client.get(url("index")))
    start = page.index(f'data-category="{category.pk}"')
    return page[start : page.index("</tr>", start)]


def test_a_new_category_gets_its_slug_from_its_name_and_shows_on_the_overview(supervisor, standard_path):
    data = category_data(
        name="Refunds & returns",
        escalation_path=standard_path.pk,
        default_priority=Priority.HIGH,
        default_target="1h 30m",
        warn_min="45 min",
        warn_fraction="0.25",
    )
    assert saved(supervisor.post(url("category-new"), data)) == ["Created category “Refunds & returns”."]
    refunds = Category.objects.get(name="Refunds & returns")
    assert refunds.slug == "refunds-returns"
    assert refunds.default_target == timedelta(hours=1, minutes=30)
    assert refunds.warn_min == timedelta(minutes=45)
    assert refunds.warn_fraction == 0.25
    assert refunds.is_active
    row = overview_row(supervisor, refunds)
    for shown in ["Refunds &amp; returns", "Standard", "High", "1h 30m", "45m", "25 %", "Yes"]:
        assert shown in row


def test_empty_warning_overrides_mean_the_site_defaults(supervisor, standard_path):
    saved(supervisor.post(url("category-new"), category_data(name="Other", escalation_path=standard_path.pk)))
    other = Category.objects.get(name="Other")
    assert (other.warn_min, other.warn_fraction) == (None, None)
    assert overview_row(supervisor, other).count("site default") == 2


@pytest.mark.parametrize("typed", ["2 days", "48h", "2d", "1d 24h"])
def test_editing_the_target_shows_it_back_as_people_say_it(typed, supervisor, category):
    saved(supervisor.post(url("category-edit", category.pk), category_data(category, default_target=typed)))
    category.refresh_from_db()
    assert category.default_target == timedelta(days=2)
    assert 'value="2d"' in text(supervisor.get(url("category-edit", category.pk)))
    assert "<td>2d</td>" in overview_row(supervisor, category)


def test_the_edit_page_shows_saved_durations_as_typed(supervisor, category):
    Category.objects.filter(pk=category.pk).update(
        default_target=timedelta(hours=8), warn_min=timedelta(hours=1, minutes=30), warn_fraction=0.1
    )
    page = text(supervisor.get(url("category-edit", category.pk)))
    assert 'name="default_target" placeholder="e.g. 8h, 1h 30m, 2 days" size="16" type="text" value="8h"' in page
    assert 'value="1h 30m"' in page
    assert 'value="0.1"' in page


def test_the_help_text_names_the_site_defaults(supervisor, category, settings):
    settings.PROMISE_WARN_MIN = timedelta(minutes=45)
    settings.PROMISE_WARN_FRACTION = 0.3
    page = text(supervisor.get(url("category-edit", category.pk)))
    assert "Empty: the site default, 45m." in page
    assert "Empty: the site default, 0.3." in page


def test_a_zero_warning_minimum_is_a_real_override(supervisor, category):
    saved(supervisor.post(url("category-edit", category.pk), category_data(category, warn_min="0")))
    category.refresh_from_db()
    assert category.warn_min == timedelta(0)


def test_deactivating_keeps_the_category_and_there_is_no_delete(supervisor, category):
    saved(supervisor.post(url("category-edit", category.pk), category_data(category, is_active="")))
    category.refresh_from_db()
    assert not category.is_active
    assert "<td>No</td>" in overview_row(supervisor, category)
    with pytest.raises(NoReverseMatch):
        url("category-delete", category.pk)


DURATION_HELP = "Type a duration such as 8h, 90 min, 1h 30m, 2 days, 1d 4h or 1:30 (hours:minutes)."
FRACTION_HELP = "Type a fraction from 0 to 1 (0.25 is a quarter), or leave it empty for the site default."


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": ""}, "Give the category a name."),
        ({"name": "REFUNDS"}, "The name “Refunds” is taken by another category: choose another."),
        ({"slug": "refunds"}, "The slug “refunds” is taken by the category “Refunds”: type another."),
        ({"name": "Refunds!", "slug": ""}, "The slug “refunds” is taken by the category “Refunds”: type another."),
        ({"name": "???", "slug": ""}, "Type a slug (letters, digits and hyphens): there is no name to make one from."),
        ({"slug": "no spaces"}, "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens."),
        ({"escalation_path": ""}, "Choose the escalation path its tickets follow."),
        ({"default_target": ""}, "This field is required."),
        ({"default_target": "soon"}, DURATION_HELP),
        ({"default_target": "30"}, DURATION_HELP),
        ({"default_target": "-2h"}, DURATION_HELP),
        ({"default_target": "1.5h"}, DURATION_HELP),
        ({"default_target": "0m"}, "Type a duration longer than zero, such as 8h or 45m."),
        ({"default_target": "31 days"}, "Type at most 30 days: no promise is made further ahead than that."),
        ({"warn_min": "half an hour"}, DURATION_HELP),
        ({"warn_fraction": "1.5"}, FRACTION_HELP),
        ({"warn_fraction": "-0.1"}, FRACTION_HELP),
        ({"warn_fraction": "20%"}, FRACTION_HELP),
        ({"warn_fraction": "nan"}, FRACTION_HELP),
        ({"default_priority": "9"}, "Select a valid choice. 9 is not one of the available choices."),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(change, message, supervisor, category, standard_path):
    Category.objects.create(name="Refunds", slug="refunds", escalation_path=standard_path)
    before = world_as_saved()
    page = refused(supervisor.post(url("category-edit", category.pk), category_data(category, **change)))
    assert message in page
    assert "Nothing was saved" in page
    assert world_as_saved() == before


def test_a_path_without_levels_is_refused(supervisor, category):
    empty = EscalationPath.objects.create(name="Empty")
    before = world_as_saved()
    page = refused(
        supervisor.post(url("category-edit", category.pk), category_data(category, escalation_path=empty.pk))
    )
    assert "Empty has no levels yet, and tickets start at level 1: add one to it first." in page
    assert world_as_saved() == before


def test_a_category_can_move_to_another_path(supervisor, category, technical):
    urgent = EscalationPathFactory(name="Urgent", teams=[technical])
    saved(supervisor.post(url("category-edit", category.pk), category_data(category, escalation_path=urgent.pk)))
    category.refresh_from_db()
    assert category.escalation_path == urgent
