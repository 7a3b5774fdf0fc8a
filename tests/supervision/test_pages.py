"""The figures pages, their drill-downs and CSV: who may see them, what they say, what bad input gets."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.desk.helpers import assert_sent_to_sign_in, html, promised
from tests.factories import CustomerFactory, TicketFactory, UserFactory
from tests.supervision.conftest import H, T, promise
from tickets import services

pytestmark = pytest.mark.django_db

# Dates around the fixed world (T is 4 November 2026): A to F are in, G (40 days earlier) is not.
AROUND_T = {"period": "dates", "start": "2026-10-20", "end": "2026-11-20"}

SUPERVISOR_PAGES = {
    "now": (reverse("desk:promises"), {}),
    "figures": (reverse("desk:figures"), {}),
    "figures-csv": (reverse("desk:figures-csv"), {}),
    "drill-down": (reverse("desk:drill-down"), {"figure": "made"}),
    "drill-down-calibration": (reverse("desk:drill-down"), {"figure": "kept", "guard": "followed"}),
    "drill-down-csv": (reverse("desk:drill-down-csv"), {"figure": "made"}),
}


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


# --- Who may see them ----------------------------------------------------------------------------


@pytest.mark.parametrize("page", SUPERVISOR_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(client_for, page):
    url, query = SUPERVISOR_PAGES[page]
    response = client_for(None).get(url, query)
    assert_sent_to_sign_in(response, f"{url}?{urlencode(query)}" if query else url)


@pytest.mark.parametrize("page", SUPERVISOR_PAGES)
def test_agents_and_customers_accounts_are_refused(client_for, alice, eve, page):
    url, query = SUPERVISOR_PAGES[page]
    assert client_for(alice).get(url, query).status_code == 403  # an agent
    assert client_for(eve).get(url, query).status_code == 403  # signed in, not staff


@pytest.mark.parametrize("page", SUPERVISOR_PAGES)
def test_supervisors_and_admins_may(client_for, carol, page):
    url, query = SUPERVISOR_PAGES[page]
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    assert client_for(carol).get(url, query).status_code == 200
    assert client_for(admin).get(url, query).status_code == 200


@pytest.mark.parametrize("page", SUPERVISOR_PAGES)
def test_they_only_answer_get(client_for, carol, page):
    url, _ = SUPERVISOR_PAGES[page]
    assert client_for(carol).post(url).status_code == 405


def test_only_supervisors_see_the_dashboard_links(client_for, alice, carol):
    assert reverse("desk:figures") not in html(client_for(alice).get(reverse("desk:queue")))
    assert reverse("desk:figures") in html(client_for(carol).get(reverse("desk:queue")))


# --- What they say -------------------------------------------------------------------------------


def test_the_figures_page_shows_the_hand_computed_figures(client_for, carol, world, alice):
    page = html(client_for(carol).get(reverse("desk:figures"), AROUND_T))

    assert 'data-total="made">9<' in page
    assert 'data-total="kept_rate">57%<' in page  # 4 of 7 settled
    assert 'data-total="slack">1 h 30 min early<' in page
    assert 'data-total="rating">3.7 / 5<' in page
    assert f'data-row="agent:{alice.pk}"' in page
    assert "50%" in page and "15 min early" in page  # alice: kept 3 of 6; median slack +15 min


def test_every_figure_links_to_the_tickets_behind_it(client_for, carol, world, alice):
    query = {**AROUND_T, "figure": "broken", "agent": alice.pk}
    response = client_for(carol).get(reverse("desk:drill-down"), query)

    page = html(response)
    for name in ("B", "D", "F"):
        assert world[name].reference in page
    assert world["A"].reference not in page
    assert "1 h late" in page and "4 h late" in page  # B2 and F2 an hour late; D against bob's resolution
    assert "Broken" in page and "Alice" in page


def test_the_first_response_and_rating_drill_downs_list_their_own_rows(client_for, carol, world, bob):
    client = client_for(carol)
    responses = html(client.get(reverse("desk:drill-down"), {**AROUND_T, "figure": "first_response", "agent": bob.pk}))
    assert world["D"].reference in responses and "8 h" in responses

    ratings = html(client.get(reverse("desk:drill-down"), {**AROUND_T, "figure": "rating"}))
    assert "Slow to explain." in ratings and "Bob" in ratings


def test_the_figures_csv_has_a_line_for_everyone_each_team_and_each_agent(client_for, carol, world):
    response = client_for(carol).get(reverse("desk:figures-csv"), AROUND_T)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="promise-figures-')
    rows = csv_rows(response)
    header, everyone = rows[0], rows[1]
    assert header[:5] == ["Scope", "Name", "Promises made", "Kept", "Broken"]
    named = dict(zip(header, everyone, strict=True))
    assert (named["Promises made"], named["Kept rate (%)"], named["Median slack (hours)"]) == ("9", "57.1", "1.5")
    assert {row[0] for row in rows[2:]} == {"team", "agent"}


def test_the_drill_down_csv_lists_the_same_rows(client_for, carol, world):
    query = {**AROUND_T, "figure": "kept"}
    rows = csv_rows(client_for(carol).get(reverse("desk:drill-down-csv"), query))
    assert rows[0][:3] == ["Ticket", "Customer", "Subject"]
    assert sorted(row[0] for row in rows[1:]) == sorted(world[n].reference for n in ("A", "C", "D", "F"))


def test_csv_cells_cannot_become_spreadsheet_formulas(client_for, carol, category, alice):
    sly = CustomerFactory(name='=HYPERLINK("http://evil.example.com","Click")', email="sly@example.com")
    ticket = TicketFactory(customer=sly, category=category, subject="+SUM(A1:A9)", now=T)
    promise(ticket, alice, at=T, hours=6)
    services.resolve(ticket, by=alice, summary="Done.", now=T + H)
    services.rate(ticket, rating=1, comment="@cmd|' /C calc'!A0", now=T + 2 * H)

    client = client_for(carol)
    kept = csv_rows(client.get(reverse("desk:drill-down-csv"), {**AROUND_T, "figure": "kept"}))[1]
    rated = csv_rows(client.get(reverse("desk:drill-down-csv"), {**AROUND_T, "figure": "rating"}))[1]

    assert kept[1] == '\'=HYPERLINK("http://evil.example.com","Click")'
    assert kept[2] == "'+SUM(A1:A9)"
    assert rated[-1] == "'@cmd|' /C calc'!A0"
    assert kept[9] == "5.0"  # numbers stay numbers: 5 hours of slack, no apostrophe


def test_a_long_drill_down_pages(client_for, carol, category, alice):
    for i in range(55):
        promise(TicketFactory(category=category, now=T), alice, at=T + timedelta(minutes=i), hours=6)
    client = client_for(carol)
    first = html(client.get(reverse("desk:drill-down"), {**AROUND_T, "figure": "made"}))
    second = html(client.get(reverse("desk:drill-down"), {**AROUND_T, "figure": "made", "page": 2}))
    assert first.count("data-reference=") == 50 and second.count("data-reference=") == 5
    assert "page=2" in first


# --- Bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"period": "365"}, "Choose the last 7, 30 or 90 days, or dates."),
        ({"period": "dates"}, "For dates, give both the first and the last day."),
        ({"period": "dates", "start": "2026-11-02", "end": "2026-11-01"}, "The first day must not be after the last"),
        (
            {"period": "dates", "start": "yesterday", "end": "2026-11-01"},
            "Enter the first day as a date, e.g. 2026-11-01.",
        ),
        (
            {"period": "dates", "start": "2020-01-01", "end": "2026-11-01"},
            "Choose at most a year (366 days) at a time.",
        ),
        (
            {"period": "dates", "start": "1066-10-14", "end": "1066-10-15"},
            "Choose a first day from 01 January 2000 on.",
        ),
        (  # the last day of year 9999 has no day after it: once a 500
            {"period": "dates", "start": "9999-12-30", "end": "9999-12-31"},
            "Choose a last day up to 31 December 2999.",
        ),
    ],
)
def test_a_bad_period_is_explained(client_for, carol, query, message):
    for name in ("desk:figures", "desk:figures-csv"):
        response = client_for(carol).get(reverse(name), query)
        assert response.status_code == 400
        assert message in html(response)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({}, "Say which figure to list."),
        ({"figure": "happiness"}, "happiness is not one of the figures."),
        ({"figure": "kept", "team": "999999"}, "There is no such team."),
        ({"figure": "kept", "agent": "abc"}, "There is no such staff member."),
        ({"figure": "kept", "team": "TEAM", "agent": "AGENT"}, "List by a team or by an agent, not both."),
        ({"figure": "kept", "category": "999999"}, "There is no such category."),
        ({"figure": "kept", "category": "billing"}, "There is no such category."),
        ({"figure": "kept", "guard": "sometimes"}, "sometimes is not a way to follow the guard: say followed or"),
        ({"figure": "rating", "guard": "followed"}, "Only promise figures are listed by category or by the guard."),
        ({"figure": "first_response", "category": "CATEGORY"}, "Only promise figures are listed by category or by"),
    ],
)
def test_a_bad_drill_down_is_explained(client_for, carol, alice, billing, category, query, message):
    named = {"TEAM": billing.pk, "AGENT": alice.pk, "CATEGORY": category.pk}
    query = {key: named.get(value, value) for key, value in query.items()}
    for name in ("desk:drill-down", "desk:drill-down-csv"):
        response = client_for(carol).get(reverse(name), query)
        assert response.status_code == 400
        assert message in html(response)


# --- Cost ------------------------------------------------------------------------------------------


def cost(client, url, query) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, query)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(queries)


# Every page: session, user, "is a supervisor?". The figures: the report's 12 (see test_figures.py) and the
# unread badge. A drill-down: its page of ids, those rows (joined), the unread badge; ratings also look up
# the names they credit (people, teams). The CSVs: the same, without the badge; one chunk of rows here.
@pytest.mark.parametrize(
    ("name", "query", "most"),
    [
        ("desk:figures", AROUND_T, 16),
        ("desk:figures-csv", AROUND_T, 15),
        ("desk:drill-down", {**AROUND_T, "figure": "made"}, 6),
        ("desk:drill-down", {**AROUND_T, "figure": "kept", "guard": "followed", "category": "CATEGORY"}, 6),
        ("desk:drill-down", {**AROUND_T, "figure": "rating"}, 8),
        ("desk:drill-down-csv", {**AROUND_T, "figure": "rating"}, 6),
    ],
)
def test_the_pages_cost_the_same_for_few_and_many_rows(client_for, carol, world, category, alice, name, query, most):
    query = {key: category.pk if value == "CATEGORY" else value for key, value in query.items()}
    client = client_for(carol)
    few = cost(client, reverse(name), query)
    for i in range(30):
        ticket = TicketFactory(category=category, now=T)
        promise(ticket, alice, at=T, hours=6 + i)
        services.reply(ticket, by=alice, body="Hello.", now=T + H)
        services.resolve(ticket, by=alice, summary="Done.", now=T + 2 * H)
        services.rate(ticket, rating=1 + i % 5, now=T + 3 * H)
    assert cost(client, reverse(name), query) == few <= most


def test_a_period_link_keeps_the_period(client_for, carol, world):
    page = html(client_for(carol).get(reverse("desk:figures"), AROUND_T))
    assert f"?{urlencode(AROUND_T)}&figure=made".replace("&", "&amp;") in page


def test_customer_text_is_inert_on_every_supervisor_page(client_for, carol, category, alice, billing):
    script = "<script>alert(1)</script>"
    sly = CustomerFactory(name=f"Mallory {script}", email="mallory@example.com")
    ticket = TicketFactory(customer=sly, category=category, subject=f"Help {script}", now=T)
    services.make_promise(ticket, due_at=T + 6 * H, by=alice, words=f"Soon {script}", now=T)
    services.resolve(ticket, by=alice, summary="Done.", now=T + H)
    services.rate(ticket, rating=3, comment=f"Meh {script}", now=T + 2 * H)
    billing.name = f"Billing {script}"
    billing.save()
    in_danger = TicketFactory(customer=sly, category=category, subject=f"Again {script}")
    services.make_promise(in_danger, due_at=timezone.now() + 6 * H, by=alice, words=f"Soon {script}")
    promised(in_danger, due_in=timedelta(minutes=10), state="at_risk")
    client = client_for(carol)
    pages = [
        client.get(reverse("desk:promises")),
        client.get(reverse("desk:figures"), AROUND_T),
        client.get(reverse("desk:drill-down"), {**AROUND_T, "figure": "kept"}),
        client.get(reverse("desk:drill-down"), {**AROUND_T, "figure": "rating"}),
    ]
    for response in pages:
        assert script not in html(response)
        assert "&lt;script&gt;" in html(response) or "\\u003Cscript\\u003E" in html(response)


def test_every_chart_point_opens_the_tickets_behind_it(client_for, carol, world, billing, alice):
    response = client_for(carol).get(reverse("desk:figures"), AROUND_T)
    charts = response.context["charts"]
    [billing_line] = [line for line in charts["weekly"]["series"] if line["label"] == "Billing"]
    week = billing_line["links"][0]  # the week from Monday 2 November, when A to F were promised
    assert f"start=2026-11-02&end=2026-11-08&figure=kept&team={billing.pk}" in week
    page = html(client_for(carol).get(week))
    assert sorted(set(re.findall(r'data-reference="([^"]+)"', page))) == sorted(world[n].reference for n in "ACF")

    [alices] = [link for link in charts["calibration"]["links"] if f"agent={alice.pk}" in link]
    assert "figure=slack" in alices and "period=dates" in alices


def test_the_rows_of_someone_who_has_left_the_staff_still_open(client_for, carol, world, alice):
    alice.is_staff = False
    alice.save()
    response = client_for(carol).get(reverse("desk:drill-down"), {**AROUND_T, "figure": "kept", "agent": alice.pk})
    assert response.status_code == 200 and world["A"].reference in html(response)
