"""Values the database cannot hold, on every route: a NUL character (PostgreSQL's text refuses it, and psycopg
raises before sending the query), numbers beyond its integer columns, digits ``int()`` cannot read, values
far longer than any column, lone surrogates in JSON.

Every URL pattern is read from the resolver, and every API operation's parameters and body from the schema, so
a route added later is attacked as soon as it exists. Each is asked as anonymous, an agent and a supervisor,
GET and POST, in-process with ``raise_request_exception=False`` so that a 500 is seen as a 500:

- a NUL in each path parameter: 404, in the API's error format under /api/;
- a NUL in a query parameter's name or value: 400, likewise;
- numbers out of range and long values in every path parameter, and odd values in every query parameter a
  page or endpoint reads: never a 5xx;
- NULs and odd values in every field of every form and API body: never a 5xx. Django's forms and DRF's
  CharFields refuse a NUL themselves; these tests prove it rather than assume it;
- a session cookie holding a NUL: no session, on every route.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from tests.api.conftest import error_of
from tests.security.test_headers import assert_strict
from tickets.api.access import issue_token
from tickets.models import SweepHeartbeat
from tickets.sweep import HEARTBEAT

pytestmark = [pytest.mark.django_db(transaction=True)]

NUL = "\x00"
BEYOND_BIGINT = "99999999999999999999"
LONG = "x" * 3000  # longer than any column, shorter than a proxy's request line
# In a path parameter: a number no integer column holds, and a value longer than any column.
PATH_VALUES = [BEYOND_BIGINT, LONG]
# In a query parameter: numbers out of range either way and for a 32-bit id, a digit int() can't read, more
# digits than int() reads, a long value.
QUERY_VALUES = [BEYOND_BIGINT, "-" + BEYOND_BIGINT, "2147483648", "²", "9" * 5000, LONG]
# In a form field (a file's name too) or a JSON body.
BODY_VALUES: list[Any] = [NUL, f"a{NUL}b", BEYOND_BIGINT, "²"]
JSON_VALUES: list[Any] = [NUL, "\ud800", int(BEYOND_BIGINT), -int(BEYOND_BIGINT), "²"]
# Names the views read from the query string themselves, besides their forms' fields.
READ_DIRECTLY = ["page", "page_size", "cursor", "view", "by", "next", "fold", "q"]

PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")
# A regular-expression route can't be filled in by its parameters' names: an example of each (a new one fails
# ``test_every_route_can_be_attacked`` until it has one here).
REGEX_EXAMPLES = {
    r"^.*$": "nowhere/",
    r"^(?P<app_label>auth|axes|customers|tickets)/$": "tickets/",
    r"(?P<url>.*)$": "nowhere/",
}

Segment = RoutePattern | RegexPattern
Route = tuple[Segment, ...]
Slot = tuple[int, str]  # (the segment, the parameter's name; "" for a whole regular-expression segment)


def every_route() -> list[Route]:
    def walk(patterns: list, above: Route) -> Iterator[Route]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, (*above, pattern.pattern))
            else:
                yield (*above, pattern.pattern)

    return list(walk(get_resolver().url_patterns, ()))


def slots(route: Route) -> list[Slot]:
    found: list[Slot] = []
    for index, segment in enumerate(route):
        if isinstance(segment, RegexPattern):
            found.append((index, ""))
        else:
            found += [(index, name) for name in PARAMETER.findall(str(segment))]
    return found


def address(route: Route, real: Mapping[str, str], instead: Mapping[Slot, str] | None = None) -> str:
    """The route's address with real values in its parameters, but for the slots given ``instead``."""
    instead = instead or {}
    parts = []
    for index, segment in enumerate(route):
        if isinstance(segment, RegexPattern):
            parts.append(quote(instead.get((index, ""), REGEX_EXAMPLES[str(segment)]), safe="/"))
        else:
            fill = lambda m, at=index: quote(instead.get((at, m[1]), real.get(m[1], "1")), safe="")  # noqa: E731
            parts.append(PARAMETER.sub(fill, str(segment)))
    return "/" + "".join(parts)


