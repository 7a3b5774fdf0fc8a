"""A session cookie that no session key could be (``helpdesk.sessions``) is no session: the visitor is not
signed in, on the public pages and the desk alike. Before, one holding a NUL was a 500 on every page."""

from __future__ import annotations

import pytest
from django.test import Client

from helpdesk.sessions import SessionStore

# A NUL spelt in a cookie's quoted form passes any web server as plain ASCII; Django's cookie parser decodes it.
NUL_COOKIE = '"' + "\\000" * 32 + '"'


@pytest.mark.parametrize("cookie", [NUL_COOKIE, "a" * 41, "abcdefgh-IJKLMNO"])
def test_a_cookie_no_session_key_could_be_is_no_session(db, ticket, cookie):
    visitor = Client(raise_request_exception=False, headers={"cookie": f"sessionid={cookie}"})
    assert visitor.get("/").status_code == 200
    assert visitor.get(f"/status/{ticket.token}/").status_code == 200
    assert visitor.get("/desk/").status_code == 302  # to the sign-in page


def test_keys_django_makes_are_kept_and_others_are_not(db):
    store = SessionStore()
    store["seen"] = True
    store.save()
    assert SessionStore(store.session_key).load() == {"seen": True}
    for odd in ("\x00" * 32, "A" * 32, "a" * 41, "short"):
        assert SessionStore(odd).session_key is None, odd
