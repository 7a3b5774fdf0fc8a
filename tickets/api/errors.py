"""One error format for every API failure: ``{"error": {"code", "message", "fields"}}``.

``code`` is stable and meant for programs (``invalid``, ``not_authenticated``, ``permission_denied``,
``not_found``, ``conflict``, ``gone``, ``overpromise``, ``throttled``, ...); ``message`` is a sentence for people;
``fields`` maps each input field at fault to its messages (``{}`` when the fault is not in one field).
Nested fields are named by path: ``levels.1.team``.

Services refuse with Django's ``ValidationError``; the handler turns those into 400s with the services' own
words (so the desk and the API say the same thing), or 409s when the refusal is about the ticket's state
rather than the input: a status move the transitions table forbids, a promise sooner than the estimate.

Django's own error pages are here too (helpdesk/urls.py names them), each the site's page or, under /api/, the
error format; among them the 503 for a database that cannot be reached just now (``server_error``).
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from typing import Any

from django.core.exceptions import BadRequest
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from tickets.api.fields import verdict_json
from tickets.promise_rules import Overpromise
from tickets.services import InvalidTransition

GENERAL = "non_field_errors"  # DRF's and Django's key for a fault in no one field ("__all__" in Django)


class Conflict(exceptions.APIException):
    """The request is well formed, but the object's state refuses it (409)."""

    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"
    default_detail = "That conflicts with the current state of the object."

    def __init__(self, detail: Any = None, code: str = "conflict", extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail, code)
        self.error_code = code
        self.extra = extra or {}


class ServiceUnavailable(exceptions.APIException):
    """503 with ``Retry-After``: the request is fine, but something it needs cannot answer just now."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "unavailable"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(detail=message)
        self.wait = retry_after  # DRF's handler turns it into Retry-After


class TooManyRequests(exceptions.Throttled):
    """429 with our message as it is (DRF's own appends "Expected available in N seconds") and the wait in
    ``Retry-After``."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(wait=None, detail=message)
        self.wait = retry_after


class Gone(exceptions.APIException):
    """What was here was replaced or retired on purpose (410), unlike a 404's "never was"."""

    status_code = status.HTTP_410_GONE
    default_code = "gone"
    default_detail = "This was replaced or retired."


CODES = {
    status.HTTP_400_BAD_REQUEST: "invalid",
    status.HTTP_401_UNAUTHORIZED: "not_authenticated",
    status.HTTP_403_FORBIDDEN: "permission_denied",
    status.HTTP_404_NOT_FOUND: "not_found",
    status.HTTP_405_METHOD_NOT_ALLOWED: "method_not_allowed",
    status.HTTP_406_NOT_ACCEPTABLE: "not_acceptable",
    status.HTTP_409_CONFLICT: "conflict",
    status.HTTP_410_GONE: "gone",
    status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported_media_type",
    status.HTTP_429_TOO_MANY_REQUESTS: "throttled",
    status.HTTP_503_SERVICE_UNAVAILABLE: "unavailable",
}


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}, **extra}}


def handle(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's exception handler, in our format. Service refusals become 400 or 409 (see the module's doc)."""
    if isinstance(exc, DjangoValidationError):
        exc = from_service(exc)
    response = exception_handler(exc, context)
    if response is None:
        return None  # not an API error: a bug, which Django reports as a 500
    code = CODES.get(response.status_code, "error")
    if isinstance(exc, exceptions.APIException) and isinstance(exc.detail, dict | list):
        fields = flatten(exc.detail)
        general = fields.pop(GENERAL, [])
        message = " ".join(general) or summary(fields)
    else:
        detail = getattr(exc, "detail", None) or response.data.get("detail", "")
        fields, message = {}, NOT_SIGNED_IN if isinstance(exc, exceptions.NotAuthenticated) else str(detail)
        code = _specific_code(exc, code)
    if isinstance(exc, Conflict):
        code = exc.error_code
    response.data = error_body(code, message, fields, **getattr(exc, "extra", {}))
    return response


NOT_SIGNED_IN = (
    "Sign in first: send Authorization: Bearer <token>, with a personal API token created under API tokens "
    "in the desk (or call from a signed-in browser session)."
)


def _specific_code(exc: Exception, fallback: str) -> str:
    """A finer code where DRF knows one: an unknown or revoked token is ``authentication_failed``."""
    if isinstance(exc, exceptions.AuthenticationFailed):
        return "authentication_failed"
    if isinstance(exc, exceptions.ParseError):
        return "parse_error"
    return fallback


def from_service(error: DjangoValidationError) -> exceptions.APIException:
    """A service's refusal as an API error: the guard's with its verdict, a forbidden move as a conflict."""
    detail: Any = error.message_dict if hasattr(error, "error_dict") else error.messages
    if isinstance(detail, dict) and "__all__" in detail:
        detail[GENERAL] = detail.pop("__all__")
    if isinstance(error, Overpromise):
        return Conflict(detail, code="overpromise", extra={"verdict": verdict_json(error.verdict)})
    if isinstance(error, InvalidTransition):
        return Conflict(detail, code="invalid_transition")
    return exceptions.ValidationError(detail)


def flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"field.path": [messages]}."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = str(key) if not prefix or key == GENERAL else f"{prefix}.{key}"
            for path, messages in flatten(value, name).items():
                out.setdefault(path, []).extend(messages)
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix or GENERAL: [str(item) for item in detail]} if detail else {}
        out = {}
        for index, item in enumerate(detail):
            for path, messages in flatten(item, f"{prefix}.{index}" if prefix else str(index)).items():
                out.setdefault(path, []).extend(messages)
        return out
    return {prefix or GENERAL: [str(detail)]}


def summary(fields: dict[str, list[str]]) -> str:
    """One sentence for the message: the only fault as it is, or which fields need attention."""
    if not fields:
        return "The request was not valid."
    if len(fields) == 1:
        [(name, messages)] = fields.items()
        return f"{name}: {' '.join(messages)}"
    return f"{len(fields)} fields need attention: {', '.join(fields)}."


@csrf_exempt  # answers every method with the same 404; CSRF must not turn it into an HTML 403 first
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any address under /api/ that is not an endpoint: a 404 in the API's format, not the site's HTML page."""
    message = "There is no API endpoint at this address: see /api/docs/."
    if not request.path.endswith("/"):
        message = f"There is no API endpoint at this address; did you mean {request.path}/ (with the slash)?"
    return JsonResponse(error_body("not_found", message), status=404)


