"""Top-level routes. Each area adds its own urls module as it arrives."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from helpdesk.health import healthz
from tickets.views.access import staff_only

# Django's error pages, answered in the API's error format under /api/.
handler400 = "helpdesk.api.errors.bad_request"
handler403 = "helpdesk.api.errors.permission_denied"
handler500 = "helpdesk.api.errors.server_error"

admin.site.site_header = "Promise Desk administration"
admin.site.site_title = "Promise Desk"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Only the sign-in views the desk uses. There is deliberately no password reset by email (Django's mails
    # from the web worker, outside the outbox, and its timing tells staff addresses from others): an
    # administrator sets a new password in the admin's user page, or with `manage.py changepassword`.
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Changing a password is for staff, like every other signed-in page here.
    path("accounts/password_change/", staff_only(auth_views.PasswordChangeView.as_view()), name="password_change"),
    path(
        "accounts/password_change/done/",
        staff_only(auth_views.PasswordChangeDoneView.as_view()),
        name="password_change_done",
    ),
    path("desk/", include("tickets.urls")),
    path("api/", include("helpdesk.api.urls")),
    path("admin/", admin.site.urls),
    path("", include("customers.urls")),
]
