"""Staff: their roles, which tickets they see, how they are named, and their API tokens."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from tickets.models.organisation import Team


class Role:
    """Staff roles are Django groups (created by a data migration)."""

    AGENTS = "Agents"
    SUPERVISORS = "Supervisors"


def is_supervisor(user: Any) -> bool:
    """Supervisors see and act on every ticket. Remembered on the user object for the request."""
    if not hasattr(user, "_is_supervisor"):
        user._is_supervisor = bool(
            user.is_authenticated and (user.is_superuser or user.groups.filter(name=Role.SUPERVISORS).exists())
        )
    return bool(user._is_supervisor)


def remember_supervisor(user: Any, *, in_group: bool) -> None:
    """Tell ``is_supervisor`` the answer a query of the caller's already gave (the API's token lookup)."""
    user._is_supervisor = bool(user.is_superuser or in_group)


def team_ids_of(user: Any) -> list[int]:
    """The ids of the teams ``user`` is in, in order. Remembered on the user object for the request."""
    if not hasattr(user, "_team_ids"):
        user._team_ids = list(team_ids_query(user.pk).values_list("team_id", flat=True))
    return list(user._team_ids)


def team_ids_query(user: Any) -> models.QuerySet[Any]:
    """The ids of the teams of ``user`` (an id, or an ``OuterRef`` to one), in order, as a query."""
    return Team.members.through.objects.filter(user=user).order_by("team_id").values("team_id")


def display_name(user: Any, *, nobody: str = "—") -> str:
    """A staff member as people call them: full name, else username; ``nobody`` when there is none."""
    if user is None:
        return nobody
    return name_of(first=user.first_name, last=user.last_name, username=user.username)


def name_of(*, first: str, last: str, username: str) -> str:
    """``display_name`` from the columns alone (for rows read without the user object)."""
    return f"{first} {last}".strip() or username


# --- API access ---------------------------------------------------------------------------------


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def live(self, now: Any) -> ApiTokenQuerySet:
        """Tokens neither revoked nor expired (``ApiToken.is_usable_at`` says the same of one token)."""
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now), revoked_at__isnull=True)

    def revoke(self, now: Any) -> int:
        """Revoke those not revoked yet (once: a second revoke keeps the first time); returns how many."""
        return self.filter(revoked_at__isnull=True).update(revoked_at=now)


class ApiToken(models.Model):
    """A personal API token: an integration acts as the staff member who created it, with their permissions.

    Only a SHA-256 digest of the secret is stored, so a copy of the database opens nothing; the secret is
    shown once, when the token is created. (A fast digest is enough: the secret is 256 random bits, not a
    password a person chose, so there is nothing to guess from it.) ``prefix`` is the first characters of
    the secret, shown in lists so people can tell their tokens apart.
    """

    PREFIX = "pd_"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What it is for, e.g. “CRM sync”.")
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="api_token_name_not_empty"),
            models.CheckConstraint(condition=Q(digest__regex=r"^[0-9a-f]{64}$"), name="api_token_digest_sha256"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…) of {self.user}"

    def is_usable_at(self, now: Any) -> bool:
        """Neither revoked nor expired (the token list shows it; ``opens_api_at`` also asks of its owner)."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def opens_api_at(self, now: Any) -> bool:
        """Whether the token still opens the API: usable, of an active staff member (``token_user`` asks)."""
        return self.is_usable_at(now) and self.user.is_active and self.user.is_staff
