"""The guard's calibration: how often promises that followed it were kept, against its percentile, per team
and per category; the band that says when that is more than chance; the rows behind every figure; and the
warning on the "now" page (see the ``calibrated`` world in conftest.py)."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.desk.helpers import html
from tests.factories import CategoryFactory, TicketFactory
from tests.supervision.conftest import T, settled_promise
from tickets import tasks
from tickets.supervision.calibration import Calibration, Group, calibrate, narrow, wilson
from tickets.supervision.figures import PROMISES, Period, report, rows_behind
from tickets.supervision.forms import DrillDownForm
from tickets.supervision.snapshots import from_json, to_json

pytestmark = pytest.mark.django_db

AROUND_T = {"period": "dates", "start": "2026-10-20", "end": "2026-11-20"}
THIRTY_DAYS = Period(start=T - timedelta(days=20), end=T + timedelta(days=10), label="30 days")
NOW_URL = reverse("desk:promises")


def group(kept: int, broken: int, *, aim: float = 0.8) -> Group:
    return Group("team", 1, "Billing", kept=kept, broken=broken, aim_sum=aim * (kept + broken))


def calibration_of(period: Period = THIRTY_DAYS) -> Calibration:
    return report(period, zone=ZoneInfo("UTC")).calibration


def by_name(groups: list[Group]) -> dict[str, Group]:
    return {one.name: one for one in groups}


def figures(group: Group) -> tuple[int, int, int, float | None, str]:
    return group.settled, group.kept, group.on_default, group.aim, group.band


# --- The band -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kept", "broken", "band", "drift"),
    [
        (16, 4, "in_band", None),  # 80 % kept against 80 %
        (10, 10, "out_of_band", "below"),  # 50 %: the interval (30 to 70 %) leaves 80 % out
        (3, 1, "too_few", None),  # 75 %, but 4 promises say nothing
        (12, 8, "out_of_band", "below"),  # 60 %: at 20 promises, the smallest drift that shows
        (13, 7, "in_band", None),  # 65 %: could be chance at 20 promises...
        (130, 70, "out_of_band", "below"),  # ...but not at 200
        (20, 0, "out_of_band", "above"),  # all 20: one chance in 87 if the guard were right
        (0, 0, "too_few", None),
        (15, 4, "too_few", None),  # 19 settled: one short of judging
    ],
)
def test_the_band_is_the_95_percent_interval_once_there_are_20(kept, broken, band, drift):
    assert (group(kept, broken).band, group(kept, broken).drift) == (band, drift)


def test_the_interval_is_wilsons():
    low, high = wilson(10, 20)
    assert (round(low, 4), round(high, 4)) == (0.2993, 0.7007)
    low, high = wilson(16, 20)
    assert (round(low, 4), round(high, 4)) == (0.5840, 0.9193)
    assert wilson(20, 20)[1] == 1.0 and wilson(0, 20)[0] == 0.0  # never past 0 or 100 %


def test_the_aim_is_the_percentile_each_promise_aimed_at_averaged():
    mixed = Group("team", 1, "Billing", kept=18, broken=2, aim_sum=10 * 0.8 + 10 * 0.9)
    assert mixed.aim == pytest.approx(0.85)
    assert mixed.band == "in_band"  # 90 % kept, against 85 %


# --- What counts --------------------------------------------------------------------------------------------


def test_only_settled_promises_that_followed_the_guard_count(calibrated, billing, technical):
    calibration = calibration_of()

    # 16 + 3 + 10 kept, 4 + 1 + 10 broken; the two on the default target apart; the rest left out.
    assert figures(calibration.total) == (44, 29, 2, pytest.approx(0.8), "out_of_band")
    teams = by_name(calibration.teams)
    assert figures(teams["Billing"]) == (24, 19, 2, pytest.approx(0.8), "in_band")
    assert figures(teams["Technical"]) == (20, 10, 0, pytest.approx(0.8), "out_of_band")
    assert (teams["Billing"].key, teams["Technical"].key) == (billing.pk, technical.pk)
    categories = by_name(calibration.categories)
    assert [one.name for one in calibration.categories] == ["Billing question", "Outage", "Refunds"]
    assert figures(categories["Billing question"]) == (20, 16, 2, pytest.approx(0.8), "in_band")
    assert figures(categories["Outage"]) == (20, 10, 0, pytest.approx(0.8), "out_of_band")
    assert figures(categories["Refunds"]) == (4, 3, 0, pytest.approx(0.8), "too_few")
    out = [(one.scope, one.name) for one in calibration.out_of_band()]
    assert out == [("team", "Technical"), ("category", "Outage")]


def test_a_promise_that_did_not_record_its_percentile_is_held_to_the_setting(category, alice, settings):
    settings.PROMISE_ESTIMATE_PERCENTILE = 0.9
    ticket = TicketFactory(category=category, now=T - timedelta(days=1))
    settled_promise(ticket, alice, kept=True, percentile=None)
    settled_promise(ticket, alice, kept=True, percentile=0.7)
    assert calibration_of().total.aim == pytest.approx(0.8)


def test_the_period_decides_what_counts(calibrated):
    ninety = Period(start=T - timedelta(days=80), end=T + timedelta(days=10), label="90 days")
    assert calibration_of(ninety).total.kept == 30  # the one 40 days before T joins
    later = Period(start=T + timedelta(days=1), end=T + timedelta(days=2), label="later")
    assert calibration_of(later) == Calibration(total=Group("", None, "Everyone"))


def test_every_calibration_figure_is_the_count_of_the_rows_behind_it(calibrated):
    calibration = calibration_of()
    for one in (calibration.total, *calibration.teams, *calibration.categories):
        scope = {one.scope: one.key} if one.scope else {}
        team, category = scope.get("team"), scope.get("category")

        def behind(figure: str, guard: str, *, team=team, category=category) -> int:
            return narrow(rows_behind(figure, THIRTY_DAYS, team=team), guard=guard, category=category).count()

        assert behind("made", "followed") == one.settled, one
        assert behind("kept", "followed") == one.kept, one
        assert behind("broken", "followed") == one.broken, one
        assert behind("made", "default") == one.on_default, one


def test_the_calibration_is_kept_with_the_figures_computed_ahead(calibrated):
    figures = report(THIRTY_DAYS, zone=ZoneInfo("UTC"))
    assert from_json(to_json(figures)).calibration == figures.calibration


def test_the_calibration_costs_one_query_whatever_the_groups(calibrated, alice, django_assert_num_queries):
    with django_assert_num_queries(1):
        calibrate(PROMISES.in_period(THIRTY_DAYS))
    for n in range(5):
        ticket = TicketFactory(category=CategoryFactory(name=f"More {n}"), now=T - timedelta(days=1))
        settled_promise(ticket, alice, kept=True)
    with django_assert_num_queries(1):
        assert len(calibrate(PROMISES.in_period(THIRTY_DAYS)).categories) == 8


# --- The figures page ---------------------------------------------------------------------------------------


def drill_links(page: str, selector: str) -> dict[str, str]:
    """The drill-down links of one row of a calibration table: {data-figure: href}."""
    row = re.search(rf'<tr data-group="{selector}">(.*?)</tr>', page, re.S)
    assert row, selector
    return {name: unescape(href) for href, name in re.findall(r'href="([^"]+)" data-figure="([^"]+)"', row[1])}


def test_the_figures_page_shows_each_group_in_its_band(client_for, carol, calibrated, billing, technical):
    page = html(client_for(carol).get(reverse("desk:figures"), AROUND_T))

    teams = page.split('aria-label="Calibration per team"')[1].split("</table>")[0]
    assert re.search(rf'data-group="team:{billing.pk}">.*?In band.*?24</a>.*?79%</a>', teams, re.S)
    assert re.search(rf'data-group="team:{technical.pk}">.*?Out of band: low.*?50%</a>.*?30%.70%', teams, re.S)
    categories = page.split('aria-label="Calibration per category"')[1].split("</table>")[0]
    refunds = calibrated["Refunds"].category_id
    assert re.search(rf'data-group="category:{refunds}">.*?Too few.*?75%</a>', categories, re.S)
    assert "2</a> made on a category's default target" in page


def test_every_calibration_figure_links_to_exactly_the_rows_it_counts(client_for, carol, calibrated, technical):
    client = client_for(carol)
    page = html(client.get(reverse("desk:figures"), AROUND_T))
    links = drill_links(page, f"team:{technical.pk}")
    assert set(links) == {"counted", "kept", "broken"}

    for figure, expected, outcomes in (("counted", 20, {"Kept", "Broken"}), ("kept", 10, {"Kept"}),
                                       ("broken", 10, {"Broken"})):  # fmt: skip
        listed = html(client.get(links[figure]))
        assert listed.count("data-reference=") == expected, figure
        assert set(re.findall(r"<td>(Kept|Broken|Pending|Superseded)</td>", listed)) == outcomes
        assert "at or after the guard&#x27;s estimate, settled · Technical" in listed

    outage = calibrated["Outage"].category_id
    broken = html(client.get(drill_links(page, f"category:{outage}")["broken"]))
    assert broken.count("data-reference=") == 10 and "· Outage ·" in broken


def test_a_period_with_nothing_that_followed_the_guard_says_so(client_for, carol, world):
    page = html(client_for(carol).get(reverse("desk:figures"), AROUND_T))
    # The fixed world's estimates are all the category's default target: nothing to judge the guard by.
    assert "No promise made at or after the guard's estimate has settled in this period." in page
    assert "Calibration per team" not in page


# --- The drill-down's new filters ----------------------------------------------------------------------------


def test_the_drill_down_lists_one_category(client_for, carol, calibrated):
    refunds = calibrated["Refunds"]
    query = {**AROUND_T, "figure": "made", "category": refunds.category_id}
    listed = html(client_for(carol).get(reverse("desk:drill-down"), query))
    assert listed.count("data-reference=") == 4
    assert set(re.findall(r'data-reference="([^"]+)"', listed)) == {refunds.reference}


def test_a_category_and_the_guard_only_narrow_promise_figures():
    form = DrillDownForm({"figure": "rating", "guard": "followed"})
    assert not form.is_valid()
    assert form.non_field_errors() == ["Only promise figures are listed by category or by the guard."]


# --- The warning on the "now" page ---------------------------------------------------------------------------


def test_the_now_page_warns_of_each_group_out_of_band_with_its_rows(client_for, carol, calibrated_at, technical):
    tickets = calibrated_at(timezone.now() - timedelta(days=2))
    tasks.refresh_figures.apply()  # as beat does: the last 30 days' figures, computed ahead
    client = client_for(carol)

    page = html(client.get(NOW_URL))

    warning = page.split('data-calibration="drifting"')[1].split("</section>")[0]
    assert "out of band for 2 groups" in warning
    technical_line = re.search(rf'<li data-drift="team:{technical.pk}">(.*?)</li>', warning, re.S)
    assert technical_line and "kept 10 of 20 (50%) against an aim of 80%" in technical_line[1]
    assert "less often" in technical_line[1]
    assert f'data-drift="category:{tickets["Outage"].category_id}"' in warning
    assert "Billing" not in warning  # in band (the team and its category) and too few (Refunds): not listed
    [link] = re.findall(r'href="([^"]+)"', technical_line[1])
    rows = html(client.get(unescape(link)))
    assert rows.count("data-reference=") == 20 and "· Technical · the last 30 days" in rows


def test_no_warning_while_every_group_is_in_band_or_too_few(client_for, carol, category, alice):
    ticket = TicketFactory(category=category, now=timezone.now() - timedelta(days=3))
    for n in range(20):
        settled_promise(ticket, alice, kept=n < 16, at=timezone.now() - timedelta(days=2))
    tasks.refresh_figures.apply()

    page = html(client_for(carol).get(NOW_URL))

    assert "out of band" not in page and "drifting" not in page


def test_the_live_part_that_refreshes_every_15_seconds_leaves_the_warning_out(client_for, carol, calibrated_at):
    calibrated_at(timezone.now() - timedelta(days=2))
    tasks.refresh_figures.apply()
    client = client_for(carol)
    with CaptureQueriesContext(connection) as whole:
        assert "out of band" in html(client.get(NOW_URL))
    with CaptureQueriesContext(connection) as live:
        part = html(client.get(NOW_URL, HTTP_HX_REQUEST="true"))
    assert "out of band" not in part
    assert len(live) == len(whole) - 1  # no snapshot read every 15 seconds