def _site_or_api(request: HttpRequest, api: tuple[int, str, str], site: Callable[[], HttpResponse]) -> HttpResponse:
    """Django's own error pages for the site; under /api/, the API's error format (the status, code, message)."""
    if request.path.startswith("/api/"):
        status, code, message = api
        return JsonResponse(error_body(code, message), status=status)
    return site()


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 400 handler (a request too large to read, a bad Host...), before any view could answer."""
    message = "The request could not be read: too large, or malformed. Bodies are limited to 5 MB."
    return _site_or_api(request, (400, "invalid", message), lambda: defaults.bad_request(request, exception))


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    message = str(exception) or "You may not do this."
    return _site_or_api(request, (403, "permission_denied", message),
                        lambda: defaults.permission_denied(request, exception))  # fmt: skip


def refused(request: HttpRequest, status: int, message: str) -> HttpResponse:
    """A request refused before any view read it (``helpdesk.input``): Django's 404 or 400 page for the site;
    under /api/, the error format with ``message``."""
    site = {
        404: lambda: defaults.page_not_found(request, Http404(message)),
        400: lambda: defaults.bad_request(request, BadRequest(message)),
    }[status]
    return _site_or_api(request, (status, CODES[status], message), site)


RETRY_AFTER = 5  # seconds: a database restart or failover is usually over by then
UNAVAILABLE = "We can't reach our records for a moment. Please try again in a few seconds."
UNAVAILABLE_PAGE = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Back in a moment</title></head>'
    f"<body><h1>Back in a moment</h1><p>{UNAVAILABLE}</p></body></html>"
)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 handler, which every exception nothing else caught reaches: a view's, and a middleware's
    (the session's, the user's), which no middleware's ``process_exception`` sees.

    A database that cannot be reached just now is not a bug: 503 with ``Retry-After``, a short page of its own
    (the site's templates read the database) and, under /api/, the error format with the code ``unavailable``.
    Anything else is a bug: a 500, under /api/ in the error format (logged as usual)."""
    if database_unavailable(sys.exc_info()[1]):
        response = _site_or_api(
            request, (503, "unavailable", UNAVAILABLE), lambda: HttpResponse(UNAVAILABLE_PAGE, status=503)
        )
        response["Retry-After"] = str(RETRY_AFTER)
        return response
    message = "Something went wrong on our side; it has been logged. Try again later."
    return _site_or_api(request, (500, "server_error", message), lambda: defaults.server_error(request))


def database_unavailable(error: BaseException | None) -> bool:
    """Whether ``error`` says the database cannot be reached or used just now, rather than that the code is wrong.

    1. ``InterfaceError``: the connection is closed already.
    2. ``OperationalError`` from PostgreSQL: refused, terminated, closed by the server, starting up or shutting
       down, too many connections, a statement cancelled, a deadlock. All pass with time; none is a bug.
    3. ``OperationalError`` from SQLite only when the database is locked: SQLite also calls a missing table or
       column operational, and those are bugs.
    """
    if isinstance(error, InterfaceError):
        return True
    if isinstance(error, OperationalError):
        cause = error.__cause__
        return "locked" in str(cause) if isinstance(cause, sqlite3.Error) else True
    return False
