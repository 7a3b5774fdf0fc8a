"""How the API reads JSON bodies: a lone surrogate is a 400 (it is no character, and no UTF-8 text holds it),
while an emoji spelt as an escaped surrogate pair is the character it spells."""

from __future__ import annotations

from helpdesk.api.parsers import holds_a_lone_surrogate
from tests.api.conftest import error_of


def test_a_json_string_with_a_lone_surrogate_is_refused_but_an_escaped_emoji_is_a_character(api, alice, ticket):
    interactions = f"/api/v1/tickets/{ticket.reference}/interactions/"
    # A choice refused quotes the value: before, its answer could not be written (a 500).
    lone = api(alice).post(interactions, '{"kind": "\\ud800", "body": "x"}', content_type="application/json")
    assert lone.status_code == 400 and error_of(lone)["code"] == "parse_error"
    pair = api(alice).post(interactions, '{"kind": "note", "body": "\\ud83d\\ude00"}', content_type="application/json")
    assert pair.status_code == 201, pair.content
    assert ticket.interactions.get(kind="note").body == "\U0001f600"


def test_a_lone_surrogate_is_found_anywhere_in_the_body():
    assert holds_a_lone_surrogate({"a": [1, {"\udfff": None}]})
    assert holds_a_lone_surrogate([[[["x", "\ud800y"]]]])
    assert not holds_a_lone_surrogate({"a": ["\U0001f600", "café", 7, None, True]})


def test_a_body_in_a_format_the_api_does_not_read_is_a_documented_415(api, alice, ticket):
    interactions = f"/api/v1/tickets/{ticket.reference}/interactions/"
    plain = api(alice).post(interactions, "kind=note", content_type="text/plain")
    assert plain.status_code == 415 and error_of(plain)["code"] == "unsupported_media_type"
    schema = api(alice).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    documented = schema["paths"]["/api/v1/tickets/{reference}/interactions/"]["post"]["responses"]
    assert "415" in documented and "JSON" in documented["415"]["description"]
