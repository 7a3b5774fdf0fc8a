"""The services' refusals about a ticket's state rather than the input, as 409s: a status move the
transitions table forbids, a promise sooner than the estimate (with the guard's verdict). Every other
error is ``helpdesk.api.errors.handle``'s to answer."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response

from helpdesk.api import errors
from tickets.api.fields import verdict_json
from tickets.promise_rules import Overpromise
from tickets.services import InvalidTransition


def handle(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's exception handler (settings' ``EXCEPTION_HANDLER``)."""
    if isinstance(exc, Overpromise):
        exc = errors.Conflict(errors.refusal(exc), code="overpromise", extra={"verdict": verdict_json(exc.verdict)})
    elif isinstance(exc, InvalidTransition):
        exc = errors.Conflict(errors.refusal(exc), code="invalid_transition")
    return errors.handle(exc, context)
