from django.urls import path

from tickets.views import desk, notifications

app_name = "desk"

urlpatterns = [
    path("", desk.queue, name="queue"),
    path("tabs/", desk.queue_tabs, name="queue-tabs"),
    path("tickets/<str:reference>/", desk.ticket_page, name="ticket"),
    path("tickets/<str:reference>/promise/check/", desk.promise_check, name="promise-check"),
    path("tickets/<str:reference>/files/<int:pk>/", desk.attachment, name="attachment"),
    path("tickets/<str:reference>/<slug:action>/", desk.ticket_action, name="action"),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/read-all/", notifications.notification_read_all, name="notifications-read-all"),
    path("notifications/<int:pk>/open/", notifications.notification_open, name="notification-open"),
]
