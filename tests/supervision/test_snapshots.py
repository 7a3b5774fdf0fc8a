"""The rolling figures (last 7, 30, 90 days) are computed ahead and read back as they were computed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse

from tests.desk.helpers import html
from tests.factories import TicketFactory
from tests.supervision.conftest import T, promise
from tickets import tasks
from tickets.models import FiguresSnapshot
from tickets.supervision.figures import Period, report
from tickets.supervision.snapshots import desk_zone, from_json, rolling, to_json

pytestmark = pytest.mark.django_db

AFTER_T = T + timedelta(days=10)  # the world (A to F) lies in the last 30 days; G (T - 40 days) in the last 90


def test_a_report_survives_the_round_trip_through_json(world):
    figures = report(Period.last(90, now=AFTER_T), zone=desk_zone())
    assert from_json(to_json(figures)) == figures


def test_the_task_computes_every_rolling_period_and_running_it_twice_changes_nothing(world, settings):
    settings.TIME_ZONE = "UTC"
    tasks.refresh_figures.apply()
    first = {snapshot.days: snapshot.data for snapshot in FiguresSnapshot.objects.all()}
    tasks.refresh_figures.apply()  # a duplicate delivery, a moment later
    assert FiguresSnapshot.objects.count() == 3
    assert set(first) == {7, 30, 90}
    again = {snapshot.days: snapshot.data for snapshot in FiguresSnapshot.objects.all()}
    assert [again[days]["total"] for days in (7, 30, 90)] == [first[days]["total"] for days in (7, 30, 90)]


def test_a_fresh_snapshot_is_read_not_recomputed(world, settings, django_assert_num_queries):
    settings.FIGURES_REFRESH_INTERVAL = 300
    rolling(30, now=AFTER_T)  # none yet: computed and kept
    with django_assert_num_queries(1):
        figures, as_of = rolling(30, now=AFTER_T + timedelta(minutes=9))
    assert (as_of, figures.total.made) == (AFTER_T, 9)


def test_a_stale_snapshot_is_recomputed_so_a_stopped_worker_costs_speed_not_truth(world, alice, category, settings):
    settings.FIGURES_REFRESH_INTERVAL = 300
    assert rolling(30, now=AFTER_T)[0].total.made == 9
    promise(TicketFactory(category=category, now=AFTER_T), alice, at=AFTER_T + timedelta(minutes=1), hours=6)
    later = AFTER_T + timedelta(minutes=11)  # two intervals and more: the task has not run

    figures, as_of = rolling(30, now=later)
    assert (as_of, figures.total.made) == (later, 10)  # the new promise counts
    assert FiguresSnapshot.objects.get(days=30).computed_at == later


def test_the_page_says_as_of_when_and_reads_the_snapshot(client_for, carol, world, settings):
    tasks.refresh_figures.apply()
    computed_at = FiguresSnapshot.objects.get(days=30).computed_at
    page = html(client_for(carol).get(reverse("desk:figures"), {"period": "30"}))
    assert "Figures as of" in page and "computed every 5 minutes" in page
    assert computed_at.astimezone(desk_zone()).strftime("%H:%M") in page


def test_the_rolling_page_costs_five_queries(client_for, carol, world, django_assert_num_queries):
    tasks.refresh_figures.apply()
    client = client_for(carol)
    # Session, user, "is a supervisor?", the snapshot, the unread badge.
    with django_assert_num_queries(5):
        assert client.get(reverse("desk:figures"), {"period": "90"}).status_code == 200


def test_a_snapshot_written_by_an_older_release_is_computed_afresh(world, settings):
    FiguresSnapshot.objects.create(days=30, computed_at=AFTER_T, data={"total": {"renamed_field": 1}})
    figures, as_of = rolling(30, now=AFTER_T + timedelta(minutes=1))
    assert (figures.total.made, as_of) == (9, AFTER_T + timedelta(minutes=1))
