from django.urls import include, path

from tickets.views import configuration, desk, notifications, supervisor, tokens

app_name = "desk"

urlpatterns = [
    path("", desk.queue, name="queue"),
    path("tabs/", desk.queue_tabs, name="queue-tabs"),
    path("tickets/new/", desk.new_ticket, name="new-ticket"),
    path("tickets/<str:reference>/", desk.ticket_page, name="ticket"),
    path("tickets/<str:reference>/promise/check/", desk.promise_check, name="promise-check"),
    path("tickets/<str:reference>/reply/check/", desk.reply_check, name="reply-check"),
    path("tickets/<str:reference>/files/<int:pk>/", desk.attachment, name="attachment"),
    path("tickets/<str:reference>/<slug:action>/", desk.ticket_action, name="action"),
    path("promises/", supervisor.now, name="promises"),
    path("promises/figures/", supervisor.figures, name="figures"),
    path("promises/figures.csv", supervisor.figures_csv, name="figures-csv"),
    path("promises/figures/tickets/", supervisor.drill_down, name="drill-down"),
    path("promises/figures/tickets.csv", supervisor.drill_down_csv, name="drill-down-csv"),
    path("configuration/", include(configuration)),
    path("tokens/", tokens.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", tokens.revoke, name="token-revoke"),
    path("notifications/", notifications.notification_list, name="notifications"),
    path("notifications/read-all/", notifications.notification_read_all, name="notifications-read-all"),
    path("notifications/<int:pk>/open/", notifications.notification_open, name="notification-open"),
]
