"""Staff sign-in is paused after repeated wrong passwords (django-axes), per username and address, until a
cool-off; the address is one a client cannot choose by writing a header."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client, RequestFactory
from django.utils import timezone

from helpdesk.clients import client_ip
from tests.factories import PASSWORD

SIGN_IN = "/accounts/login/"
ADMIN_SIGN_IN = "/admin/login/"
LIMIT = 5


def sign_in(client: Client, username: str, password: str, *, path: str = SIGN_IN, **headers: str):
    return client.post(path, {"username": username, "password": password}, **headers)


def signed_in(response) -> bool:
    return response.status_code == 302 and response.wsgi_request.user.is_authenticated


def fail(client: Client, username: str, times: int, **headers: str) -> None:
    for _ in range(times):
        response = sign_in(client, username, "wrong password", **headers)
        assert response.status_code == 200 and "Please enter a correct username and password" in response.text


def lock(client: Client, username: str) -> None:
    """Wrong passwords up to the limit: the last of them is already answered with the pause."""
    fail(client, username, LIMIT - 1)
    assert sign_in(client, username, "wrong password").status_code == 429


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)


def test_five_wrong_passwords_pause_that_username_from_that_address_even_for_the_right_one(alice):
    client = Client(REMOTE_ADDR="203.0.113.7")
    fail(client, "alice", LIMIT - 1)
    response = sign_in(client, "alice", "wrong password")  # the fifth
    assert response.status_code == 429
    response = sign_in(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert "signing in is paused for 15 minutes" in response.text
    assert response["Retry-After"] == str(15 * 60)
    assert not response.wsgi_request.user.is_authenticated


def test_the_pause_is_for_that_address_only_so_nobody_can_lock_a_colleague_out(alice):
    lock(Client(REMOTE_ADDR="203.0.113.7"), "alice")
    assert signed_in(sign_in(Client(REMOTE_ADDR="198.51.100.20"), "alice", PASSWORD))


def test_the_pause_ends_after_the_cool_off(alice):
    client = Client(REMOTE_ADDR="203.0.113.7")
    lock(client, "alice")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert signed_in(sign_in(client, "alice", PASSWORD))


def test_a_correct_sign_in_clears_the_count(alice):
    client = Client(REMOTE_ADDR="203.0.113.7")
    fail(client, "alice", LIMIT - 1)
    assert signed_in(sign_in(client, "alice", PASSWORD))
    client.logout()
    fail(client, "alice", LIMIT - 1)  # four more: not paused, the count started again
    assert signed_in(sign_in(client, "alice", PASSWORD))


def test_the_admin_sign_in_counts_and_pauses_the_same(carol):
    carol.is_superuser = True
    carol.save()
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(LIMIT - 1):
        assert sign_in(client, "carol", "wrong password", path=ADMIN_SIGN_IN).status_code == 200
    assert sign_in(client, "carol", "wrong password", path=ADMIN_SIGN_IN).status_code == 429
    assert sign_in(client, "carol", PASSWORD, path=ADMIN_SIGN_IN).status_code == 429


def test_without_a_proxy_a_forged_forwarded_for_changes_nothing(alice, settings):
    settings.TRUSTED_PROXIES = 0
    client = Client(REMOTE_ADDR="203.0.113.7")
    for n in range(LIMIT):  # a new made-up address on every try
        sign_in(client, "alice", "wrong password", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    response = sign_in(client, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}


def test_behind_one_proxy_the_address_it_saw_counts_and_what_the_client_wrote_does_not(alice, settings):
    settings.TRUSTED_PROXIES = 1
    proxy = Client(REMOTE_ADDR="10.0.0.2")  # every request arrives from the proxy
    for n in range(LIMIT):  # the client writes its own X-Forwarded-For; the proxy appends the real peer
        sign_in(proxy, "alice", "wrong password", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.7")
    response = sign_in(proxy, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.7")
    assert response.status_code == 429
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}
    # another client behind the same proxy is not paused
    assert signed_in(sign_in(proxy, "alice", PASSWORD, HTTP_X_FORWARDED_FOR="198.51.100.20"))


@pytest.mark.parametrize(
    ("proxies", "peer", "forwarded", "expected"),
    [
        (0, "203.0.113.7", "10.0.0.1", "203.0.113.7"),  # no proxy: the header is ignored
        (0, None, None, "unknown"),  # no peer address at all (an in-process request)
        (1, "10.0.0.2", "198.51.100.1, 203.0.113.7", "203.0.113.7"),  # the rightmost, added by our proxy
        (2, "10.0.0.3", "198.51.100.1, 203.0.113.7, 10.0.0.2", "203.0.113.7"),  # two proxies
        (1, "10.0.0.2", None, "10.0.0.2"),  # reached without the proxy: the peer
        (2, "10.0.0.3", "203.0.113.7", "10.0.0.3"),  # fewer entries than proxies: the peer
        (1, "10.0.0.2", "198.51.100.1, not-an-address", "10.0.0.2"),  # garbage: the peer
        (1, "10.0.0.2", "2001:db8::1", "2001:db8::1"),  # IPv6
        (1, "10.0.0.2", "::ffff:203.0.113.7", "203.0.113.7"),  # IPv4 written as IPv6: the same client
    ],
)
def test_client_ip(settings, proxies, peer, forwarded, expected):
    settings.TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/")
    del request.META["REMOTE_ADDR"]
    if peer:
        request.META["REMOTE_ADDR"] = peer
    if forwarded:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    assert client_ip(request) == expected


def test_the_lockout_page_shows_no_inline_code_and_says_what_to_do(alice):
    client = Client(REMOTE_ADDR="203.0.113.7")
    lock(client, "alice")
    response = sign_in(client, "alice", PASSWORD)
    assert "Sign-in paused" in response.text and "Your colleagues can still sign in" in response.text
    assert "Content-Security-Policy" in response.headers
