"""``manage.py import_history``: what it says and its exit status, for good files, bad ones, mappings and a
dry run. Run as from a shell (``run_from_argv``), so a refusal is exit status 1 with the reasons on stderr."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.management import CommandError, base, call_command, load_command_class

from tests.estimates import HEADER, csv_bytes, everything, shared_file
from tests.factories import CategoryFactory
from tickets.models import Category, HistoryImport, PastTicket, Priority

OPEN = "PD-1,2012-05-01T09:00:00+02:00,,Medium,Billing question,Front,L1,0"


@pytest.fixture
def run(capsys, monkeypatch):
    """``run(*args)``: (exit status, stdout, stderr) of ``manage.py import_history *args``."""
    # From a shell the command closes the database connections when it ends; the test still needs its own.
    monkeypatch.setattr(base.connections, "close_all", lambda: None)

    def shell(*args: str | Path) -> tuple[int, str, str]:
        command = load_command_class("tickets", "import_history")
        try:
            command.run_from_argv(["manage.py", "import_history", *map(str, args)])
            status = 0
        except SystemExit as exit:
            status = int(exit.code or 0)
        out, err = capsys.readouterr()
        return status, out, err

    return shell


@pytest.fixture
def write(tmp_path):
    def to_file(*lines: str, name: str = "history.csv") -> Path:
        path = tmp_path / name
        path.write_bytes(csv_bytes(*lines))
        return path

    return to_file


def test_a_shared_log_imports_and_the_second_time_adds_nothing(standard_path, run):
    path = shared_file("volvo-it-2013-tickets.csv")
    status, out, err = run(path)
    assert (status, err) == (0, "")
    assert out == (
        "Imported 7,554 past tickets from volvo-it-2013-tickets.csv: 7,554 added, 0 updated, 0 unchanged; "
        "704 new categories (inactive).\n"
    )
    before = everything()
    status, out, err = run(path)
    assert (status, err) == (0, "")
    assert re.fullmatch(
        r"volvo-it-2013-tickets\.csv was already imported on \d+ \w+ \d{4} at \d\d:\d\d: nothing to add\.\n", out
    )
    assert everything() == before


def test_bad_rows_are_each_reported_and_nothing_is_imported(category, write, run):
    path = write(
        HEADER, OPEN, "PD-2,2012-05-01 09:00,,Medium,Billing question,,,", OPEN, "PD-3,2012-05-01T09:00:00Z,,P1,X,,,"
    )
    before = everything()
    status, out, err = run(path)
    assert (status, out) == (1, "")
    assert err.splitlines() == [
        "line 3, opened_at: no time zone: write it with its offset, e.g. 2012-05-01T09:00:00+02:00",
        "line 4, reference: “PD-1” is also on line 2: each ticket once",
        "line 5, priority: “P1” is not a priority we know: the known ones are low, normal, medium, moderate, high, "
        "urgent, major, critical, highest; map it to one of ours (low, normal, high, urgent)",
        "Correct the file, or map: columns with --map ours=theirs, priorities with --priority theirs=ours, "
        "categories with --category theirs=ours.",
        "CommandError: Nothing imported: 3 rows of history.csv can't be.",
    ]
    assert everything() == before


def test_past_fifty_bad_rows_the_rest_go_to_a_file(category, write, run):
    path = write(HEADER, *[f"PD-{n},yesterday,,Medium,Billing question,,," for n in range(120)])
    status, _, err = run(path)
    assert status == 1
    lines = err.splitlines()
    assert len([line for line in lines if line.startswith("line ")]) == 50
    [summary] = [line for line in lines if line.startswith("…")]
    found = re.fullmatch(r"… and 70 more: all 120 are in (\S+)", summary)
    assert found, summary
    written = Path(found[1]).read_text().splitlines()
    assert len(written) == 120
    assert written[-1].startswith("line 121, opened_at: “yesterday” is not a date and time")
    Path(found[1]).unlink()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "Nothing imported: The file is empty: it needs a header line and a line per past ticket."),
        (
            b"reference,opened\nPD-1,x\n",
            "Nothing imported: The file has no column opened_at and no column resolved_at and no column priority and "
            "no column category, which every history file needs",
        ),
        (b"\xff\xfe" + HEADER.encode("utf-16-le"), "Nothing imported: Line 1 is not UTF-8 text"),
    ],
)
def test_an_unusable_file_is_refused_whole(content, message, tmp_path, db, run):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    status, out, err = run(path)
    assert (status, out) == (1, "")
    assert err.startswith(f"CommandError: {message}")


def test_a_file_over_the_limit_is_refused(write, settings, db, run):
    settings.HISTORY_IMPORT_MAX_BYTES = 200
    status, _, err = run(write(HEADER, OPEN, OPEN.replace("PD-1", "PD-2")))
    assert status == 1
    assert err == (
        "CommandError: Nothing imported: The file is larger than 0.000190735 MB, the most an import takes "
        "(HISTORY_IMPORT_MAX_MB): split it into smaller files, each with the header line.\n"
    )


def test_a_missing_file_is_an_error(tmp_path, db, run):
    assert run(tmp_path / "nowhere.csv")[2] == f"CommandError: No file {tmp_path / 'nowhere.csv'}.\n"


def test_columns_priorities_and_categories_map_through_the_options(category, standard_path, write, run):
    refunds = CategoryFactory(name="Refunds", slug="refunds", escalation_path=standard_path)
    path = write(
        "Ticket,Created,Closed,Impact,Product",
        "7,2012-05-01T09:00:00Z,,P1,PROD582",
        "8,2012-05-01T10:00:00Z,,Medium,PROD9",
        name="other.csv",
    )
    mapping = ["--map", "reference=Ticket", "--map", "opened_at=Created", "--map", "resolved_at=closed"]
    mapping += ["--map", "priority=Impact", "--map", "category=Product"]
    mapping += ["--priority", "P1=Urgent", "--priority", "medium=high", "--category", "PROD582=REFUNDS"]
    status, out, err = run(path, *mapping)
    assert (status, err) == (0, "")
    assert (
        out == "Imported 2 past tickets from other.csv: 2 added, 0 updated, 0 unchanged; 1 new category (inactive).\n"
    )
    assert dict(PastTicket.objects.values_list("key", "priority")) == {"7": Priority.URGENT, "8": Priority.HIGH}
    assert dict(PastTicket.objects.values_list("key", "category__name")) == {"7": "Refunds", "8": "PROD9"}
    assert refunds.past_tickets.count() == 1


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--map", "priority"], "--map 'priority': write it as OURS=THEIRS."),
        (["--priority", "=High"], "--priority '=High': write it as THEIRS=OURS."),
        (["--priority", "P1=Soon"], "--priority: 'Soon' is not one of our priorities (Low, Normal, High, Urgent)."),
        (
            ["--category", "PROD1=Nothing"],
            "--category: the desk has no category 'Nothing' (by name or slug): create it on the Configuration page, "
            "or leave the mapping out to create their category as a new, inactive one.",
        ),
        (["--map", "impact=Impact"], "Nothing imported: There is no column “impact” of ours to map"),
    ],
)
def test_bad_options_are_refused_saying_how_to_write_them(option, message, category, write, run):
    status, out, err = run(write(HEADER, OPEN), *option)
    assert (status, out) == (1, "")
    assert err.startswith(f"CommandError: {message}")
    assert not PastTicket.objects.exists()


def test_a_dry_run_says_what_it_would_do_and_imports_nothing(category, write, run):
    before = everything()
    status, out, err = run(write(HEADER, OPEN, OPEN.replace("PD-1", "PD-2").replace("Billing", "Other")), "--dry-run")
    assert (status, err) == (0, "")
    assert out == (
        "Dry run, nothing imported: it would import 2 past tickets from history.csv: 2 added, 0 updated, "
        "0 unchanged; 1 new category (inactive).\n"
    )
    assert everything() == before
    assert not HistoryImport.objects.exists()
    assert Category.objects.count() == 1


def test_call_command_raises_on_refusal(category, write):
    with pytest.raises(CommandError, match=r"Nothing imported: 1 row of history\.csv can't be\."):
        call_command("import_history", str(write(HEADER, OPEN.replace("Medium", ""))))
