"""Top-level routes. Each area adds its own urls module as it arrives."""

from django.contrib import admin
from django.contrib.auth.views import PasswordChangeView
from django.urls import include, path

from helpdesk.health import healthz
from tickets.views.access import staff_only

# Django's error pages, answered in the API's error format under /api/.
handler400 = "tickets.api.errors.bad_request"
handler403 = "tickets.api.errors.permission_denied"
handler500 = "tickets.api.errors.server_error"

admin.site.site_header = "Promise Desk administration"
admin.site.site_title = "Promise Desk"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # Changing a password is for staff, like every other signed-in page here.
    path("accounts/password_change/", staff_only(PasswordChangeView.as_view()), name="password_change"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("desk/", include("tickets.urls")),
    path("api/", include("tickets.api.urls")),
    path("admin/", admin.site.urls),
    path("", include("customers.urls")),
]
