"""The header's notifications: a list of one's own, marked read one by one or all at once."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from tickets.models import Notification
from tickets.views.access import StaffRequest, staff_only
from tickets.views.desk import PAGE_SIZE, redirect_after


@staff_only
@require_GET
def notification_list(request: StaffRequest) -> HttpResponse:
    notices = (
        Notification.objects.filter(recipient=request.user)
        .select_related("ticket__customer")
        .order_by("read_at", "-created_at")[: PAGE_SIZE * 2]
    )
    return render(request, "desk/notifications.html", {"notices": notices})


@staff_only
@require_POST
def notification_open(request: StaffRequest, pk: int) -> HttpResponse:
    """Mark it read and go to its ticket. Someone else's notification is a 404."""
    notice = get_object_or_404(Notification.objects.select_related("ticket"), pk=pk, recipient=request.user)
    Notification.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=timezone.now())
    return redirect_after(request, notice.ticket)


@staff_only
@require_POST
def notification_read_all(request: StaffRequest) -> HttpResponse:
    Notification.objects.filter(recipient=request.user, read_at__isnull=True).update(read_at=timezone.now())
    return redirect("desk:notifications")
