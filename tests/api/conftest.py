"""API test helpers: a client per persona, signed in with a personal token (as an integration would be)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from tickets.api.access import issue_token


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


def error_of(response) -> dict:
    """The error object of a failed response, after checking it has the one error format."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message", "fields"} <= set(body["error"]), body
    assert body["error"]["message"], body
    return body["error"]
