"""Personal API tokens in the desk: made and named by their owner, shown once, stored as a digest, revoked
for good; a token opens the API as its owner until it is revoked or expires."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tests.desk.helpers import assert_sent_to_sign_in, html
from tickets.api.access import issue_token
from tickets.models import ApiToken
from tickets.views.tokens import MAX_LIVE_TOKENS

TOKENS = "/desk/tokens/"


def created_secret(response) -> str:
    match = re.search(r'id="new-token" value="(pd_[A-Za-z0-9_-]+)"', html(response))
    assert match, "the new token is shown"
    return match.group(1)


def calls_api(secret: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client.get("/api/v1/tickets/").status_code


def test_alice_creates_a_token_sees_it_once_and_it_opens_the_api_as_her(client_for, alice):
    browser = client_for(alice)
    # when alice creates a token for her CRM
    response = browser.post(TOKENS, {"name": "CRM sync", "lifetime": "90"})
    # then the page shows the secret, once, and is not cached
    assert response.status_code == 200
    secret = created_secret(response)
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    # and only a digest of it is stored, with its first characters to tell it apart
    token = ApiToken.objects.get(user=alice)
    assert (token.name, token.digest) == ("CRM sync", hashlib.sha256(secret.encode()).hexdigest())
    assert secret.startswith(token.prefix) and len(token.prefix) < 12
    assert timedelta(days=89) < token.expires_at - timezone.now() <= timedelta(days=90)
    # and coming back, the list names it but never shows the secret again
    page = html(browser.get(TOKENS))
    assert "CRM sync" in page and token.prefix in page and secret not in page
    # and the token works
    assert calls_api(secret) == 200


def test_revoking_a_token_stops_it_at_once(client_for, alice):
    token, secret = issue_token(user=alice, name="Phone system", days=None)
    assert calls_api(secret) == 200
    response = client_for(alice).post(reverse("desk:token-revoke", args=[token.pk]), follow=True)
    assert "Revoked “Phone system”" in html(response)
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert calls_api(secret) == 401


def test_revoking_twice_changes_nothing(client_for, alice):
    token, _ = issue_token(user=alice, name="Phone system", days=None)
    browser = client_for(alice)
    browser.post(reverse("desk:token-revoke", args=[token.pk]))
    first = ApiToken.objects.get(pk=token.pk).revoked_at
    browser.post(reverse("desk:token-revoke", args=[token.pk]))
    assert ApiToken.objects.get(pk=token.pk).revoked_at == first


def test_bob_cannot_see_or_revoke_alices_tokens(client_for, alice, bob):
    token, secret = issue_token(user=alice, name="Alice's ledger bot", days=None)
    assert "ledger bot" not in html(client_for(bob).get(TOKENS))
    assert client_for(bob).post(reverse("desk:token-revoke", args=[token.pk])).status_code == 404
    assert calls_api(secret) == 200


def test_an_expired_token_no_longer_opens_the_api(alice):
    _, secret = issue_token(user=alice, name="Old", days=1, now=timezone.now() - timedelta(days=2))
    assert calls_api(secret) == 401


def test_a_token_of_someone_who_left_no_longer_opens_the_api(alice):
    _, secret = issue_token(user=alice, name="CRM sync", days=None)
    alice.is_active = False
    alice.save()
    assert calls_api(secret) == 401


def test_a_token_of_someone_no_longer_staff_no_longer_opens_the_api(alice):
    _, secret = issue_token(user=alice, name="CRM sync", days=None)
    alice.is_staff = False
    alice.save()
    assert calls_api(secret) == 401


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "lifetime": "90"}, "Name the token after what will use it."),
        ({"name": "x" * 101, "lifetime": "90"}, "at most 100 characters"),
        ({"name": "CRM", "lifetime": "forever"}, "Choose when the token expires."),
    ],
)
def test_a_bad_token_form_explains_and_creates_nothing(client_for, alice, data, message):
    response = client_for(alice).post(TOKENS, data)
    assert response.status_code == 400
    assert message in html(response)
    assert not ApiToken.objects.exists()


def test_a_token_that_never_expires_has_no_expiry(client_for, alice):
    client_for(alice).post(TOKENS, {"name": "Forever", "lifetime": "never"})
    assert ApiToken.objects.get().expires_at is None


def test_there_is_a_limit_on_live_tokens(client_for, alice):
    for n in range(MAX_LIVE_TOKENS):
        issue_token(user=alice, name=f"t{n}", days=None)
    response = client_for(alice).post(TOKENS, {"name": "One more", "lifetime": "90"})
    assert response.status_code == 400
    assert "revoke one you no longer use first" in html(response)
    assert ApiToken.objects.count() == MAX_LIVE_TOKENS


def test_the_tokens_page_is_for_staff(client_for, eve):
    assert_sent_to_sign_in(client_for(None).get(TOKENS), TOKENS)
    assert client_for(eve).get(TOKENS).status_code == 403
    assert client_for(eve).post(TOKENS, {"name": "x", "lifetime": "90"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_last_used_is_noted_at_most_once_a_minute(alice):
    token, secret = issue_token(user=alice, name="CRM sync", days=None)
    calls_api(secret)
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    calls_api(secret)
    token.refresh_from_db()
    assert token.last_used_at == first


def test_expired_and_revoked_tokens_do_not_count_against_the_limit(client_for, alice):
    for n in range(MAX_LIVE_TOKENS):
        issue_token(user=alice, name=f"old {n}", days=1, now=timezone.now() - timedelta(days=2))
    response = client_for(alice).post(TOKENS, {"name": "A fresh one", "lifetime": "90"})
    assert response.status_code == 200
    assert ApiToken.objects.filter(name="A fresh one").exists()
