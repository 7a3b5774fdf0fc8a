"""API test helpers (the ``api`` client fixture is in tests/conftest.py, for every folder)."""

from __future__ import annotations


def error_of(response) -> dict:
    """The error object of a failed response, after checking it has the one error format."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert {"code", "message", "fields"} <= set(body["error"]), body
    assert body["error"]["message"], body
    return body["error"]
