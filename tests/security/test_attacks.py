"""Attacks on the running system: a real server (pytest-django's live server) asked over HTTP, as an attacker
would, with CSRF enforced and nothing stubbed.

Every attack must get a clear 4xx or an inert rendering, and nothing stored may be lost: each test counts the
tickets, log entries and customers before and after. Covered: another team's ticket by reference and by id on
every page and endpoint; guessed tokens; script in every text field, read back in pages, JSON, CSV and
emails; mass assignment; CSRF; open redirects; header injection through names and emails; oversized and
malformed input.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
import requests
from django.core import mail
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from customers.models import Customer
from tests.factories import PASSWORD, CategoryFactory, EscalationPathFactory, TicketFactory
from tickets.action_forms import ACTIONS
from tickets.api.access import issue_token
from tickets.customer_emails import send_pending
from tickets.models import Interaction, Notification, Ticket

pytestmark = [pytest.mark.django_db(transaction=True)]

# Runs if it is ever rendered as markup: a script element, an event handler, a javascript: link.
PAYLOAD = '"><script>window.pwned=1</script><img src=x onerror="window.pwned=1"><a href="javascript:pwned()">x</a>'
RAW_MARKERS = ("<script>window.pwned", "<img src=x onerror", '<a href="javascript:')


class Visitor:
    """A client with cookies, as a browser is: it fetches the CSRF token a page hands out, follows no
    redirects (the tests look at them), and never disables a check."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.base + path, allow_redirects=False, timeout=15, **kwargs)

    def post(self, path: str, data=None, *, csrf: bool = True, **kwargs) -> requests.Response:
        if csrf:
            data = {**(data or {}), "csrfmiddlewaretoken": self.csrf_token()}
        return self.http.post(self.base + path, data=data, allow_redirects=False, timeout=15, **kwargs)

    def csrf_token(self) -> str:
        if "csrftoken" not in self.http.cookies:
            self.get("/accounts/login/")
        return self.http.cookies["csrftoken"]

    def sign_in(self, username: str) -> Visitor:
        response = self.post("/accounts/login/", {"username": username, "password": PASSWORD})
        assert response.status_code == 302, response.text[:500]
        return self


def stored() -> tuple[int, int, int, int]:
    """What must never shrink (or change unasked): tickets, log entries, customers, notifications."""
    return Ticket.objects.count(), Interaction.objects.count(), Customer.objects.count(), Notification.objects.count()


@pytest.fixture
def site(live_server) -> str:
    return live_server.url


@pytest.fixture
def theirs(dave, technical, bob):
    """A ticket of the Technical team (bob's), with a file: what alice (Billing) must never reach."""
    path = EscalationPathFactory(name="Technical first", teams=[technical])
    ticket = TicketFactory(customer=dave, category=CategoryFactory(name="Outage", escalation_path=path))
    return ticket


@pytest.fixture
def attacker(site, alice) -> Visitor:
    return Visitor(site).sign_in("alice")


def desk_paths_for(reference: str) -> Iterator[tuple[str, str]]:
    """Every desk address that names a ticket, with the method it answers: read from the URL patterns, so a
    new one is attacked as soon as it exists."""

    def routes(patterns: list, prefix: str) -> Iterator[str]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from routes(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern)

    desk = next(p for p in get_resolver().url_patterns if isinstance(p, URLResolver) and p.namespace == "desk")
    for route in routes(desk.url_patterns, "/desk/"):
        if "<str:reference>" not in route:
            continue
        route = route.replace("<str:reference>", reference).replace("<int:pk>", "1")
        if "<slug:action>" in route:
            for action in ACTIONS:
                yield "POST", route.replace("<slug:action>", action)
        elif route.endswith("/reply/check/"):  # the reply being typed is posted (too long for a query string)
            yield "POST", route
        else:
            yield "GET", route


# --- Another team's ticket ----------------------------------------------------------------------------


def test_another_teams_ticket_is_a_404_on_every_desk_page_and_action(attacker, theirs):
    before = stored()
    reached = []
    for method, path in desk_paths_for(theirs.reference):
        response = attacker.get(path) if method == "GET" else attacker.post(path, {"body": PAYLOAD})
        if response.status_code != 404:
            reached.append((method, path, response.status_code))
    assert not reached, reached
    assert len(list(desk_paths_for(theirs.reference))) >= 14  # the page, the check, a file, eleven actions
    assert stored() == before


