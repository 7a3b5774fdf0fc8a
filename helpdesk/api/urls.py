"""The API's addresses: version 1 under /api/v1/, the OpenAPI schema and its browsable docs.

Each area keeps its routes beside its views; this file only gathers them. Anything else under /api/ is a
404 in the API's error format.
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from customers import api as customers
from customers import public_api
from helpdesk.api import errors
from tickets.api import configuration, notifications, supervision, tickets

app_name = "api"

v1 = [
    *tickets.urlpatterns,
    *customers.urlpatterns,
    *public_api.urlpatterns,
    *configuration.urlpatterns,
    *supervision.urlpatterns,
    *notifications.urlpatterns,
]

urlpatterns = [
    path("v1/", include(v1)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/swagger_ui.html"),
        name="docs",
    ),
    re_path(r"^.*$", errors.not_found),
]
