"""The public doors while their rate limits cannot count (Redis, their store, down or full): the request form,
page and API, and the "email me my links" form pause with a 503 and store nothing; status links still open.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from drf_spectacular.generators import SchemaGenerator

from customers.models import Customer
from helpdesk.ratelimit import RETRY_WHEN_UNAVAILABLE_SECONDS
from tests.api.conftest import error_of
from tests.customers.test_pages import page, request_data
from tests.processes import free_port
from tickets.models import CustomerEmail, Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["full", "down"])
def redis_unavailable(request, settings) -> None:
    """The cache on a Redis that refuses writes (out of memory), or on an address where none listens."""
    if request.param == "full":
        location = request.getfixturevalue("full_redis").url(0)
    else:
        location = f"redis://127.0.0.1:{free_port()}/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": location,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }


def nothing_stored() -> bool:
    return not (Ticket.objects.exists() or Customer.objects.exists() or CustomerEmail.objects.exists())


def test_the_request_form_pauses_with_a_503_and_stores_nothing(client, category, redis_unavailable, caplog):
    response = client.post("/", request_data(category))

    assert response.status_code == 503
    assert int(response["Retry-After"]) == RETRY_WHEN_UNAVAILABLE_SECONDS
    assert "We cannot take new requests for a moment" in page(response)
    assert nothing_stored()
    assert "Rate limit request-ip not counted" in caplog.text and "fail closed" in caplog.text


def test_the_request_api_pauses_with_a_503_in_its_error_format_and_stores_nothing(api, category, redis_unavailable):
    response = api().post("/api/v1/requests/", request_data(category), format="json")

    assert response.status_code == 503
    assert int(response["Retry-After"]) == RETRY_WHEN_UNAVAILABLE_SECONDS
    error = error_of(response)
    assert error["code"] == "unavailable" and error["fields"] == {}
    assert error["message"].startswith("We cannot take new requests for a moment")
    assert nothing_stored()


def test_the_links_form_pauses_with_a_503_and_sends_nothing(client, ticket, redis_unavailable):
    before = CustomerEmail.objects.count()

    response = client.post(reverse("customers:links"), {"email": "dave@example.com"})

    assert response.status_code == 503 and int(response["Retry-After"]) > 0
    assert "We cannot send links for a moment" in page(response)
    assert CustomerEmail.objects.count() == before


def test_a_status_link_still_opens_its_page_and_its_api(client, api, ticket, redis_unavailable, caplog):
    assert client.get(reverse("customers:status", args=[ticket.token])).status_code == 200
    assert api().get(f"/api/v1/status/{ticket.token}/").json()["reference"] == ticket.reference
    assert "Rate limit status not counted" in caplog.text and "fail open" in caplog.text


def test_the_schema_documents_the_503_of_the_request_api():
    submit = SchemaGenerator().get_schema(request=None, public=True)["paths"]["/api/v1/requests/"]["post"]
    assert "503" in submit["responses"]
