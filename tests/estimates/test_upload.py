"""The History page: carol uploads a file, answers what the desk doesn't know in it, a worker imports it while
the page shows its progress, and the page tells what it did, or every reason it was refused.

The worker's part is the task's body, called directly (as the sweep's tests do); the real worker, the real
browser and the progress bar moving are in ``test_upload_browser``.
"""

from __future__ import annotations

import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.configuration import signed_in
from tests.estimates import HEADER, csv_bytes, everything, shared_file
from tests.factories import CategoryFactory
from tickets import tasks
from tickets.estimates.models import ImportState
from tickets.models import Category, HistoryImport, PastTicket, Priority

OPEN = "PD-1,2012-05-01T09:00:00+02:00,,Medium,Billing question,Front,L1,0"
OTHER = "PD-2,2012-05-02T10:00:00+02:00,2012-05-02T12:00:00+02:00,P1,PROD582,Front,L1,0"


def url(name: str, *args) -> str:
    return reverse(f"desk:config:{name}", args=args)


def page(response) -> str:
    return html.unescape(response.content.decode())


def words(response) -> str:
    """What a page says, without its markup."""
    return " ".join(re.sub(r"<[^>]+>", " ", page(response)).split())


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def supervisor(carol):
    return signed_in(carol)


def upload(client, data: bytes, *, name: str = "history.csv", **columns: str):
    fields = {f"column_{ours}": theirs for ours, theirs in columns.items()}
    return client.post(url("history"), {"file": SimpleUploadedFile(name, data, "text/csv"), **fields})


def uploaded(client, data: bytes, **options) -> HistoryImport:
    response = upload(client, data, **options)
    assert response.status_code == 302, page(response)
    record = HistoryImport.objects.latest("pk")
    assert response["Location"] == url("history-import", record.pk)
    return record


def kept_files(settings) -> list[str]:
    folder = settings.MEDIA_ROOT / "history"
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


# --- The whole way through --------------------------------------------------------------------------


def test_carol_imports_the_volvo_log_mapping_one_category_and_creating_the_rest(
    supervisor, category, settings, django_capture_on_commit_callbacks
):
    # 1. Upload: checked, kept, with what the desk doesn't know.
    record = uploaded(supervisor, shared_file("volvo-it-2013-tickets.csv").read_bytes(), name="volvo.csv")
    assert (record.state, record.rows, record.imported_by.username) == (ImportState.UPLOADED, 7554, "carol")
    assert record.mapping["new_priorities"] == []  # Low, Medium, High and Major are usual names
    assert len(record.mapping["new_categories"]) == 704
    assert len(kept_files(settings)) == 1

    # 2. The questions.
    text = page(supervisor.get(url("history-import", record.pk)))
    assert "704 categories in the file are new to the desk." in text
    assert "Every priority in the file is one of ours" in text
    assert 'placeholder="New: “PROD582”"' in text
    assert "Import 7,554 past tickets" in text
    asked = record.mapping["new_categories"].index("PROD582")
    with django_capture_on_commit_callbacks() as queued:
        response = supervisor.post(url("history-import", record.pk), {f"category-{asked}": "billing QUESTION"})
    assert response.status_code == 302
    assert len(queued) == 1
    record.refresh_from_db()
    assert record.state == ImportState.QUEUED
    assert record.mapping["categories"]["PROD582"] == category.pk
    waiting = page(supervisor.get(url("history-import", record.pk), headers={"HX-Request": "true"}))
    assert 'hx-trigger="every 1s"' in waiting
    assert "Waiting for a worker to start the import…" in waiting

    # 3. The worker.
    assert tasks.import_uploaded_history(record.pk) == "imported"
    record.refresh_from_db()
    assert record.summary() == (
        "Imported 7,554 past tickets from volvo.csv: 7,554 added, 0 updated, 0 unchanged; 703 new categories (inactive)"
    )
    assert (record.progress, record.file.name) == (100, "")
    assert kept_files(settings) == []
    done = page(supervisor.get(url("history-import", record.pk), headers={"HX-Request": "true"}))
    assert "The guard already reads them: the estimates were refreshed with the import" in done
    in_prod582 = shared_file("volvo-it-2013-tickets.csv").read_text().count(",PROD582,")
    assert PastTicket.objects.filter(category=category).count() == in_prod582 > 0

    # 4. The outcome, which stops the polling.
    done = page(supervisor.get(url("history-import", record.pk), headers={"HX-Request": "true"}))
    assert "hx-trigger" not in done
    assert f"{record.summary()}." in done


