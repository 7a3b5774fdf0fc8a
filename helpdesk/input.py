"""Values in a request that the database cannot hold, or ``int()`` cannot read, refused where they arrive.

- ``RefuseNulMiddleware``: a NUL character in the path (404) or the query string (400), for every route.
- ``whole_number``: a number typed in a query string (a page, a page size, an id), or None.

Bodies are the forms' and serializers' to check: Django's form ``CharField`` and DRF's ``CharField`` refuse a
NUL themselves, and ``helpdesk.api.parsers.JSONParser`` refuses a lone surrogate (tests/security/
test_unstorable_values.py holds every form and API body to it).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from helpdesk.api import errors

NUL = "\x00"


class RefuseNulMiddleware:
    """A request whose path or query string holds a NUL is refused before any view reads it: 404 for the
    path (no address of ours has one), 400 for the query string, in the API's error format under /api/.

    Why at the door: PostgreSQL's text cannot hold a NUL, and psycopg refuses to send one with a ValueError,
    a 500 wherever a path parameter or a query value reaches a query (a status link's token, a ticket's
    reference, a search). No address or parameter of ours needs a NUL, so one check here answers for every
    route, the ones added later too, instead of one per view.

    It comes after the middleware that sets the security headers, so that its answers carry them, and before
    anything that reads the database with a request's values: the session and the user before it are only
    loaded when first used, in a view.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if NUL in request.path:
            return errors.refused(request, 404, "There is nothing at an address with a NUL character (%00) in it.")
        if any(NUL in name or any(NUL in value for value in values) for name, values in request.GET.lists()):
            return errors.refused(request, 400, "A query parameter holds a NUL character (%00): none takes one.")
        return self.get_response(request)


def whole_number(text: str | None, *, at_most: int = 2**63 - 1) -> int | None:
    """``text`` as a whole number from 0 to ``at_most`` (a bigint's largest by default), or None.

    ASCII digits only: ``str.isdigit`` also takes "²", which ``int()`` refuses with a ValueError (a 500 where a
    400 was meant). Text longer than ``at_most`` is None without ``int()`` reading it, which would also refuse
    more than 4,300 digits (leading zeros count too).
    """
    if not text or not (text.isascii() and text.isdecimal()) or len(text) > len(str(at_most)):
        return None
    number = int(text)
    return number if number <= at_most else None
