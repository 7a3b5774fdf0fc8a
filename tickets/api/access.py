"""Who is calling, and what they may do.

Sign-in: a personal token (``Authorization: Bearer pd_...``) or the browser's session (with its CSRF token
on writes). A token acts as the staff member who created it, with exactly their permissions.

Permissions: every endpoint is for active staff unless it says otherwise (the public ones opt out
explicitly); supervisors alone write configuration and read the figures. Which tickets anyone sees is not
decided here but by ``Ticket.objects.visible_to``, the desk's one gate: a ticket outside it is a 404.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import Group, User
from django.db.models import Exists, OuterRef
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request

from tickets.models import ApiToken, Role, is_supervisor, remember_supervisor

# How stale "last used" may get before a request writes it again: one write a minute, not one a request.
LAST_USED_PRECISION = timedelta(minutes=1)
TOKEN_LIFETIMES = {"30": "30 days", "90": "90 days", "365": "1 year", "never": "Never expires"}


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(*, user: User, name: str, days: int | None, now: datetime | None = None) -> tuple[ApiToken, str]:
    """Create a token and return it with its secret, which is never stored and can't be shown again."""
    now = now or timezone.now()
    secret = ApiToken.PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name.strip(),
        prefix=secret[: len(ApiToken.PREFIX) + 6],
        digest=digest(secret),
        created_at=now,
        expires_at=now + timedelta(days=days) if days else None,
    )
    return token, secret


def revoke_token(token: ApiToken, *, now: datetime | None = None) -> bool:
    """Revoke it for good; True if this call revoked it (a second revoke changes nothing)."""
    return bool(ApiToken.objects.filter(pk=token.pk).revoke(now or timezone.now()))


def token_user(secret: str, *, now: datetime) -> User | None:
    """The staff member a secret belongs to, if the token opens the API (``ApiToken.opens_api_at``); notes
    when it was last used. One query, which also answers ``is_supervisor`` (asked on every call).

    The query is the plainest there is, by the unique digest (no ordering, no conditions to compile): whether
    the token is usable, and whether "last used" is stale, are read off the row it returns.
    """
    found = list(
        ApiToken.objects.filter(digest=digest(secret))
        .select_related("user")
        .annotate(supervises=_SUPERVISES)
        .order_by()[:1]
    )
    if not found or not found[0].opens_api_at(now):
        return None
    token = found[0]
    remember_supervisor(token.user, in_group=token.supervises)
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_PRECISION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


# Whether a token's owner is a supervisor, as ``token_user`` reads it (built once: it never changes).
_SUPERVISES = Exists(Group.objects.filter(user=OuterRef("user_id"), name=Role.SUPERVISORS))


class TokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer <token>``. A wrong, revoked or expired token is a 401, never a guess at why."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[User, None] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _, secret = header.partition(" ")
        if keyword.lower() not in ("bearer", "token"):
            return None  # another scheme (Basic, ...): not ours, and the request stays anonymous
        secret = secret.strip()
        user = token_user(secret, now=timezone.now()) if secret.startswith(ApiToken.PREFIX) else None
        if user is None:
            raise exceptions.AuthenticationFailed(
                "That API token is not valid: it is wrong, revoked or expired. Create a new one under "
                "API tokens in the desk."
            )
        return user, None

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class SessionAuthentication(authentication.SessionAuthentication):
    """The desk's session, for scripts running in a signed-in browser; writes need the CSRF token."""


class IsStaff(permissions.BasePermission):
    message = "The API is for staff accounts: sign in as an agent or supervisor, or use their token."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active and user.is_staff)


class IsSupervisor(IsStaff):
    message = "Only supervisors may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return super().has_permission(request, view) and is_supervisor(request.user)


class SupervisorWrites(IsStaff):
    """Staff read; supervisors write (the configuration)."""

    message = "Only supervisors may change the configuration; agents may read it."

    def has_permission(self, request: Request, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        return request.method in permissions.SAFE_METHODS or is_supervisor(request.user)

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        return self.has_permission(request, view)