def test_another_teams_ticket_is_a_404_on_every_api_endpoint_that_names_one(site, alice, theirs):
    _, secret = issue_token(user=alice, name="attack", days=None)
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {secret}"
    schema = requests.get(f"{site}/api/schema/?format=json", timeout=15).json()
    before = stored()
    reached, tried = [], 0
    for route, operations in schema["paths"].items():
        if "{reference}" not in route:
            continue
        for method in operations:
            if method not in ("get", "post", "patch", "put", "delete"):
                continue
            url = site + route.replace("{reference}", theirs.reference).replace("{pk}", "1")
            response = api.request(method, url, json={"body": PAYLOAD}, timeout=15)
            tried += 1
            if response.status_code != 404 or response.json()["error"]["code"] != "not_found":
                reached.append((method, route, response.status_code))
    assert not reached, reached
    assert tried >= 12
    assert stored() == before


def test_the_same_ticket_by_its_id_or_a_neighbouring_reference_is_no_different(attacker, theirs, ticket):
    """References are the id plus 1000: alice's own ticket's neighbours are as closed to her as any other."""
    mine = ticket.reference
    assert attacker.get(f"/desk/tickets/{mine}/").status_code == 200
    for guess in (theirs.reference, theirs.reference.lower(), f"PD-{theirs.pk + 1000:06d}", str(theirs.pk)):
        assert attacker.get(f"/desk/tickets/{guess}/").status_code == 404, guess


def test_someone_elses_notification_and_token_are_404s(attacker, site, carol, bob, ticket):
    token, _ = issue_token(user=bob, name="bob's", days=None)
    note = Notification.objects.create(
        recipient=carol,
        ticket=ticket,
        event="at_risk",
        dedupe_key="attack",
        message="At risk",
        created_at=timezone.now(),
    )
    assert attacker.post(f"/desk/notifications/{note.pk}/open/").status_code == 404
    assert attacker.post(f"/desk/tokens/{token.pk}/revoke/").status_code == 404
    token.refresh_from_db()
    note.refresh_from_db()
    assert token.revoked_at is None and note.read_at is None


# --- Guessing tokens ------------------------------------------------------------------------------------


def test_guessed_api_tokens_all_get_the_same_401(site, alice):
    _, real = issue_token(user=alice, name="real", days=None)
    near_miss = real[:-1] + ("B" if real.endswith("A") else "A")  # one character off (1 in 64 ends with "A")
    answers = set()
    for guess in [f"pd_{secrets.token_urlsafe(32)}" for _ in range(20)] + [near_miss, "pd_", "Bearer"]:
        response = requests.get(f"{site}/api/v1/tickets/", headers={"Authorization": f"Bearer {guess}"}, timeout=15)
        assert response.status_code == 401
        answers.add(response.text)
    assert len(answers) == 1  # nothing tells a near miss from a wild guess


def test_guessing_status_links_finds_nothing_and_is_slowed_down(site, ticket, settings):
    visitor = Visitor(site)
    # The limit counts per clock minute: twice the limit and one more fill one minute past it, even when the
    # guesses straddle a minute's end.
    guesses = 2 * settings.STATUS_VIEWS_PER_IP_PER_MINUTE + 1
    statuses = [visitor.get(f"/status/{secrets.token_urlsafe(24)}/").status_code for _ in range(guesses)]
    assert set(statuses) <= {404, 429} and statuses[0] == 404
    assert 429 in statuses, "the per-minute limit on status links slows guessing"


# --- Script in every text field -------------------------------------------------------------------------


@pytest.fixture
def poisoned(site, category, alice):
    """A request whose every field a customer types holds the payload (the file's name too), a staff note
    with it, and a customer reply with it."""
    visitor = Visitor(site)
    visitor.get("/")
    response = visitor.post(
        "/",
        {
            "name": f"Mallory {PAYLOAD}",
            "email": "mallory@example.com",
            "phone": "",
            "category": category.pk,
            "subject": f"Help {PAYLOAD}",
            "description": f"Body {PAYLOAD}",
            "submission_key": "8d6e1c1e-5d0e-4f6c-9f5e-0d7f2a9b1c3d",
        },
        files={"attachments": (f"{PAYLOAD}.txt", b"plain text", "text/plain")},
    )
    assert response.status_code == 302, response.text[:1000]
    ticket = Ticket.objects.get()
    status_link = response.headers["Location"]
    staff = Visitor(site).sign_in("alice")
    staff.get(f"/desk/tickets/{ticket.reference}/")
    assert staff.post(f"/desk/tickets/{ticket.reference}/note/", {"body": f"Note {PAYLOAD}"}).status_code == 302
    return ticket, staff, visitor, status_link


def assert_inert_html(name: str, html: str) -> None:
    for marker in RAW_MARKERS:
        assert marker not in html, f"{name}: the payload is live markup ({marker!r})"


