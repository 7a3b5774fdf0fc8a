"""Periodic work does not depend on clocks agreeing (issue #17, point 11): beat's schedule has no expiry, a
refresh that piled up is skipped by the database's clock, and a task dropped unrun is said out loud."""

from __future__ import annotations

import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.utils import timezone

from helpdesk.celery import _say_a_task_was_dropped
from tickets import tasks
from tickets.models import FiguresSnapshot

pytestmark = pytest.mark.django_db


def test_no_periodic_task_expires():
    # An expiry is a moment on beat's clock, judged by the worker on its own: with beat five minutes behind,
    # every sweep was discarded as expired and nothing was breached.
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert "expires" not in entry.get("options", {}), name


def test_a_figures_refresh_delivered_twice_computes_once():
    first = tasks.refresh_figures()
    again = tasks.refresh_figures()  # the same task again (a second beat, or runs piled up while workers were away)

    assert set(first) == {7, 30, 90}
    assert again == {}
    assert FiguresSnapshot.objects.count() == 3


def test_estimates_refreshed_a_moment_ago_are_not_refreshed_again(category, monkeypatch):
    runs = []
    monkeypatch.setattr(tasks, "refresh_estimates_at", lambda *, now: runs.append(now) or 0)
    category.estimates.create(priority=0, duration=timedelta(hours=3), sample_size=9, percentile=0.8,
                              computed_at=timezone.now())  # fmt: skip

    assert tasks.refresh_estimates() == 0
    assert runs == []


def test_a_task_dropped_unrun_is_logged_as_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="helpdesk.celery"):
        _say_a_task_was_dropped(request=SimpleNamespace(name="tickets.tasks.sweep_promises"), expired=True)

    assert "Dropped tickets.tasks.sweep_promises unrun: it had expired." in caplog.text


def test_one_period_recomputed_a_moment_ago_does_not_keep_the_others_stale():
    old = timezone.now() - timedelta(hours=1)
    FiguresSnapshot.objects.create(days=7, computed_at=timezone.now(), data={})  # a page just recomputed it
    FiguresSnapshot.objects.create(days=30, computed_at=old, data={})

    assert set(tasks.refresh_figures()) == {7, 30, 90}
