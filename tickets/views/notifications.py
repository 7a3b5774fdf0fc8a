"""The header's notifications: a list of one's own, marked read one by one or all at once."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from tickets.notifications import inbox, mark_all_read, mark_read
from tickets.views.access import StaffRequest, staff_only
from tickets.views.desk import PAGE_SIZE, redirect_after


@staff_only
@require_GET
def notification_list(request: StaffRequest) -> HttpResponse:
    notices = inbox(request.user).select_related("ticket__customer")[: PAGE_SIZE * 2]
    return render(request, "desk/notifications.html", {"notices": notices})


@staff_only
@require_POST
def notification_open(request: StaffRequest, pk: int) -> HttpResponse:
    """Mark it read and go to its ticket. Someone else's notification is a 404."""
    notice = get_object_or_404(inbox(request.user).select_related("ticket"), pk=pk)
    mark_read(notice.pk, recipient=request.user, now=timezone.now())
    return redirect_after(request, notice.ticket)


@staff_only
@require_POST
def notification_read_all(request: StaffRequest) -> HttpResponse:
    mark_all_read(recipient=request.user, now=timezone.now())
    return redirect("desk:notifications")