def test_script_typed_anywhere_is_shown_as_text_on_every_page_that_shows_it(poisoned, site, carol):
    ticket, alice, customer, status_link = poisoned
    supervisor = Visitor(site).sign_in("carol")
    pages = {
        "queue": alice.get("/desk/"),
        "ticket page": alice.get(f"/desk/tickets/{ticket.reference}/"),
        "search": alice.get("/desk/", params={"q": "Mallory"}),
        "confirmation page": customer.get(status_link.replace(site, "")),
        "customer status page": customer.get(f"/status/{ticket.token}/"),
        "supervisor's now view": supervisor.get("/desk/promises/"),
        "drill-down": supervisor.get("/desk/promises/figures/tickets/", params={"figure": "made"}),
    }
    for name, response in pages.items():
        assert response.status_code == 200, (name, response.status_code)
        assert_inert_html(name, response.text)
    for name in ("queue", "ticket page", "search", "customer status page"):  # these show it, as text
        assert "&lt;script&gt;window.pwned" in pages[name].text, name


def test_script_typed_anywhere_stays_a_string_in_json_and_text_in_csv(poisoned, site, alice, carol):
    ticket, *_ = poisoned
    _, secret = issue_token(user=alice, name="read", days=None)
    headers = {"Authorization": f"Bearer {secret}"}
    answer = requests.get(f"{site}/api/v1/tickets/{ticket.reference}/", headers=headers, timeout=15)
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.json()["subject"] == f"Help {PAYLOAD}"  # the data, unchanged, as a JSON string
    log = requests.get(f"{site}/api/v1/tickets/{ticket.reference}/interactions/", headers=headers, timeout=15)
    files = [item["name"] for entry in log.json()["results"] for item in entry["attachments"]]
    assert files and all("/" not in name for name in files)
    csv_rows = Visitor(site).sign_in("carol").get("/desk/promises/figures/tickets.csv", params={"figure": "made"})
    assert csv_rows.status_code == 200 and csv_rows.headers["Content-Type"].startswith("text/csv")


def test_script_typed_anywhere_is_escaped_in_every_email(poisoned):
    send_pending(now=timezone.now())  # the outbox, as the worker drains it
    assert mail.outbox, "the request was acknowledged by email"
    for message in mail.outbox:
        assert "\n" not in message.subject and "\r" not in message.subject
        for content, kind in getattr(message, "alternatives", []):
            if kind == "text/html":
                for marker in RAW_MARKERS:
                    assert marker not in content, f"{message.subject}: live markup in the HTML part"


# --- Mass assignment ------------------------------------------------------------------------------------


def test_the_public_form_ignores_fields_a_customer_may_not_set(site, category, alice):
    visitor = Visitor(site)
    visitor.get("/")
    response = visitor.post(
        "/",
        {
            "name": "Ann", "email": "ann@example.com", "category": category.pk, "subject": "Hi",
            "description": "Help", "submission_key": "0b3f8f1e-1d2c-4e5f-8a9b-0c1d2e3f4a5b",
            "status": "resolved", "assignee": alice.pk, "priority": "4", "team": "1", "promise_due_at": "2020-01-01",
        },
    )  # fmt: skip
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert (ticket.status, ticket.assignee_id, ticket.promise_due_at) == ("new", None, None)
    assert ticket.priority == Ticket._meta.get_field("priority").default


# --- CSRF -----------------------------------------------------------------------------------------------


def test_a_signed_in_agents_browser_cannot_be_made_to_act_from_another_site(attacker, ticket):
    before = stored()
    forged = attacker.post(f"/desk/tickets/{ticket.reference}/note/", {"body": "forged"}, csrf=False)
    assert forged.status_code == 403
    wrong = attacker.post(
        f"/desk/tickets/{ticket.reference}/note/", {"body": "forged", "csrfmiddlewaretoken": "x" * 64}, csrf=False
    )
    assert wrong.status_code == 403
    session_api = attacker.http.post(
        f"{attacker.base}/api/v1/tickets/{ticket.reference}/interactions/",
        json={"kind": "note", "body": "forged"},
        timeout=15,
    )
    assert session_api.status_code == 403
    assert session_api.json()["error"]["message"]
    assert stored() == before


def test_the_public_form_needs_its_csrf_token(site, category):
    visitor = Visitor(site)
    visitor.get("/")
    response = visitor.post("/", {"name": "Ann", "email": "a@example.com", "category": category.pk}, csrf=False)
    assert response.status_code == 403
    assert not Ticket.objects.exists()


