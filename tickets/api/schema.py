"""The OpenAPI schema's extras: every operation documents the errors it can answer with, in the one format.

Written once here instead of on each view, so the schema cannot forget one (schemathesis checks that every
response the API gives is one the schema promises).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from tickets.api.fields import VerdictSerializer

DESCRIPTIONS = {
    "400": "The input is not valid: `fields` says what to fix.",
    "401": "Not signed in: send `Authorization: Bearer <token>` (or use a signed-in session).",
    "403": "Signed in, but not allowed to do this.",
    "404": "No such object, or not one you may see.",
    "409": "Refused by the object's state: a move it can't make, a promise sooner than the estimate (with the "
    "guard's `verdict`), something still in use.",
    "415": "The body is in a format the API does not read: send JSON (`Content-Type: application/json`).",
    "429": "Too many requests: wait and try again (see `Retry-After`).",
    "503": "Not taken for a moment (its rate limits cannot count): nothing was stored. See `Retry-After`.",
}


class ErrorDetail(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, for programs: invalid, not_found, overpromise, ...")
    message = serializers.CharField(help_text="For people.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Each input field at fault with its messages; nested fields by path (levels.1.team).",
    )
    verdict = VerdictSerializer(required=False, help_text="With code overpromise: what history says.")


class Error(serializers.Serializer):
    error = ErrorDetail()


class PromiseDeskSchema(AutoSchema):
    """Adds the error responses each operation can give. A 409 is named by the views that can answer one
    (``error_codes = {"POST": ("409",)}``): the ticket's actions and promise, deleting configuration in use."""

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)  # type: ignore[arg-type]
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(Error, code, direction=direction)
                responses[code]["description"] = DESCRIPTIONS[code]
        return responses

    def _error_codes(self) -> list[str]:
        view = self.view
        public = getattr(view, "public", False)
        takes_a_body = self.method in ("POST", "PUT", "PATCH")
        codes = ["400"] if takes_a_body or self._has_query_parameters() else []
        if takes_a_body:
            codes.append("415")
        if not public:
            codes += ["401", "403"]
        if "{" in self.path:
            codes.append("404")
        if public:
            codes.append("429")
        extra = getattr(view, "error_codes", ())
        if isinstance(extra, dict):  # per method: {"DELETE": ("409",)}
            extra = extra.get(self.method, ())
        return sorted(set(codes) | set(extra))

    def _has_query_parameters(self) -> bool:
        return any(parameter.get("in") == "query" for parameter in self._get_parameters())


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "tickets.api.access.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A personal API token (pd_...), created under API tokens in the desk; shown once.",
        }


class SessionScheme(OpenApiAuthenticationExtension):
    target_class = "tickets.api.access.SessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "The desk's session; writes also need the X-CSRFToken header.",
        }