def test_the_progress_is_shown_while_the_worker_imports(supervisor, category):
    record = uploaded(supervisor, csv_bytes(HEADER, OPEN))
    supervisor.post(url("history-import", record.pk), {})
    HistoryImport.objects.filter(pk=record.pk).update(state=ImportState.RUNNING, progress=42)
    part = page(supervisor.get(url("history-import", record.pk), headers={"HX-Request": "true"}))
    assert part.startswith('<div id="history-status" data-state="running" hx-get="')
    assert '<progress class="w-100" max="100" value="42"' in part
    assert "Importing: 42 %" in part
    full = page(supervisor.get(url("history-import", record.pk)))
    assert "<html" in full and 'id="history-status"' in full


def test_unknown_priorities_must_each_be_answered(supervisor, category):
    data = csv_bytes(HEADER, OPEN, OTHER, OTHER.replace("PD-2", "PD-3").replace("P1", "Sev 2"))
    record = uploaded(supervisor, data)
    assert record.mapping["new_priorities"] == ["P1", "Sev 2"]
    assert record.mapping["new_categories"] == ["PROD582"]
    before = everything()
    refused = supervisor.post(url("history-import", record.pk), {"priority-0": Priority.URGENT, "priority-1": "9"})
    assert refused.status_code == 400
    text = page(refused)
    assert "Select a valid choice. 9 is not one of the available choices." in text
    refused = supervisor.post(url("history-import", record.pk), {"priority-1": Priority.HIGH})
    assert "Say which of our priorities “P1” is." in page(refused)
    assert everything() == before
    supervisor.post(url("history-import", record.pk), {"priority-0": Priority.URGENT, "priority-1": Priority.HIGH})
    tasks.import_uploaded_history(record.pk)
    assert dict(PastTicket.objects.values_list("key", "priority")) == {
        "PD-1": Priority.NORMAL,
        "PD-2": Priority.URGENT,
        "PD-3": Priority.HIGH,
    }


def test_the_columns_of_another_file_are_mapped_on_the_form(supervisor, category):
    data = csv_bytes("Ticket,Created,Closed,Impact,Product", "7,2012-05-01T09:00:00Z,,Major,Billing question")
    record = uploaded(
        supervisor,
        data,
        reference="Ticket",
        opened_at="Created",
        resolved_at="Closed",
        priority="impact",
        category="Product",
    )
    assert record.mapping["columns"] == {
        "reference": "Ticket",
        "opened_at": "Created",
        "resolved_at": "Closed",
        "priority": "impact",
        "category": "Product",
    }
    supervisor.post(url("history-import", record.pk), {})
    tasks.import_uploaded_history(record.pk)
    assert PastTicket.objects.get().key == "7"


def test_cancelling_an_upload_forgets_it_and_its_file(supervisor, category, settings):
    record = uploaded(supervisor, csv_bytes(HEADER, OPEN))
    response = supervisor.post(url("history-cancel", record.pk))
    assert response["Location"] == url("history")
    assert not HistoryImport.objects.exists()
    assert kept_files(settings) == []


