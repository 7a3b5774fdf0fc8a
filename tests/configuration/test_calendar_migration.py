"""Migration 0024: the teams that exist when calendars come all work around the clock, on the one calendar made
for them, and nothing about their promises changes."""

from __future__ import annotations

import pytest

from tests.migrations import migrate, migrate_to_latest

pytestmark = pytest.mark.django_db(transaction=True)


def test_existing_teams_are_put_on_the_around_the_clock_calendar():
    apps = migrate([("tickets", "0023_sweep_writes_fewer_indexes")])
    try:
        Team = apps.get_model("tickets", "Team")
        names = ["Front Desk", "Billing"]
        for name in names:
            Team.objects.create(name=name)

        apps = migrate([("tickets", "0024_business_calendars")])

        Calendar = apps.get_model("tickets", "Calendar")
        calendar = Calendar.objects.get()
        assert (calendar.name, calendar.time_zone, calendar.weekly) == (
            "Around the clock",
            "UTC",
            [[["00:00", "00:00"]]] * 7,
        )
        teams = apps.get_model("tickets", "Team").objects.filter(name__in=names)
        assert sorted(teams.values_list("calendar_id", flat=True)) == [calendar.pk, calendar.pk]
        assert not apps.get_model("tickets", "Category")._meta.get_field("business_hours").default
    finally:
        migrate_to_latest()
