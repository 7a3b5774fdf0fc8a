"""The token lookup every API request starts with: one query, held here to the model's own rule,
``ApiToken.objects.usable``, token by token."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from tests.factories import StaffFactory, TeamFactory, UserFactory
from tickets.api.access import LAST_USED_PRECISION, issue_token, revoke_token, token_user
from tickets.models import ApiToken, Role, Team, is_supervisor, team_ids_of


@pytest.fixture
def now(db):
    return timezone.now()


def tokens_of_every_kind(now) -> dict[str, str]:
    """A secret for each way a token can be (un)usable."""
    agent = StaffFactory(username="agent")
    secrets = {}
    _, secrets["live"] = issue_token(user=agent, name="live", days=None, now=now)
    _, secrets["expires later"] = issue_token(user=agent, name="later", days=1, now=now)
    _, secrets["expired"] = issue_token(user=agent, name="expired", days=1, now=now - timedelta(days=1))
    _, secrets["expires this instant"] = issue_token(user=agent, name="edge", days=1, now=now - timedelta(days=1))
    ApiToken.objects.filter(name="edge").update(expires_at=now)
    revoked, secrets["revoked"] = issue_token(user=agent, name="revoked", days=None, now=now)
    revoke_token(revoked, now=now)
    _, secrets["owner left"] = issue_token(user=StaffFactory(username="left", is_active=False), name="x", days=None)
    _, secrets["owner not staff"] = issue_token(user=UserFactory(username="customer"), name="x", days=None)
    _, secrets["supervisor"] = issue_token(
        user=StaffFactory(username="sup", role=Role.SUPERVISORS), name="x", days=None, now=now
    )
    _, secrets["superuser"] = issue_token(user=StaffFactory(username="root", is_superuser=True), name="x", days=None)
    return secrets


def test_the_lookup_opens_exactly_the_tokens_the_model_says_open_the_api(now):
    secrets = tokens_of_every_kind(now)
    usable = {token.user.username for token in ApiToken.objects.select_related("user") if token.opens_api_at(now)}
    for kind, secret in secrets.items():
        user = token_user(secret, now=now)
        owner = ApiToken.objects.select_related("user").get(prefix=secret[:9]).user
        if kind in ("live", "expires later", "supervisor", "superuser"):
            assert user == owner, kind
            assert owner.username in usable
        else:
            assert user is None, kind
    assert token_user("pd_not-a-token", now=now) is None


def test_the_user_comes_whole_with_the_supervisor_check_answered(now, django_assert_num_queries):
    secrets = tokens_of_every_kind(now)
    teams = sorted([TeamFactory(name="Billing").pk, TeamFactory(name="Technical").pk])
    Team.members.through.objects.bulk_create(
        Team.members.through(team_id=team, user=User.objects.get(username="agent")) for team in teams
    )
    ApiToken.objects.update(last_used_at=now)  # no "last used" write in the way
    with django_assert_num_queries(2):  # one query a lookup
        supervisor = token_user(secrets["supervisor"], now=now)
        agent = token_user(secrets["live"], now=now)
    assert supervisor is not None and agent is not None
    with django_assert_num_queries(0):
        assert is_supervisor(supervisor) is True
        assert is_supervisor(agent) is False
    assert team_ids_of(agent) == teams
    assert team_ids_of(supervisor) == []
    assert agent.username == "agent" and agent.is_staff and agent.is_active and agent.date_joined.tzinfo is not None


def test_last_used_is_written_when_it_is_older_than_a_minute(now):
    token, secret = issue_token(user=StaffFactory(username="agent"), name="x", days=None, now=now)
    token_user(secret, now=now)
    token.refresh_from_db()
    assert token.last_used_at == now
    token_user(secret, now=now + LAST_USED_PRECISION)  # not older than a minute: no write
    token.refresh_from_db()
    assert token.last_used_at == now
    later = now + LAST_USED_PRECISION + timedelta(seconds=1)
    token_user(secret, now=later)
    token.refresh_from_db()
    assert token.last_used_at == later
