"""The supervisors' figures over the API: the dashboard's numbers, its periods, its refusals (see the fixed
world in tests/supervision/conftest.py for where every number comes from)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from tests.api.conftest import error_of
from tests.supervision import conftest as supervision
from tickets.models import FiguresSnapshot
from tickets.supervision.figures import Period, report
from tickets.supervision.snapshots import to_json

pytestmark = pytest.mark.django_db

URL = reverse("api:metrics-promises")
AROUND_T = {"start": "2026-10-20", "end": "2026-11-20", "time_zone": "UTC"}  # the world (A to F), not G
UTC = ZoneInfo("UTC")
world = supervision.world  # the fixed world, with its figures worked out by hand
calibrated_at, calibrated = supervision.calibrated_at, supervision.calibrated  # the guard's calibration


@pytest.fixture(autouse=True)
def _weeks_in_utc(settings):
    settings.TIME_ZONE = "UTC"  # the desk's zone: where weeks start


def figures(client: APIClient, query: dict[str, str] | None = None) -> dict:
    response = client.get(URL, query or {})
    assert response.status_code == 200, response.json()
    return response.json()


def by_name(rows: list[dict]) -> dict[str, dict]:
    return {row["name"]: row for row in rows}


def refusal(client: APIClient, query: dict[str, str]) -> dict:
    response = client.get(URL, query)
    assert response.status_code == 400
    return error_of(response)


# --- Who may ------------------------------------------------------------------------------------


def test_anonymous_callers_are_asked_to_sign_in(api):
    response = api().get(URL)
    assert (response.status_code, error_of(response)["code"]) == (401, "not_authenticated")


def test_a_signed_in_user_who_is_not_staff_is_refused(eve):
    client = APIClient()
    client.force_login(eve)  # eve can't have a token: tokens are for staff
    response = client.get(URL)
    assert (response.status_code, error_of(response)["code"]) == (403, "permission_denied")


@pytest.mark.parametrize("agent", ["alice", "bob"])
def test_agents_may_not_read_the_figures(api, request, agent):
    response = api(request.getfixturevalue(agent)).get(URL)
    assert response.status_code == 403
    assert error_of(response)["message"] == "Only supervisors may do this."


def test_a_supervisor_reads_them_and_nothing_writes_them(api, carol):
    client = api(carol)
    assert client.get(URL).status_code == 200
    response = client.post(URL, {})
    assert (response.status_code, error_of(response)["code"]) == (405, "method_not_allowed")


# --- The numbers: the dashboard's -------------------------------------------------------------------


def test_everyone_has_the_hand_computed_figures(api, carol, world):
    total = figures(api(carol), AROUND_T)["total"]

    assert total == {
        "id": None,
        "name": "Everyone",
        "made": 9,
        "kept": 4,
        "broken": 3,
        "changed": 1,
        "pending": 1,
        "sooner": 1,
        "sooner_kept": 1,
        "sooner_broken": 0,
        "kept_rate": 4 / 7,
        "changed_rate": 1 / 9,
        "sooner_kept_rate": 1.0,
        "median_slack_seconds": 5400,  # +1.5 h
        "first_responses": 3,
        "median_first_response_seconds": 1800,
        "ratings": 3,
        "rating_average": pytest.approx(11 / 3),
    }


def test_an_agents_line_has_their_calibration(api, carol, world, alice, bob):
    agents = {row["id"]: row for row in figures(api(carol), AROUND_T)["agents"]}
    alices, bobs = agents[alice.pk], agents[bob.pk]

    assert alices["name"] == alice.get_full_name()
    assert (alices["made"], alices["kept"], alices["broken"], alices["changed"]) == (8, 3, 3, 1)
    assert (alices["kept_rate"], alices["changed_rate"], alices["sooner_kept_rate"]) == (0.5, 1 / 8, 1.0)
    # Slack: the median of -1 h and +1.5 h; promised 6 h, actual 5 h, estimate 4 h (the category's target).
    assert alices["median_slack_seconds"] == 900
    assert (alices["median_promised_seconds"], alices["median_actual_seconds"]) == (6 * 3600, 5 * 3600)
    assert alices["median_estimate_seconds"] == 4 * 3600
    assert (alices["first_responses"], alices["median_first_response_seconds"]) == (2, 1200)
    assert (alices["ratings"], alices["rating_average"]) == (2, 3.5)
    assert (bobs["made"], bobs["kept_rate"], bobs["sooner_kept_rate"], bobs["median_slack_seconds"]) == (
        1,
        1.0,
        None,
        3 * 3600,
    )


def test_each_team_and_week_is_as_on_the_dashboard(api, carol, world, billing, technical):
    body = figures(api(carol), AROUND_T)
    teams = by_name(body["teams"])

    assert [row["name"] for row in body["teams"]] == ["Billing", "Technical"]
    assert (teams["Billing"]["id"], teams["Billing"]["made"], teams["Billing"]["kept_rate"]) == (billing.pk, 8, 0.5)
    assert (teams["Technical"]["made"], teams["Technical"]["median_first_response_seconds"]) == (1, 8 * 3600)
    assert "median_promised_seconds" not in teams["Billing"]  # calibration is per agent
    assert body["weeks"] == [
        {
            "start": "2026-11-02T00:00:00Z",  # Monday: A to F were made on Wednesday the 4th
            "teams": [
                {"team": billing.pk, "kept": 3, "broken": 3, "kept_rate": 0.5},
                {"team": technical.pk, "kept": 1, "broken": 0, "kept_rate": 1.0},
            ],
        }
    ]


def test_every_number_is_the_reports_own(api, carol, world):
    # given the report the dashboard computes for the same dates
    shown = report(Period.dates(date(2026, 10, 20), date(2026, 11, 20), zone=UTC), zone=UTC)

    # when the API is asked
    body = figures(api(carol), AROUND_T)

    # then every line carries the report's figures, rates included
    def same(line: dict, row) -> None:
        assert line["id"] == row.key and line["name"] == row.name
        for name in ("made", "kept", "broken", "changed", "pending", "sooner", "sooner_kept", "sooner_broken"):
            assert line[name] == getattr(row, name), name
        for name in ("kept_rate", "changed_rate", "sooner_kept_rate", "rating_average"):
            assert line[name] == getattr(row, name), name
        assert (line["first_responses"], line["ratings"]) == (row.first_response, row.rating)

    same(body["total"], shown.total)
    for lines, rows in ((body["teams"], shown.teams), (body["agents"], shown.agents)):
        assert len(lines) == len(rows)
        for line, row in zip(lines, rows, strict=True):
            same(line, row)


def test_the_guards_calibration_per_team_and_category(api, carol, calibrated, technical):
    body = figures(api(carol), AROUND_T)["calibration"]

    assert (body["min_settled"], body["confidence"]) == (20, 0.95)
    assert [group["name"] for group in body["teams"]] == ["Billing", "Technical"]
    assert [group["name"] for group in body["categories"]] == ["Billing question", "Outage", "Refunds"]
    assert body["teams"][1] == {
        "id": technical.pk,
        "name": "Technical",
        "settled": 20,
        "kept": 10,
        "broken": 10,
        "kept_rate": 0.5,
        "aim": pytest.approx(0.8),
        "interval": [pytest.approx(0.2993, abs=1e-4), pytest.approx(0.7007, abs=1e-4)],
        "band": "out_of_band",
        "drift": "below",
        "on_default": 0,
    }
    total, refunds = body["total"], body["categories"][2]
    assert (total["id"], total["settled"], total["kept"], total["on_default"]) == (None, 44, 29, 2)
    assert (refunds["settled"], refunds["band"], refunds["drift"]) == (4, "too_few", None)


def test_the_calibration_is_the_pages_own(api, client_for, carol, calibrated):
    # given the calibration the figures page shows for the same days
    page = client_for(carol).get(reverse("desk:figures"), {"period": "dates", "start": AROUND_T["start"],
                                                           "end": AROUND_T["end"]})  # fmt: skip
    shown = page.context["report"].calibration

    # when the API is asked
    body = figures(api(carol), AROUND_T)["calibration"]

    # then every group carries the page's numbers and band
    def same(line: dict, group) -> None:
        assert (line["id"], line["name"]) == (group.key, group.name)
        for name in ("settled", "kept", "broken", "kept_rate", "aim", "band", "drift", "on_default"):
            assert line[name] == getattr(group, name), name
        assert line["interval"] == list(group.interval)

    same(body["total"], shown.total)
    for lines, groups in ((body["teams"], shown.teams), (body["categories"], shown.categories)):
        assert len(lines) == len(groups) > 0
        for line, group in zip(lines, groups, strict=True):
            same(line, group)


# --- The period --------------------------------------------------------------------------------


def test_dates_are_days_in_the_time_zone_asked_for(api, carol, world):
    # T is 09:00 UTC on 4 November: 23:00 on the 3rd in Honolulu (UTC-10), when A to F had their promises.
    client = api(carol)
    honolulu = figures(client, {"start": "2026-11-03", "end": "2026-11-03", "time_zone": "Pacific/Honolulu"})
    in_utc = figures(client, {"start": "2026-11-03", "end": "2026-11-03", "time_zone": "UTC"})

    assert honolulu["period"] == {
        "start": "2026-11-03T10:00:00Z",
        "end": "2026-11-04T10:00:00Z",
        "label": "03 Nov 2026 to 03 Nov 2026",
    }
    assert (honolulu["total"]["made"], in_utc["total"]["made"]) == (6, 0)  # made at T: D, A, B, C, E, F


def test_dates_are_in_the_desks_zone_when_none_is_given(api, carol, settings):
    settings.TIME_ZONE = "Europe/Paris"
    period = figures(api(carol), {"start": "2026-11-03", "end": "2026-11-03"})["period"]
    assert (period["start"], period["end"]) == ("2026-11-02T23:00:00Z", "2026-11-03T23:00:00Z")


def test_dates_are_computed_when_asked(api, carol, world):
    before = timezone.now()
    as_of = datetime.fromisoformat(figures(api(carol), AROUND_T)["as_of"])
    assert before <= as_of <= timezone.now()
    assert not FiguresSnapshot.objects.exists()  # chosen dates are never kept


def test_a_rolling_period_is_served_from_its_snapshot(api, carol, world):
    # given a fresh snapshot of the last 7 days holding the world's figures (live, the last 7 days would
    # not: the world lies further back)
    computed_at = timezone.now() - timedelta(minutes=1)
    around_t = report(Period.dates(date(2026, 10, 20), date(2026, 11, 20), zone=UTC), zone=UTC)
    kept = replace(around_t, period=Period.last(7, now=computed_at))
    FiguresSnapshot.objects.create(days=7, computed_at=computed_at, data=to_json(kept))

    # when a supervisor asks for the last 7 days
    body = figures(api(carol), {"days": "7"})

    # then the answer is the snapshot's, as of when it was computed
    assert datetime.fromisoformat(body["as_of"]) == computed_at
    assert body["period"]["label"] == "the last 7 days"
    assert (body["total"]["made"], body["total"]["kept_rate"]) == (9, 4 / 7)


def test_the_last_30_days_by_default_computed_and_kept_for_next_time(api, carol):
    body = figures(api(carol))

    assert body["period"]["label"] == "the last 30 days"
    snapshot = FiguresSnapshot.objects.get()
    assert (snapshot.days, datetime.fromisoformat(body["as_of"])) == (30, snapshot.computed_at)


# --- Bad input: the page's own words ----------------------------------------------------------------


NOT_A_PARAMETER = "is not a parameter here (this takes days, end, start, time_zone)."


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"days": "8"}, "days", "Choose the last 7, 30 or 90 days, or dates."),
        ({"start": "2026-11-02", "end": "2026-11-01"}, None, "The first day must not be after the last day."),
        ({"start": "2025-11-01", "end": "2026-11-02"}, None, "Choose at most a year (366 days) at a time."),
        ({"start": "1999-12-31", "end": "2000-01-02"}, None, "Choose a first day from 01 January 2000 on."),
        ({"start": "9999-12-31", "end": "9999-12-31"}, None, "Choose a last day up to 31 December 2999."),
        ({"start": "2026-11-01"}, None, "For dates, give both the first and the last day."),
        ({"start": "yesterday", "end": "2026-11-01"}, "start", "Enter the first day as a date, e.g. 2026-11-01."),
        ({"start": "2026-11-01", "end": "30/11/2026"}, "end", "Enter the last day as a date, e.g. 2026-11-30."),
        ({"start": "2026-11-01", "end": "2026-11-30", "time_zone": "Mars/Olympus"}, "time_zone",
         "'Mars/Olympus' is not a time zone; use a name such as Europe/Paris."),
        ({"days": "7", "start": "2026-11-01", "end": "2026-11-30"}, None,
         "Give days or dates (start and end), not both."),
        ({"period": "30"}, "period", f"period {NOT_A_PARAMETER}"),
        ({"days": "7", "page": "2"}, "page", f"page {NOT_A_PARAMETER}"),
    ],
)  # fmt: skip
def test_a_bad_period_is_explained(api, carol, query, field, message):
    error = refusal(api(carol), query)

    assert error["code"] == "invalid"
    if field is None:  # about the period as a whole: the message says it
        assert (error["message"], error["fields"]) == (message, {})
    else:
        assert error["fields"] == {field: [message]}


# --- Cost ---------------------------------------------------------------------------------------------


def test_chosen_dates_cost_the_reports_twelve_queries_and_two_more(api, carol, world, django_assert_max_num_queries):
    client = api(carol)
    # The token (with "is a supervisor?"), its last-used time (its first use); then the report's 12 (see
    # tests/supervision/test_figures.py): teams, promise and rating counts, six medians, weeks, people, the
    # guard's calibration.
    with django_assert_max_num_queries(14):
        figures(client, AROUND_T)


def test_a_rolling_period_costs_three_queries(api, carol, world, django_assert_max_num_queries):
    client = api(carol)
    figures(client, {"days": "90"})  # none yet: computed and kept
    # The token, "is a supervisor?", the snapshot (the token's last-used time was written by the first call,
    # and is written at most once a minute).
    with django_assert_max_num_queries(3):
        figures(client, {"days": "90"})
