"""One's own notifications (``/api/v1/notifications/...``): the desk's header list, for integrations.

Only the caller's own, ever: someone else's notification is a 404, the same answer as one that does not
exist. Listing and marking go through ``tickets.notifications`` (``inbox``, ``mark_read``,
``mark_all_read``), the functions the desk's page calls, so both order and mark them the same way: each
mark is one conditional UPDATE, and marking twice keeps the first time it was read.
"""

from __future__ import annotations

from django.urls import path, reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from helpdesk.api.base import ApiView
from helpdesk.api.fields import QueryParameters
from helpdesk.api.pagination import NumberedPages
from tickets.models import Notification, NotificationEvent
from tickets.notifications import inbox, mark_all_read, mark_read


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    event = serializers.ChoiceField(choices=NotificationEvent.choices)
    message = serializers.CharField()
    ticket = serializers.CharField(source="ticket.reference", help_text="The ticket's reference, e.g. PD-1042.")
    ticket_url = serializers.SerializerMethodField(help_text="The ticket's page in the desk.")
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True, help_text="When it was first marked read; null: unread.")

    def get_ticket_url(self, notice: Notification) -> str:
        return reverse("desk:ticket", args=[notice.ticket.reference])


class NotificationFilters(QueryParameters):
    also_accepts = ("page", "page_size")  # numbered pages

    unread = serializers.BooleanField(
        required=False, allow_null=True, help_text="true: only the unread; false: only the read. Default: all."
    )


class NotificationList(ApiView):
    """Your own notifications, unread first, then the newest."""

    pagination_class = NumberedPages
    query_parameters = NotificationFilters

    @extend_schema(parameters=[NotificationFilters], responses=NotificationSerializer(many=True))
    def get(self, request: Request) -> Response:
        unread = self.query.validated_data.get("unread")
        notices = inbox(request.user).select_related("ticket")
        if unread is not None:
            notices = notices.filter(read_at__isnull=unread)
        page = self.paginate_queryset(notices)
        return self.get_paginated_response(NotificationSerializer(page, many=True).data)


class NotificationRead(ApiView):
    """Mark one of your notifications read (again is harmless: it keeps the first time)."""

    @extend_schema(request=None, responses=NotificationSerializer, summary="Mark a notification read")
    def post(self, request: Request, pk: int) -> Response:
        mark_read(pk, recipient=request.user, now=timezone.now())
        notice = inbox(request.user).select_related("ticket").filter(pk=pk).first()
        if notice is None:
            raise NotFound("There is no notification of yours with that id.")
        return Response(NotificationSerializer(notice).data)


Marked = inline_serializer("NotificationsMarked", {"marked": serializers.IntegerField(help_text="How many.")})


class NotificationReadAll(ApiView):
    """Mark all your unread notifications read; says how many were."""

    @extend_schema(request=None, responses=Marked, summary="Mark all notifications read")
    def post(self, request: Request) -> Response:
        return Response({"marked": mark_all_read(recipient=request.user, now=timezone.now())})


urlpatterns = [
    path("notifications/", NotificationList.as_view(), name="notifications"),
    path("notifications/read-all/", NotificationReadAll.as_view(), name="notifications-read-all"),
    path("notifications/<int:pk>/read/", NotificationRead.as_view(), name="notification-read"),
]
