"""What every desk page's header shows: the unread notification count (one indexed query)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tickets.models import Notification


def desk(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {}
    return {"unread_notifications": Notification.objects.filter(recipient=user, read_at__isnull=True).count()}
