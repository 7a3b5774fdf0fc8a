"""Who may open which desk page: every desk view starts with one of these decorators.

``staff_only``: signed-in staff (agents and supervisors). ``supervisor_only``: supervisors and admins,
for the promise dashboard and the configuration pages. Anonymous visitors go to sign in; signed-in
people without the role get a 403 that says why.
"""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.http import url_has_allowed_host_and_scheme

from tickets.models import is_supervisor


class StaffRequest(HttpRequest):
    """A request that ``staff_only`` let through: its user is a signed-in staff member."""

    user: User


def staff_only(view: Any) -> Any:
    """Signed-in staff only: anonymous visitors go to sign in, other signed-in users are refused."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_staff:
            raise PermissionDenied("This area is for staff.")
        return view(request, *args, **kwargs)

    return wrapper


def supervisor_only(view: Any) -> Any:
    """Supervisors and admins only; agents are refused with a 403."""

    @staff_only
    @wraps(view)
    def wrapper(request: StaffRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_supervisor(request.user):
            raise PermissionDenied("This page is for supervisors.")
        return view(request, *args, **kwargs)

    return wrapper


def safe_next(request: HttpRequest) -> str | None:
    """The ``next`` a form carried, if it points back into this site (never an open redirect)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None