def test_too_late_to_cancel_once_queued(supervisor, category):
    record = uploaded(supervisor, csv_bytes(HEADER, OPEN))
    supervisor.post(url("history-import", record.pk), {})
    response = supervisor.post(url("history-cancel", record.pk))
    assert response["Location"] == url("history-import", record.pk)
    assert HistoryImport.objects.get().state == ImportState.QUEUED


def test_answers_sent_twice_queue_the_import_once(supervisor, category, django_capture_on_commit_callbacks):
    record = uploaded(supervisor, csv_bytes(HEADER, OPEN))
    with django_capture_on_commit_callbacks() as queued:
        supervisor.post(url("history-import", record.pk), {})
        again = supervisor.post(url("history-import", record.pk), {})
    assert again["Location"] == url("history-import", record.pk)
    assert len(queued) == 1


# --- Refused at once --------------------------------------------------------------------------------


def test_a_file_with_bad_rows_is_refused_with_every_one_and_not_kept(supervisor, category, settings):
    data = csv_bytes(
        HEADER,
        OPEN,
        "PD-2,2012-05-01 09:00,,High,X,,,",
        OPEN,
        "PD-3,2012-05-02T09:00:00Z,2012-05-01T09:00:00Z,High,X,,,",
    )
    before = everything()[0]
    record = uploaded(supervisor, data)
    assert record.state == ImportState.REFUSED
    assert everything()[0] == before  # not a past ticket
    assert kept_files(settings) == []
    assert "Nothing was imported. 3 rows can't be imported." in words(supervisor.get(url("history-import", record.pk)))
    text = page(supervisor.get(url("history-import", record.pk)))
    rows = re.findall(r'<tr data-line="(\d+)">.*?<code data-column>(\w+)</code>: <span data-why>(.*?)</span>', text)
    assert rows == [
        ("3", "opened_at", "no time zone: write it with its offset, e.g. 2012-05-01T09:00:00+02:00"),
        ("4", "reference", "“PD-1” is also on line 2: each ticket once"),
        ("5", "resolved_at", "before opened_at (2012-05-02T09:00:00Z): a ticket is resolved after it is opened"),
    ]
    download = supervisor.get(url("history-problems", record.pk))
    assert download["Content-Disposition"] == f'attachment; filename="import-{record.pk}-problems.txt"'
    assert download.content.decode().splitlines() == [
        "3 rows can't be imported.",
        "line 3, opened_at: no time zone: write it with its offset, e.g. 2012-05-01T09:00:00+02:00",
        "line 4, reference: “PD-1” is also on line 2: each ticket once",
        "line 5, resolved_at: before opened_at (2012-05-02T09:00:00Z): a ticket is resolved after it is opened",
    ]