def form_field_names() -> list[str]:
    """Every field of every form of ours and of Django's sign-in pages: what any page might read."""

    def subclasses(cls: type) -> Iterator[type]:
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = ("customers.", "tickets.", "helpdesk.", "django.contrib.auth.")
    names = {
        name
        for form in subclasses(forms.BaseForm)
        if form.__module__.startswith(ours)
        for name in getattr(form, "base_fields", {})
    }
    return sorted(names | set(READ_DIRECTLY))


def api_operations() -> dict[str, dict[str, Any]]:
    """The schema's operations by path (``/api/v1/tickets/{reference}/``), with its components for $refs."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {"paths": schema["paths"], "components": schema.get("components", {}).get("schemas", {})}


def body_from(schema: dict[str, Any], components: dict[str, Any], value: Any, depth: int = 0) -> Any:
    """A body of the schema's shape whose every leaf is ``value``."""
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    if depth < 4 and (schema.get("type") == "object" or "properties" in schema):
        return {name: body_from(sub, components, value, depth + 1) for name, sub in schema["properties"].items()}
    if depth < 4 and schema.get("type") == "array":
        return [body_from(schema.get("items", {}), components, value, depth + 1)]
    return value


def api_template(route: Route) -> str:
    """The schema's path for an API route (``/api/v1/tickets/{reference}/``)."""
    return PARAMETER.sub(lambda m: "{" + m[1] + "}", "/" + "".join(str(s) for s in route))


@pytest.fixture
def world(ticket, alice, carol, settings) -> dict[str, Any]:
    """alice's ticket, its status link, a healthy sweeper (so /healthz may answer 200), and limits high
    enough that every request reaches its view."""
    settings.STATUS_VIEWS_PER_IP_PER_MINUTE = settings.REQUESTS_PER_IP_PER_HOUR = 10**6
    settings.REQUESTS_PER_EMAIL_PER_HOUR = 10**6
    SweepHeartbeat.objects.create(name=HEARTBEAT, last_run_at=timezone.now())
    return {"reference": ticket.reference, "token": ticket.token, "action": "note", "uidb64": "MQ"}


@pytest.fixture(params=["anonymous", "agent", "supervisor"])
def caller(request, alice, carol) -> Client:
    """A browser, signed in (and holding an API token) as the persona, or anonymous."""
    user = {"anonymous": None, "agent": alice, "supervisor": carol}[request.param]
    if user is None:
        return Client(raise_request_exception=False)
    _, secret = issue_token(user=user, name="attack", days=None)
    client = Client(raise_request_exception=False, headers={"authorization": f"Bearer {secret}"})
    client.force_login(user)
    return client


def refusal(response: Any, path: str, status: int) -> str | None:
    """What is wrong with a refusal of a NUL: the status, or its format (the API's under /api/)."""
    if response.status_code != status:
        return f"{response.status_code}"
    if path.startswith("/api/"):
        error = error_of(response)
        return None if error["code"] == {404: "not_found", 400: "invalid"}[status] else f"code {error['code']}"
    return None if response["Content-Type"].startswith("text/html") else response["Content-Type"]


# --- The issue's own addresses, and what a refusal looks like -------------------------------------------


def test_a_nul_in_a_status_link_is_a_404_not_a_500(world):
    customer = Client(raise_request_exception=False)
    for path in ("/status/%00/", "/received/%00/", f"/status/{world['token']}%00/reply/"):
        response = customer.get(path)
        assert response.status_code == 404, path
        assert_strict(response.headers)  # the site's headers: the refusal comes from inside their middleware
    api = customer.get("/api/v1/status/%00/")
    assert api.status_code == 404 and error_of(api)["code"] == "not_found"


def test_a_nul_in_the_query_string_is_a_400_saying_so(world, caller):
    page = caller.get("/desk/", {"q": NUL})
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")
    assert_strict(page.headers)
    api = caller.get("/api/v1/tickets/", {"q": f"PD{NUL}"})
    assert api.status_code == 400
    assert "NUL" in error_of(api)["message"] and error_of(api)["code"] == "invalid"


# --- Every route --------------------------------------------------------------------------------------


def test_every_route_can_be_attacked():
    routes = every_route()
    assert len(routes) > 60
    for route in routes:
        address(route, {})  # a regular-expression route without an example raises KeyError


