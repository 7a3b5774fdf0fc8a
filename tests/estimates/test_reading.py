"""Reading a history file: every bad row is reported with its line, its column and why, a file that can't be
read at all is refused whole with a message saying what to do, and good rows come out as the file says them."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.estimates import HEADER, csv_bytes, read
from tickets.estimates.files import HistoryFileError, HistoryRow, Problem, read_history

GOOD = "PD-1,2012-05-01T09:00:00+02:00,2012-05-02T09:30:00+02:00,Medium,Billing,Front,L2,3600"


def problems(*lines: str, **options) -> list[str]:
    rows, found = read(csv_bytes(HEADER, *lines), **options)
    assert len(rows) + len({problem.line for problem in found}) == sum(1 for line in lines if line.strip(", "))
    return [str(problem) for problem in found]


def test_a_good_row_is_read_as_the_file_says_it():
    rows, found = read(csv_bytes(HEADER, GOOD, "PD-2,2012-05-03T10:00:00Z,,(none),(none),,,"))
    assert found == []
    assert rows == [
        HistoryRow(
            line=2,
            reference="PD-1",
            opened_at=datetime(2012, 5, 1, 7, 0, tzinfo=UTC),
            resolved_at=datetime(2012, 5, 2, 7, 30, tzinfo=UTC),
            priority="Medium",
            category="Billing",
            team="Front",
            highest_level="L2",
            waited=timedelta(hours=1),
        ),
        HistoryRow(
            line=3,
            reference="PD-2",
            opened_at=datetime(2012, 5, 3, 10, 0, tzinfo=UTC),
            resolved_at=None,
            priority="(none)",
            category="(none)",
            team="",
            highest_level="",
            waited=timedelta(0),
        ),
    ]
    assert rows[0].opened_at.utcoffset() == timedelta(hours=2)  # the offset as written, the same instant


def test_only_the_required_columns_are_needed_in_any_order_and_case():
    rows, found = read(
        csv_bytes(" Category ,PRIORITY,resolved_at,opened_at", "Billing,High,,2012-05-01T09:00:00+01:00")
    )
    assert found == []
    [row] = rows
    assert (row.reference, row.team, row.highest_level, row.waited) == ("", "", "", timedelta(0))
    assert row.opened_at == datetime(2012, 5, 1, 9, 0, tzinfo=timezone(timedelta(hours=1)))


def test_a_byte_order_mark_windows_line_ends_and_quoted_commas_are_fine():
    data = "\ufeff" + HEADER + '\r\nPD-1,2012-05-01T09:00:00+02:00,,High,"Billing, refunds",Front,L1,0\r\n'
    rows, found = read(data.encode())
    assert found == []
    assert rows[0].category == "Billing, refunds"
    assert rows[0].reference == "PD-1"


def test_a_text_stream_reads_like_bytes():
    rows, found = read_history(io.StringIO(f"{HEADER}\n{GOOD}\n"))
    assert (len(rows), found) == (1, [])


def test_blank_lines_and_rows_of_empty_cells_are_skipped_but_counted():
    rows, found = read(csv_bytes(HEADER, "", ",,,,,,,", GOOD, "PD-2,not a date,,High,Billing,,,"))
    assert [row.line for row in rows] == [4]
    assert [problem.line for problem in found] == [5]


def test_bad_and_naive_dates_say_how_to_write_them():
    assert problems(
        "PD-1,2012-05-01 09:00,,High,Billing,,,",
        "PD-2,2012-05-01T09:00:00+02:00,01/05/2012 10:00,High,Billing,,,",
        "PD-3,2012-05-01T09:00:00+02:00,2012-05-02T09:00:00,High,Billing,,,",
        "PD-4,,,High,Billing,,,",
        "PD-5,2012-02-30T09:00:00+02:00,,High,Billing,,,",
    ) == [
        "line 2, opened_at: no time zone: write it with its offset, e.g. 2012-05-01T09:00:00+02:00",
        "line 3, resolved_at: “01/05/2012 10:00” is not a date and time: write it as ISO 8601 with its offset, "
        "e.g. 2012-05-01T09:00:00+02:00",
        "line 4, resolved_at: no time zone: write it with its offset, e.g. 2012-05-01T09:00:00+02:00",
        "line 5, opened_at: empty: every ticket needs the time it was opened",
        "line 6, opened_at: “2012-02-30T09:00:00+02:00” is not a date and time: write it as ISO 8601 with its "
        "offset, e.g. 2012-05-01T09:00:00+02:00",
    ]


def test_resolved_before_opened_is_refused_even_across_offsets():
    assert problems(
        "PD-1,2012-05-01T09:00:00+02:00,2012-05-01T08:59:59+02:00,High,Billing,,,",
        # 08:30 in London is 09:30 in Paris: after opening, though it reads earlier.
        "PD-2,2012-05-01T09:00:00+02:00,2012-05-01T08:30:00+01:00,High,Billing,,,",
    ) == ["line 2, resolved_at: before opened_at (2012-05-01T09:00:00+02:00): a ticket is resolved after it is opened"]


def test_waiting_must_be_a_non_negative_number_of_seconds():
    assert problems(
        "PD-1,2012-05-01T09:00:00+02:00,,High,Billing,,,-5",
        "PD-2,2012-05-01T09:00:00+02:00,,High,Billing,,,an hour",
        "PD-3,2012-05-01T09:00:00+02:00,,High,Billing,,,nan",
        "PD-4,2012-05-01T09:00:00+02:00,,High,Billing,,,90.5",
    ) == [
        "line 2, waiting_on_customer_seconds: -5 is negative: time spent waiting can't be",
        "line 3, waiting_on_customer_seconds: “an hour” is not a number of seconds",
        "line 4, waiting_on_customer_seconds: “nan” is not a number of seconds",
    ]


def test_a_duplicate_reference_names_both_lines():
    assert problems(GOOD, "PD-2,2012-05-01T09:00:00+02:00,,High,Billing,,,", GOOD.replace("Medium", "High")) == [
        "line 4, reference: “PD-1” is also on line 2: each ticket once"
    ]


def test_empty_required_values_and_a_wrong_number_of_values():
    assert problems(
        "PD-1,2012-05-01T09:00:00+02:00,,,Billing,,,",
        "PD-2,2012-05-01T09:00:00+02:00,,High,,,,",
        "PD-3,2012-05-01T09:00:00+02:00,,High,Billing, refunds,,,",
        "PD-4,2012-05-01T09:00:00+02:00,,High",
    ) == [
        "line 2, priority: empty: every ticket needs a priority",
        "line 3, category: empty: write (none) for a ticket without one",
        "line 4: has 9 values where the header has 8 columns: quote values that hold a comma",
        "line 5: has 4 values where the header has 8 columns: quote values that hold a comma",
    ]


def test_every_problem_of_a_row_is_reported_and_the_row_left_out():
    rows, found = read(csv_bytes(HEADER, "PD-0,yesterday,tomorrow,,,,,-1", GOOD))
    assert [row.line for row in rows] == [3]
    assert [str(problem) for problem in found] == [
        "line 2, opened_at: “yesterday” is not a date and time: write it as ISO 8601 with its offset, e.g. "
        "2012-05-01T09:00:00+02:00",
        "line 2, resolved_at: “tomorrow” is not a date and time: write it as ISO 8601 with its offset, e.g. "
        "2012-05-01T09:00:00+02:00",
        "line 2, priority: empty: every ticket needs a priority",
        "line 2, category: empty: write (none) for a ticket without one",
        "line 2, waiting_on_customer_seconds: -1 is negative: time spent waiting can't be",
    ]


def test_line_numbers_count_the_lines_of_a_quoted_value_that_spans_several():
    data = csv_bytes(HEADER, 'PD-1,2012-05-01T09:00:00+02:00,,High,"Billing\nand more",,,', "PD-2,bad,,High,X,,,")
    rows, found = read(data)
    assert [row.line for row in rows] == [2]
    assert [(problem.line, problem.column) for problem in found] == [(4, "opened_at")]


def test_a_long_bad_value_is_cut_short_in_the_message():
    [problem] = read(csv_bytes(HEADER, f"PD-1,{'9' * 100},,High,Billing,,,"))[1]
    assert problem == Problem(
        2,
        "opened_at",
        f"“{'9' * 39}…” is not a date and time: write it as ISO 8601 with its offset, e.g. 2012-05-01T09:00:00+02:00",
    )


# --- Files that can't be read at all ------------------------------------------------------------


def refused(data: bytes, **options) -> str:
    with pytest.raises(HistoryFileError) as error:
        read(data, **options)
    return str(error.value)


@pytest.mark.parametrize("data", [b"", b"\n\n", b"\xef\xbb\xbf", b",,,\n"])
def test_an_empty_file_is_refused(data):
    assert refused(data) == "The file is empty: it needs a header line and a line per past ticket."


def test_a_file_with_only_a_header_is_refused():
    assert refused(csv_bytes(HEADER, "")) == "The file has a header but no past tickets under it: nothing to import."


def test_a_missing_column_is_named_with_the_columns_the_file_has():
    assert refused(csv_bytes("reference,opened,resolved_at,priority,category", "PD-1,x,,High,Billing")) == (
        "The file has no column opened_at, which every history file needs: its columns are “reference”, “opened”, "
        "“resolved_at”, “priority”, “category”. Rename the column in the file, or map ours to it "
        "(e.g. opened_at=reference)."
    )


def test_several_missing_columns_are_all_named():
    message = refused(csv_bytes("Ticket,Created,Closed,Impact,Product", "1,x,y,z,w"))
    assert message.startswith(
        "The file has no column opened_at and no column resolved_at and no column priority and no column category,"
    )


def test_renamed_columns_are_read_through_a_mapping():
    columns = {"opened_at": "Created", "resolved_at": "Closed", "priority": "impact", "category": "Product"}
    columns["reference"] = "Ticket"
    rows, found = read(
        csv_bytes("Ticket,Created,Closed,Impact,Product", "7,2012-05-01T09:00:00Z,,Major,P1"), columns=columns
    )
    assert found == []
    assert (rows[0].reference, rows[0].priority, rows[0].category) == ("7", "Major", "P1")


def test_a_mapping_to_a_column_the_file_lacks_is_refused():
    assert refused(csv_bytes(HEADER, GOOD), columns={"priority": "Impact"}) == (
        "priority is mapped to the column “Impact”, but the file has none: its columns are “reference”, "
        "“opened_at”, “resolved_at”, “priority”, “category”, “team”, “highest_level”, "
        "“waiting_on_customer_seconds”."
    )


def test_a_mapping_of_a_column_we_do_not_have_is_refused():
    assert refused(csv_bytes(HEADER, GOOD), columns={"impact": "priority"}) == (
        "There is no column “impact” of ours to map: ours are reference, opened_at, resolved_at, priority, "
        "category, team, highest_level, waiting_on_customer_seconds."
    )


def test_a_column_named_twice_is_refused():
    assert refused(csv_bytes(HEADER + ",Category", GOOD + ",x")) == (
        "The header names the column “Category” twice: name each column once."
    )


def test_a_file_that_is_not_utf8_is_refused_naming_the_line():
    data = csv_bytes(HEADER, GOOD) + "PD-2,2012-05-01T09:00:00+02:00,,High,Facturación,,,\n".encode("latin-1")
    assert refused(data) == (
        "Line 3 is not UTF-8 text: save the file as UTF-8 (“CSV UTF-8” in a spreadsheet) and try again."
    )


def test_a_file_over_the_size_limit_is_refused_before_it_is_read_whole(settings):
    settings.HISTORY_IMPORT_MAX_BYTES = 1024 * 1024
    data = csv_bytes(HEADER, *[GOOD.replace("PD-1", f"PD-{i}") for i in range(2 * 1024 * 1024 // len(GOOD))])
    assert refused(data) == (
        "The file is larger than 1 MB, the most an import takes (HISTORY_IMPORT_MAX_MB): split it into smaller "
        "files, each with the header line."
    )
    assert read(data[: 1024 * 1024 - 100].rsplit(b"\n", 1)[0])[1] == []  # just under the limit: read


def test_a_nul_character_is_refused_as_not_text():
    assert refused(csv_bytes(HEADER, GOOD.replace("Billing", "Bil\x00ling"))) == (
        "Line 2 holds a NUL character: this is not a CSV text file (a spreadsheet's own format?): save it as "
        "CSV UTF-8 and try again."
    )


def test_progress_is_told_how_much_was_read_ending_with_the_whole_size():
    data = csv_bytes(HEADER, *[GOOD.replace("PD-1", f"PD-{i}") for i in range(20_000)])
    told: list[int] = []
    read(data, progress=told.append)
    assert told == sorted(told)
    assert len(told) > 3
    assert told[-1] == len(data)
