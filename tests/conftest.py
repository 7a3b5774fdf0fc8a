"""Personas and the world they work in, so tests read like sentences.

alice works the Billing team (level 1 of the standard path), bob the Technical team (level 2),
carol supervises everyone; dave is a customer; eve is a signed-in user who is not staff at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import (
    CategoryFactory,
    CustomerFactory,
    EscalationPathFactory,
    StaffFactory,
    TeamFactory,
    TicketFactory,
    UserFactory,
)
from tests.processes import PrivateRedis
from tickets.api.access import issue_token
from tickets.models import Role


@pytest.fixture(autouse=True, scope="session")
def _real_postgresql(django_db_setup, django_db_blocker):
    """The suite runs against the real PostgreSQL: constraints and triggers are part of what it tests."""
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            pytest.exit(
                "The tests need PostgreSQL: run them with `make test`, or set DATABASE_URL=postgres://...",
                returncode=3,
            )


@pytest.fixture
def now():
    """The moment a test starts, for tests that pass the time to what they call."""
    return timezone.now()


@pytest.fixture
def billing(db):
    return TeamFactory(name="Billing")


@pytest.fixture
def technical(db):
    return TeamFactory(name="Technical")


@pytest.fixture
def standard_path(billing, technical):
    return EscalationPathFactory(name="Standard", teams=[billing, technical])


@pytest.fixture
def category(standard_path):
    return CategoryFactory(name="Billing question", escalation_path=standard_path)


@pytest.fixture
def alice(billing):
    return StaffFactory(username="alice", first_name="Alice", teams=[billing])


@pytest.fixture
def bob(technical):
    return StaffFactory(username="bob", first_name="Bob", teams=[technical])


@pytest.fixture
def carol(db):
    return StaffFactory(username="carol", first_name="Carol", role=Role.SUPERVISORS)


@pytest.fixture
def eve(db):
    return UserFactory(username="eve", first_name="Eve")


@pytest.fixture
def dave(db):
    return CustomerFactory(name="Dave Jones", email="dave@example.com")


@pytest.fixture
def ticket(dave, category):
    return TicketFactory(customer=dave, category=category, subject="I was charged twice")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Real hashing is deliberately slow; tests only need passwords to round-trip."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate-limit counters live in the cache (Redis under make test): each test starts with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(scope="session")
def full_redis(tmp_path_factory) -> Iterator[PrivateRedis]:
    """A Redis of the tests' own that refuses writes ("OOM command not allowed when used memory >
    'maxmemory'"), as a production Redis with maxmemory and noeviction does once full. Never the machine's."""
    own = PrivateRedis(tmp_path_factory.mktemp("full-redis"), maxmemory="4mb")
    own.start()
    own.fill()
    yield own
    own.kill()


@pytest.fixture
def client_for(db) -> Callable[[User | None], Client]:
    """``client_for(alice)``: a browser signed in as alice; ``client_for(None)``: an anonymous one."""

    def sign_in(user: User | None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return sign_in


@pytest.fixture
def api() -> Callable[..., APIClient]:
    """``api(alice)`` is a client calling as alice with a fresh token of hers; ``api()`` is anonymous."""

    def client(user=None) -> APIClient:
        caller = APIClient()
        if user is not None:
            _, secret = issue_token(user=user, name="tests", days=None)
            caller.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return caller

    return client


@pytest.fixture
def queries(django_assert_max_num_queries):
    """``queries(client, url, at_most=n)``: how many queries one GET costs, asserting it is at most ``n``."""

    def measure(client, target, *, at_most):
        with django_assert_max_num_queries(at_most), CaptureQueriesContext(connection) as captured:
            response = client.get(target)
        assert response.status_code == 200
        return len(captured)

    return measure