# --- Open redirects -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    ["https://evil.example.com/", "//evil.example.com/", "/\\evil.example.com/", "javascript:alert(1)",
     "http:evil.example.com", " https://evil.example.com"],
)  # fmt: skip
def test_no_redirect_leaves_the_site(site, alice, ticket, target):
    visitor = Visitor(site)
    response = visitor.post("/accounts/login/", {"username": "alice", "password": PASSWORD, "next": target})
    assert response.status_code == 302
    assert_on_site(response.headers["Location"], site)
    response = visitor.post(f"/desk/tickets/{ticket.reference}/note/", {"body": "fine", "next": target})
    assert response.status_code == 302
    assert_on_site(response.headers["Location"], site)


def assert_on_site(location: str, site: str) -> None:
    assert (location.startswith("/") and not location.startswith(("//", "/\\"))) or location.startswith(site), location


# --- Header injection -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Ann\r\nBcc: victim@example.com"),
        ("name", "Ann\nSubject: hacked"),
        ("email", "ann@example.com\r\nBcc: victim@example.com"),
        ("email", "ann@example.com%0d%0aBcc:victim@example.com"),
        ("subject", "Hi\r\nBcc: victim@example.com"),
    ],
)
def test_a_line_break_in_a_name_email_or_subject_is_refused_and_no_mail_goes_out(site, category, field, value):
    visitor = Visitor(site)
    visitor.get("/")
    data = {
        "name": "Ann", "email": "ann@example.com", "category": category.pk, "subject": "Hi", "description": "Help",
        "submission_key": "1b3f8f1e-1d2c-4e5f-8a9b-0c1d2e3f4a5b", field: value,
    }  # fmt: skip
    response = visitor.post("/", data)
    assert response.status_code == 400
    assert "is-invalid" in response.text
    assert not Ticket.objects.exists() and not mail.outbox
    api = requests.post(f"{site}/api/v1/requests/", json={**data, "category": category.pk}, timeout=15)
    assert api.status_code == 400 and field in api.json()["error"]["fields"]
    assert not Ticket.objects.exists() and not mail.outbox


# --- Oversized and malformed input ----------------------------------------------------------------------


def test_oversized_and_malformed_input_gets_a_clear_4xx_and_breaks_nothing(site, attacker, alice, ticket):
    before = stored()
    _, secret = issue_token(user=alice, name="fuzz", days=None)
    api = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
    interactions = f"{site}/api/v1/tickets/{ticket.reference}/interactions/"

    def error(response: requests.Response, *statuses: int) -> dict:
        assert response.status_code in statuses, (response.status_code, response.text[:300])
        return response.json()["error"]

    # a body larger than the server takes
    huge = requests.post(interactions, data=b"{" + b" " * (6 * 1024 * 1024) + b"}", headers=api, timeout=30)
    assert error(huge, 400, 413)["message"]
    # not JSON, JSON of the wrong shape, JSON nested deeper than any parser should follow, bad UTF-8
    for body in (b"{not json", b'["a list"]', b"[" * 100_000 + b"]" * 100_000, b'{"body": "\xff\xfe"}', b""):
        assert error(requests.post(interactions, data=body, headers=api, timeout=30), 400)["message"]
    # a field far longer than allowed, a number where text goes, a null
    for payload in ({"kind": "note", "body": "x" * 100_001}, {"kind": 7, "body": []}, {"kind": None}):
        assert error(requests.post(interactions, json=payload, headers=api, timeout=15), 400)["fields"]
    # a query string no list takes, and one far too long
    assert error(requests.get(f"{site}/api/v1/tickets/?page_size=1e9", headers=api, timeout=15), 400)["fields"]
    assert requests.get(f"{site}/api/v1/tickets/?q={'x' * 20_000}", headers=api, timeout=15).status_code in (400, 414)
    # the desk's forms: bad UTF-8, a far too long subject on the public form
    note = attacker.post(f"/desk/tickets/{ticket.reference}/note/", {"body": "x" * 100_001})
    assert note.status_code == 400 and "is-invalid" in note.text
    assert stored() == before
    assert Ticket.objects.get(pk=ticket.pk).subject == ticket.subject


def test_the_public_form_refuses_oversized_and_malformed_input_with_a_message(site, category):
    visitor = Visitor(site)
    visitor.get("/")
    base = {
        "name": "Ann", "email": "ann@example.com", "category": category.pk, "subject": "Hi", "description": "Help",
        "submission_key": "2b3f8f1e-1d2c-4e5f-8a9b-0c1d2e3f4a5b",
    }  # fmt: skip
    for changes in ({"subject": "x" * 201}, {"description": "x" * 10_001}, {"category": "999999"}, {"email": "nope"}):
        response = visitor.post("/", {**base, **changes})
        assert response.status_code == 400 and "is-invalid" in response.text, changes
    too_big = visitor.post("/", base, files={"attachments": ("big.txt", b"x" * (11 * 1024 * 1024), "text/plain")})
    assert too_big.status_code in (400, 413)
    assert not Ticket.objects.exists()
