"""Top-level routes. Each area adds its own urls module as it arrives."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from helpdesk.health import healthz

admin.site.site_header = "Promise Desk administration"
admin.site.site_title = "Promise Desk"

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("desk/", include("tickets.urls")),
    path("admin/", admin.site.urls),
]
