"""Signing in and out, and changing one's password; there is no password reset by email."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth import urls as django_auth_urls
from django.urls import NoReverseMatch, reverse

from tests.desk.helpers import html
from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"  # the factories' password


def test_the_sign_in_page_is_ours(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert "registration/login.html" in [template.name for template in response.templates]
    assert "Sign in · Promise Desk" in html(response)


def test_a_wrong_password_is_refused_with_an_error_and_keeps_the_username(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password." in html(response)
    assert 'value="alice"' in html(response)
    assert SESSION_KEY not in client.session


def test_alice_signing_in_lands_on_the_queue(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("desk:queue")
    assert client.get(reverse("desk:queue")).status_code == 200


def test_signing_in_returns_to_the_page_asked_for(client, alice, ticket):
    wanted = reverse("desk:ticket", args=[ticket.reference])
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD, "next": wanted})
    assert response["Location"] == wanted


def test_signing_in_never_sends_to_another_site(client, alice):
    response = client.post(
        reverse("login"), {"username": "alice", "password": PASSWORD, "next": "https://evil.example.com/"}
    )
    assert response["Location"] == reverse("desk:queue")


def test_the_sign_in_page_remembers_where_to_go_next(client, ticket):
    wanted = reverse("desk:ticket", args=[ticket.reference])
    response = client.get(reverse("login"), {"next": wanted})
    assert f'name="next" value="{wanted}"' in html(response)


def test_signing_out_is_a_post_and_returns_to_sign_in(client_for, alice):
    client = client_for(alice)
    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert SESSION_KEY not in client.session
    assert client.get(reverse("desk:queue")).status_code == 302


def test_the_desk_header_signs_out_with_a_post_form(client_for, alice):
    page = html(client_for(alice).get(reverse("desk:queue")))
    assert f'<form method="post" action="{reverse("logout")}">' in page


def test_alice_changes_her_password(client_for, alice):
    client = client_for(alice)
    assert client.get(reverse("password_change")).status_code == 200
    new = "a much longer passphrase 2026"
    response = client.post(
        reverse("password_change"), {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    assert "Your password was changed." in html(client.get(response["Location"]))
    alice.refresh_from_db()
    assert alice.check_password(new)
    assert client.get(reverse("desk:queue")).status_code == 200  # still signed in


def test_a_wrong_old_password_keeps_the_password_and_says_why(client_for, alice):
    new = "a much longer passphrase 2026"
    response = client_for(alice).post(
        reverse("password_change"), {"old_password": "wrong", "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 200
    assert "Your old password was entered incorrectly." in html(response)
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


# --- No password reset by email: an administrator sets a new password --------------------------------------
# Django's reset flow mailed synchronously from the web worker, outside the outbox, and answered a staff
# address in seconds and an unknown one at once, telling anyone which addresses are staff. The desk routes
# only the sign-in views it uses; a forgotten password is reset by an administrator.

KEPT = {"login", "logout", "password_change", "password_change_done"}
RESET_ADDRESSES = [
    "/accounts/password_reset/",
    "/accounts/password_reset/done/",
    "/accounts/reset/MQ/set-password/",
    "/accounts/reset/MQ/c4k1a2-0123456789abcdef0123456789abcdef/",
    "/accounts/reset/done/",
]


def test_of_django_s_sign_in_routes_only_the_ones_the_desk_uses_exist():
    for name in {pattern.name for pattern in django_auth_urls.urlpatterns} - KEPT:
        with pytest.raises(NoReverseMatch):
            reverse(name, kwargs={"uidb64": "MQ", "token": "x"} if name == "password_reset_confirm" else None)
    for name in KEPT:
        assert reverse(name).startswith("/accounts/")


@pytest.mark.parametrize("address", RESET_ADDRESSES)
def test_every_password_reset_address_is_a_404_and_mails_nobody(client, alice, mailoutbox, address):
    assert client.get(address).status_code == 404
    assert client.post(address, {"email": alice.email}).status_code == 404
    assert mailoutbox == []


def test_the_sign_in_page_says_who_resets_a_forgotten_password(client):
    page = html(client.get(reverse("login")))
    assert "Forgot your password? Ask an administrator to set a new one" in page
    assert "password_reset" not in page and "/accounts/reset/" not in page


def test_an_administrator_sets_a_forgotten_password_in_the_admin(client_for, alice):
    administrator = UserFactory(username="root", is_staff=True, is_superuser=True)
    new = "a much longer passphrase 2026"
    form = reverse("admin:auth_user_password_change", args=[alice.pk])

    response = client_for(administrator).post(form, {"password1": new, "password2": new, "usable_password": "true"})

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(new)
