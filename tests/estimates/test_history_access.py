"""Only supervisors (and superusers) import history: every History page and method is checked for every
persona, and the pages that list things cost the same number of queries for few rows as for many."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tests.configuration import signed_in
from tests.desk.helpers import assert_sent_to_sign_in
from tests.estimates import HEADER, csv_bytes, everything
from tests.factories import CategoryFactory, UserFactory, history_says
from tickets.estimates.models import ImportState
from tickets.models import HistoryImport

OPEN = "PD-1,2012-05-01T09:00:00+02:00,,Medium,PROD1,Front,L1,0"
ENDPOINTS = [
    ("get", "history"),
    ("post", "history"),
    ("get", "history-import"),
    ("post", "history-import"),
    ("post", "history-cancel"),
    ("get", "history-problems"),
]


def url(name: str, *args) -> str:
    return reverse(f"desk:config:{name}", args=args)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def waiting(category, carol):
    """An upload waiting for its answers."""
    response = signed_in(carol).post(url("history"), {"file": SimpleUploadedFile("h.csv", csv_bytes(HEADER, OPEN))})
    assert response.status_code == 302
    return HistoryImport.objects.get()


@pytest.fixture
def root(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def send(client, method, page, record):
    target = url(page) if page == "history" else url(page, record.pk)
    data = {"file": SimpleUploadedFile("other.csv", csv_bytes(HEADER, OPEN.replace("PD-1", "PD-2")))}
    response = client.get(target) if method == "get" else client.post(target, data if page == "history" else {})
    return response, target


@pytest.mark.parametrize(("method", "page"), ENDPOINTS)
def test_an_anonymous_visitor_is_sent_to_sign_in_and_back(method, page, waiting):
    before = everything()
    response, target = send(signed_in(None), method, page, waiting)
    assert_sent_to_sign_in(response, target)
    assert everything() == before


@pytest.mark.parametrize("persona", ["eve", "alice"])
@pytest.mark.parametrize(("method", "page"), ENDPOINTS)
def test_anyone_but_a_supervisor_is_refused_and_changes_nothing(persona, method, page, request, waiting):
    before = everything()
    response, _ = send(signed_in(request.getfixturevalue(persona)), method, page, waiting)
    assert response.status_code == 403
    assert everything() == before


@pytest.mark.parametrize("persona", ["carol", "root"])
@pytest.mark.parametrize(("method", "page"), ENDPOINTS)
def test_a_supervisor_or_superuser_gets_through(persona, method, page, request, waiting):
    response, _ = send(signed_in(request.getfixturevalue(persona)), method, page, waiting)
    assert response.status_code == (200 if method == "get" else 302), response.content.decode()[:500]


@pytest.mark.parametrize("page", ["history-cancel"])
def test_cancelling_answers_only_post(page, carol, waiting):
    assert signed_in(carol).get(url(page, waiting.pk)).status_code == 405
    assert HistoryImport.objects.exists()


@pytest.mark.parametrize("page", ["history", "history-import", "history-problems"])
def test_other_methods_are_405(page, carol, waiting):
    target = url(page) if page == "history" else url(page, waiting.pk)
    assert signed_in(carol).put(target).status_code == 405


# --- Query counts ---------------------------------------------------------------------------------

# Every page: session, user, "is a supervisor?" (the decorator; the header reuses it), the unread badge.
PAGE = 4
# The list: the imports with who made them (one join); the guard's estimates from a category's own history
# (their categories joined), how many, and how many borrow; the imported past's count and dates.
HISTORY_QUERIES = PAGE + 5
# Questions: the import with who made it, the categories offered (one list for every select).
QUESTIONS_QUERIES = PAGE + 2


def test_the_list_of_imports_costs_the_same_for_few_as_for_many(carol, alice, queries):
    client = signed_in(carol)
    few = queries(client, url("history"), at_most=HISTORY_QUERIES)
    for n in range(30):
        HistoryImport.objects.create(
            file_name=f"{n}.csv", digest=f"{n:064}", started_at=timezone.now(), imported_by=(carol, alice, None)[n % 3]
        )
    assert queries(client, url("history"), at_most=HISTORY_QUERIES) == few
    for n in range(40):  # more estimates than the page shows, each of its own category
        history_says(CategoryFactory(), timedelta(hours=n + 1), priority=2, seen=100 + n)
    assert queries(client, url("history"), at_most=HISTORY_QUERIES) == few


def test_the_page_shows_what_the_guard_reads_now_most_tickets_first(carol, category, settings):
    settings.PROMISE_ESTIMATE_PERCENTILE = 0.9
    history_says(category, timedelta(hours=5), priority=2, seen=412)
    history_says(CategoryFactory(name="Refunds", business_hours=True), timedelta(hours=3), priority=4, seen=20)
    history_says(CategoryFactory(name="Borrowing"), timedelta(hours=9), priority=1, seen=900, basis="desk")

    page = signed_in(carol).get(url("history")).content.decode()

    assert "<title>History · Configuration · Promise Desk</title>" in page
    assert page.count("What the guard reads now") == 1
    section = page[page.index("What the guard reads now") :]
    assert "the time within which 9 in 10 similar tickets were solved" in section
    assert "No past imported yet: the desk" in section
    assert section.index(category.name) < section.index("Refunds")
    assert f"<td>{category.name}</td>" in section  # around the clock
    assert '<td>Refunds <span class="badge text-bg-light border" title="Its durations count' in section
    assert "<td>Normal</td>" in section and "<td>Urgent</td>" in section
    assert "5 h</td>" in section and "412</td>" in section and "5 h more</td>" in section
    assert "From opening" in section and "After a day" in section
    assert "this category</td>" in section and "28 days</td>" in section
    assert "Borrowing" not in section  # its estimate is the whole desk's, not its own
    assert "1 other category and priority pair borrows the estimate of their priority or of the whole desk" in section


def test_the_questions_cost_the_same_for_few_categories_as_for_many(carol, standard_path, queries):
    client = signed_in(carol)
    record = HistoryImport.objects.create(
        file_name="h.csv",
        digest="1" * 64,
        started_at=timezone.now(),
        imported_by=carol,
        state=ImportState.UPLOADED,
        mapping={"columns": {}, "new_priorities": ["P1"], "new_categories": ["A"]},
    )
    few = queries(client, url("history-import", record.pk), at_most=QUESTIONS_QUERIES)
    for _ in range(20):
        CategoryFactory(escalation_path=standard_path)
    record.mapping = {"columns": {}, "new_priorities": ["P1", "P2"], "new_categories": [f"C{n}" for n in range(300)]}
    record.save()
    assert queries(client, url("history-import", record.pk), at_most=QUESTIONS_QUERIES) == few