def test_a_nul_in_any_path_parameter_is_a_404_on_every_route(world, caller):
    wrong = []
    for route in every_route():
        for slot in slots(route):
            for value in (f"{world.get(slot[1], '1')}{NUL}", NUL):
                path = address(route, world, {slot: value})
                for method in ("GET", "POST"):
                    problem = refusal(caller.generic(method, path), path, 404)
                    if problem:
                        wrong.append((method, path, problem))
    assert not wrong, wrong


def test_numbers_out_of_range_and_long_values_in_a_path_are_never_a_5xx(world, caller):
    failed = []
    for route in every_route():
        every = slots(route)
        for value in PATH_VALUES if every else []:
            path = address(route, world, dict.fromkeys(every, value))
            for method in ("GET", "POST"):
                status = caller.generic(method, path).status_code
                if status >= 500:
                    failed.append((method, path[:120], status))
    assert not failed, failed


def test_a_nul_in_a_query_parameter_is_a_400_on_every_route(world, caller):
    wrong = []
    for route in every_route():
        path = address(route, world)
        for query, method in [("q=%00", "GET"), ("x%00=1", "GET"), ("page=1%002", "POST")]:
            problem = refusal(caller.generic(method, f"{path}?{query}"), path, 400)
            if problem:
                wrong.append((method, f"{path}?{query}", problem))
    assert not wrong, wrong


def test_odd_values_in_every_query_parameter_are_never_a_5xx(world, caller):
    """Every name a page reads (its forms' fields and the few it reads itself) or an endpoint takes (from the
    schema: the API refuses a name it does not take, which would hide the others), all at once."""
    site_names, api = form_field_names(), api_operations()
    failed = []
    for route in every_route():
        path = address(route, world)
        if path.startswith("/api/v1/"):
            operation = api["paths"].get(api_template(route), {}).get("get", {})
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
        else:
            names = site_names
        for value in QUERY_VALUES if names else []:
            response = caller.get(f"{path}?{urlencode(dict.fromkeys(names, value))}")
            if response.status_code >= 500:
                failed.append((path, value[:20], response.status_code))
    assert not failed, failed


def test_nul_and_odd_values_in_every_form_field_are_refused_by_the_forms(world, caller):
    names = form_field_names()
    failed = []
    for route in every_route():
        path = address(route, world)
        if path.startswith("/api/"):
            continue
        for value in BODY_VALUES:
            data = {**dict.fromkeys(names, value), "attachments": SimpleUploadedFile(f"{value}.txt", b"Hello.")}
            response = caller.post(path, data)
            if response.status_code >= 500:
                failed.append((path, value, response.status_code))
    assert not failed, failed


def test_nul_and_odd_values_in_every_api_body_are_refused_by_the_serializers(world, caller):
    api = api_operations()
    failed, tried = [], 0
    for route in every_route():
        path = address(route, world)
        operations = api["paths"].get(api_template(route), {}) if path.startswith("/api/v1/") else {}
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            shape = content.get("application/json", {}).get("schema")
            if shape is None:
                continue
            for value in JSON_VALUES:
                body = json.dumps(body_from(shape, api["components"], value))
                response = caller.generic(method.upper(), path, body, content_type="application/json")
                tried += 1
                if response.status_code >= 500:
                    failed.append((method, path, value, response.status_code))
    assert not failed, failed
    assert tried >= 12 * len(JSON_VALUES)


def test_a_session_cookie_no_session_key_could_be_is_no_session_on_every_route(world):
    """A cookie can spell a NUL in its quoted form (``"\\000"``), past any web server."""
    failed = []
    for cookie in ('"' + "\\000" * 32 + '"', "a" * 41, "abcdefgh-IJKLMNO"):
        visitor = Client(raise_request_exception=False, headers={"cookie": f"sessionid={cookie}"})
        for route in every_route():
            path = address(route, world)
            status = visitor.get(path).status_code
            if status >= 500:
                failed.append((cookie[:12], path, status))
        assert visitor.get("/").status_code == 200
        assert visitor.get("/desk/").status_code == 302  # to the sign-in page: not signed in
    assert not failed, failed
