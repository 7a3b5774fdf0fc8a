"""Sessions in the database, as Django keeps them, but for a cookie no session key could be.

Django reads any session cookie of eight characters or more as a key and looks it up. One holding a NUL
(which a cookie can spell in its quoted form, ``"\\000..."``, past any web server) made that lookup a
ValueError in psycopg: a 500 on every page, the public ones too. A key Django made is 32 lowercase letters and
digits, and the column holds 40, so a cookie of anything else is no session, as a too-short one already is:
the visitor is simply not signed in.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS

KEY_CHARACTERS = frozenset(VALID_KEY_CHARS)
KEY_COLUMN_LENGTH = 40  # django_session.session_key


class SessionStore(db.SessionStore):
    def _validate_session_key(self, key: Any) -> bool:
        return bool(
            super()._validate_session_key(key)  # type: ignore[misc]  # Django's, not in its stubs
            and len(key) <= KEY_COLUMN_LENGTH
            and KEY_CHARACTERS.issuperset(key)
        )
