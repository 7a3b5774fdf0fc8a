"""What every desk page's header shows: the unread notification count (one indexed query), and whether the
viewer supervises (the dashboard and configuration links)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tickets.models import Notification, is_supervisor


def desk(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.is_staff:
        return {}
    return {
        "unread_notifications": Notification.objects.filter(recipient=user, read_at__isnull=True).count(),
        "is_supervisor": is_supervisor(user),
    }
