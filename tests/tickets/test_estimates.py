"""The guard's estimates come from how long resolved tickets really took, computed in the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import TicketFactory
from tickets import promises, services, tasks
from tickets.models import Estimate, Priority

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def history(category, dave, alice, now):
    """Normal-priority tickets that took 1-5 h, one high-priority that took 10 h, one too old to count."""

    def resolved(took: timedelta, *, days_ago: int = 3, priority: int = Priority.NORMAL) -> None:
        opened = now - timedelta(days=days_ago)
        ticket = TicketFactory(customer=dave, category=category, priority=priority, now=opened)
        services.resolve(ticket, by=alice, summary="Done.", now=opened + took)

    for hours in (1, 2, 3, 4, 5):
        resolved(hours * H)
    resolved(10 * H, priority=Priority.HIGH)
    resolved(50 * H, days_ago=120)


def estimates() -> dict[int, tuple[timedelta, int]]:
    return {row.priority: (row.duration, row.sample_size) for row in Estimate.objects.all()}


def test_the_estimate_is_the_80th_percentile_per_priority_and_for_the_category(history, now):
    promises.refresh_estimates(now=now)

    assert estimates() == {
        Priority.NORMAL: (4 * H + timedelta(minutes=12), 5),  # 1..5 h: 4.2 h
        Priority.HIGH: (10 * H, 1),
        Estimate.ANY_PRIORITY: (5 * H, 6),  # 1..5 h and 10 h: the 80th percentile is 5 h
    }


def test_the_percentile_and_look_back_are_configurable(history, now, settings):
    settings.PROMISE_ESTIMATE_PERCENTILE = 0.5
    settings.PROMISE_ESTIMATE_LOOKBACK_DAYS = 200

    promises.refresh_estimates(now=now)

    # The 120-day-old 50 h ticket now counts: median of 1..5 h and 50 h is 3.5 h; with the 10 h one, 4 h.
    assert estimates()[Priority.NORMAL] == (3.5 * H, 6)
    assert estimates()[Estimate.ANY_PRIORITY] == (4 * H, 7)


def test_refreshing_twice_gives_the_same_table_and_drops_groups_without_history(history, category, now):
    Estimate.objects.create(
        category=category,
        priority=Priority.URGENT,
        duration=H,
        sample_size=9,
        percentile=0.8,
        computed_at=now - timedelta(days=1),
    )

    tasks.refresh_estimates()
    first = estimates()
    tasks.refresh_estimates()

    assert estimates() == first
    assert Priority.URGENT not in first


def test_the_guard_reads_the_refreshed_estimate(history, ticket, alice, now):
    promises.refresh_estimates(now=now)

    verdict = promises.judge(ticket, due_at=now + 2 * H, by=alice, now=now)

    assert (verdict.estimate, verdict.sample_size, verdict.basis) == (
        4 * H + timedelta(minutes=12),
        5,
        "category and priority",
    )
    assert verdict.sooner_than_estimate