@pytest.mark.parametrize(
    ("data", "columns", "error"),
    [
        (None, {}, "Choose the CSV file to import."),
        (b"", {}, "The file is empty: choose another."),
        (b"\n\n", {}, "The file is empty: it needs a header line and a line per past ticket."),
        (csv_bytes(HEADER), {}, "The file has a header but no past tickets under it: nothing to import."),
        (
            csv_bytes("reference,opened,resolved_at,priority,category", "PD-1,x,,High,Billing"),
            {},
            "The file has no column opened_at, which every history file needs",
        ),
        (
            csv_bytes(HEADER, OPEN),
            {"priority": "Impact"},
            "priority is mapped to the column “Impact”, but the file has none",
        ),
        (csv_bytes(HEADER, OPEN), {"team": "x" * 101}, "A column's name is at most 100 characters."),
        (
            csv_bytes(HEADER, OPEN.replace("Billing", "Facturación")).decode().encode("latin-1"),
            {},
            "Line 2 is not UTF-8 text",
        ),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_on_the_form(data, columns, error, supervisor, category, settings):
    fields = {f"column_{ours}": theirs for ours, theirs in columns.items()}
    if data is not None:
        fields["file"] = SimpleUploadedFile("x.csv", data, "text/csv")
    before = everything()
    response = supervisor.post(url("history"), fields)
    assert response.status_code == 400
    assert error in page(response)
    assert everything() == before
    assert kept_files(settings) == []


def test_a_file_over_the_size_limit_is_refused_on_the_form(supervisor, category, settings):
    settings.HISTORY_IMPORT_MAX_BYTES = 1024 * 1024
    data = csv_bytes(HEADER, *[OPEN.replace("PD-1", f"PD-{n}") for n in range(20_000)])
    response = upload(supervisor, data)
    assert response.status_code == 400
    assert "The file is larger than 1 MB, the most an import takes (HISTORY_IMPORT_MAX_MB)" in page(response)
    assert not HistoryImport.objects.exists()


def test_the_same_file_again_is_refused_as_already_imported(supervisor, category):
    data = csv_bytes(HEADER, OPEN)
    record = uploaded(supervisor, data)
    supervisor.post(url("history-import", record.pk), {})
    tasks.import_uploaded_history(record.pk)
    response = upload(supervisor, data, name="again.csv")
    assert response["Location"] == url("history")
    listing = page(supervisor.get(url("history")))
    assert "history.csv was already imported on " in listing
    assert "by carol: nothing to add." in listing
    assert HistoryImport.objects.count() == 1


def test_the_list_shows_each_import_with_its_figures(supervisor, category, carol):
    record = uploaded(supervisor, csv_bytes(HEADER, OPEN, OTHER.replace("P1", "High")))
    supervisor.post(url("history-import", record.pk), {})
    tasks.import_uploaded_history(record.pk)
    HistoryImport.objects.create(file_name="old.csv", digest="0" * 64, started_at=record.started_at, rows=5, added=5)
    text = page(supervisor.get(url("history")))
    row = text[text.index(f'data-import="{record.pk}"') :]
    row = row[: row.index("</tr>")]
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
    assert [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells[1:7]] == [
        "imported",
        "2",
        "2",
        "0",
        "0",
        carol.get_full_name(),
    ]
    assert "command line" in text  # old.csv came through the command
    assert Category.objects.filter(name="PROD582", is_active=False).exists()


def test_the_configuration_overview_links_to_the_history(supervisor, db):
    assert f'href="{url("history")}"' in page(supervisor.get(url("index")))


def test_an_unknown_import_is_404(supervisor, db):
    assert supervisor.get(url("history-import", 999999)).status_code == 404
    assert supervisor.get(url("history-problems", 999999)).status_code == 404
    assert supervisor.post(url("history-cancel", 999999)).status_code == 404


def test_a_category_made_since_the_upload_is_offered(supervisor, category, standard_path):
    record = uploaded(supervisor, csv_bytes(HEADER, OTHER.replace("P1", "High")))
    CategoryFactory(name="Refunds", escalation_path=standard_path)
    assert '<option value="Refunds"></option>' in page(supervisor.get(url("history-import", record.pk)))


def test_a_category_the_desk_does_not_have_is_refused_naming_the_way_out(supervisor, category):
    record = uploaded(supervisor, csv_bytes(HEADER, OTHER.replace("P1", "High")))
    before = everything()
    response = supervisor.post(url("history-import", record.pk), {"category-0": "Refundz"})
    assert response.status_code == 400
    assert "The desk has no category “Refundz”: choose one of the list, or leave it empty to create “PROD582”." in page(
        response
    )
    assert everything() == before


def test_past_a_thousand_bad_rows_the_page_counts_the_rest_and_the_download_has_them_all(supervisor, category):
    record = uploaded(supervisor, csv_bytes(HEADER, *[f"PD-{n},yesterday,,High,X,,," for n in range(1005)]))
    text = page(supervisor.get(url("history-import", record.pk)))
    assert text.count("<tr data-line=") == 1000
    assert "And 5 more." in text
    assert len(supervisor.get(url("history-problems", record.pk)).content.decode().splitlines()) == 1 + 1005
