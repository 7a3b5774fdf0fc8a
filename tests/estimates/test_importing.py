"""Importing a history file: both real logs import as they are; the same file twice adds nothing and an
updated export updates what changed; priorities and categories are matched, mapped or created; a file with
any bad row is refused whole with every reason, and nothing is ever half-imported. Past tickets never reach
a queue or an outbox."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from tests.estimates import HEADER, csv_bytes, digest, everything, imported, read, shared_file
from tests.factories import CategoryFactory
from tickets.estimates import importer
from tickets.estimates.importer import AlreadyImported, ImportRefused, import_history, row_key
from tickets.models import (
    Category,
    CustomerEmail,
    Notification,
    PastTicket,
    Priority,
    Ticket,
)

OPEN = "PD-1,2012-05-01T09:00:00+02:00,,Medium,Billing question,Front,L1,0"
RESOLVED = "PD-1,2012-05-01T09:00:00+02:00,2012-05-03T09:00:00+02:00,Medium,Billing question,Front,L2,600"
OTHER = "PD-2,2012-05-02T10:00:00+02:00,2012-05-02T12:00:00+02:00,High,Billing question,Front,L1,0"


def refusal(data: bytes, **options) -> ImportRefused:
    before = everything()
    with pytest.raises(ImportRefused) as refused:
        imported(data, **options)
    assert everything() == before  # nothing half-imported
    return refused.value


# --- The real logs --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "tickets", "categories", "priorities"),
    [
        ("helpdesk-2010-2012-tickets.csv", 3804, 1, {Priority.NORMAL: 3804}),
        (
            "volvo-it-2013-tickets.csv",
            7554,
            704,
            {Priority.LOW: 3245, Priority.NORMAL: 4045, Priority.HIGH: 261, Priority.URGENT: 3},
        ),
    ],
)
def test_both_shared_logs_import_as_they_are(name, tickets, categories, priorities, standard_path, carol):
    data = shared_file(name).read_bytes()
    record = imported(data, name=name, by=carol)
    assert record.summary() == (
        f"Imported {tickets:,} past tickets from {name}: {tickets:,} added, 0 updated, 0 unchanged; "
        f"{categories} new categor{'y' if categories == 1 else 'ies'} (inactive)"
    )
    assert (record.imported_by, record.digest, record.state) == (carol, digest(data), "imported")
    assert record.finished_at >= record.started_at
    assert PastTicket.objects.filter(source=record).count() == tickets
    assert Counter(PastTicket.objects.values_list("priority", flat=True)) == priorities
    created = Category.objects.filter(past_tickets__isnull=False).distinct()
    assert created.count() == categories
    assert not created.filter(is_active=True).exists()
    assert set(created.values_list("escalation_path", flat=True)) == {standard_path.pk}


def test_the_volvo_log_keeps_what_each_ticket_said(standard_path):
    imported(shared_file("volvo-it-2013-tickets.csv").read_bytes())
    first = PastTicket.objects.get(key="1-467153946")
    assert (first.reference, first.category.name, first.priority) == ("1-467153946", "PROD453", Priority.NORMAL)
    assert (first.team_name, first.highest_level, first.waited) == ("S42", "L3", timedelta(seconds=337359))
    assert first.opened_at == datetime(2011, 1, 31, 10, 12, 22, tzinfo=UTC)
    assert first.resolved_at == datetime(2012, 5, 15, 15, 57, 39, tzinfo=UTC)


def test_past_tickets_never_reach_a_queue_or_an_outbox(standard_path, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        imported(shared_file("helpdesk-2010-2012-tickets.csv").read_bytes())
    assert callbacks == []  # no task, no email nudged
    assert not Ticket.objects.exists()
    assert not Notification.objects.exists()
    assert not CustomerEmail.objects.exists()
    assert mail.outbox == []


# --- Idempotent -----------------------------------------------------------------------------------


def test_the_same_file_twice_adds_nothing(category, carol):
    data = csv_bytes(HEADER, OPEN, OTHER)
    first = imported(data, name="desk.csv", by=carol)
    before = everything()
    with pytest.raises(AlreadyImported) as already:
        imported(data, name="renamed.csv")
    assert str(already.value) == (
        f"desk.csv was already imported on {first.started_at:%-d %B %Y at %H:%M} by carol: nothing to add."
    )
    assert already.value.previous == first
    assert everything() == before


def test_the_same_rows_in_another_file_are_unchanged_and_not_written(category):
    imported(csv_bytes(HEADER, OPEN, OTHER))
    rows_before = list(PastTicket.objects.order_by("pk").values())
    again = imported(csv_bytes(HEADER, OTHER, OPEN))  # another order: another digest
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)
    assert list(PastTicket.objects.order_by("pk").values()) == rows_before  # still from the first import


def test_an_updated_export_updates_what_changed_and_adds_what_is_new(category):
    first = imported(csv_bytes(HEADER, OPEN, OTHER))
    third = "PD-3,2012-05-04T10:00:00+02:00,,Low,Billing question,Back,L1,0"
    update = imported(csv_bytes(HEADER, RESOLVED, OTHER, third))
    assert update.summary() == ("Imported 3 past tickets from history.csv: 1 added, 1 updated, 1 unchanged")
    resolved = PastTicket.objects.get(key="PD-1")
    assert resolved.resolved_at == datetime(2012, 5, 3, 7, 0, tzinfo=UTC)
    assert (resolved.highest_level, resolved.waited, resolved.source) == ("L2", timedelta(minutes=10), update)
    assert PastTicket.objects.get(key="PD-2").source == first
    assert PastTicket.objects.count() == 3


def test_rows_without_a_reference_are_known_again_by_what_they_say(category):
    row = ",2012-05-01T09:00:00+02:00,,Medium,Billing question,Front,L1,0"
    first = imported(csv_bytes(HEADER, row, row, row.replace("Front", "Back")))
    assert first.added == 3  # two identical rows are two tickets
    keys = set(PastTicket.objects.values_list("key", flat=True))
    assert len(keys) == 3
    assert all(key.startswith("row:") for key in keys)
    # The same rows, written with another offset and case, and resolved since: the same tickets.
    resolved = ",2012-05-01T08:00:00+01:00,2012-05-02T08:00:00+01:00,MEDIUM,billing question,front,L1,0"
    again = imported(csv_bytes(HEADER, resolved, resolved, row.replace("Front", "Back"), row))
    assert (again.added, again.updated, again.unchanged) == (1, 2, 1)
    assert set(PastTicket.objects.values_list("key", flat=True)) > keys


def test_a_row_key_is_its_reference_or_a_digest():
    rows, _ = read(csv_bytes(HEADER, OPEN, OPEN.replace("PD-1", "")))
    assert row_key(rows[0]) == "PD-1"
    assert row_key(rows[1]) != row_key(rows[1], 1)
    assert len(row_key(rows[1])) == len("row:") + 64


# --- Priorities -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "ours"),
    [
        ("low", Priority.LOW),
        ("Normal", Priority.NORMAL),
        ("MEDIUM", Priority.NORMAL),
        ("Moderate", Priority.NORMAL),
        ("High", Priority.HIGH),
        ("urgent", Priority.URGENT),
        ("Major", Priority.URGENT),
        ("Critical", Priority.URGENT),
        ("Highest", Priority.URGENT),
    ],
)
def test_common_priority_names_are_read_as_ours(written, ours, category):
    imported(csv_bytes(HEADER, OPEN.replace("Medium", written)))
    assert PastTicket.objects.get().priority == ours


def test_an_unknown_priority_is_refused_on_every_row_naming_the_known_ones(category):
    problem = refusal(
        csv_bytes(HEADER, OPEN.replace("Medium", "P1"), OTHER, OTHER.replace("PD-2", "PD-3").replace("High", "p1"))
    )
    assert str(problem) == "2 rows can't be imported."
    known = (
        "the known ones are low, normal, medium, moderate, high, urgent, major, critical, highest; "
        "map it to one of ours (low, normal, high, urgent)"
    )
    assert [str(p) for p in problem.problems] == [
        f"line 2, priority: “P1” is not a priority we know: {known}",
        f"line 4, priority: “p1” is not a priority we know: {known}",
    ]


def test_a_priority_mapping_reads_their_words_and_overrides_the_synonyms(category):
    imported(
        csv_bytes(HEADER, OPEN.replace("Medium", "P1"), OTHER.replace("High", "Medium")),
        priorities={"p1": Priority.URGENT, "Medium": Priority.HIGH},
    )
    assert dict(PastTicket.objects.values_list("key", "priority")) == {"PD-1": Priority.URGENT, "PD-2": Priority.HIGH}


def test_a_mapping_to_a_priority_we_do_not_have_is_refused(category):
    problem = refusal(csv_bytes(HEADER, OPEN), priorities={"Medium": 9})
    assert [p.column for p in problem.problems] == ["priority"]


# --- Categories -----------------------------------------------------------------------------------


def test_categories_match_by_name_or_slug_in_any_case(category):
    assert category.slug == "billing-question"
    imported(
        csv_bytes(
            HEADER,
            OPEN.replace("Billing question", "BILLING QUESTION"),
            OTHER.replace("Billing question", "billing-question"),
        )
    )
    assert set(PastTicket.objects.values_list("category", flat=True)) == {category.pk}
    assert Category.objects.count() == 1


def test_unknown_categories_are_created_inactive_once_each_with_a_slug_of_their_own(category, standard_path):
    CategoryFactory(name="Refunds", slug="prod-1", escalation_path=standard_path)
    record = imported(
        csv_bytes(
            HEADER,
            OPEN.replace("Billing question", "PROD 1"),
            OTHER.replace("Billing question", "prod 1"),
            OTHER.replace("PD-2", "PD-3").replace("Billing question", "(none)"),
        )
    )
    assert record.new_categories == 2
    created = Category.objects.filter(is_active=False).order_by("pk")
    assert list(created.values_list("name", "slug", "is_active")) == [
        ("PROD 1", "prod-1-2", False),
        ("(none)", "none", False),
    ]
    assert Counter(PastTicket.objects.values_list("category__name", flat=True)) == {"PROD 1": 2, "(none)": 1}


def test_a_category_mapping_puts_their_category_under_ours(category, standard_path):
    refunds = CategoryFactory(name="Refunds", escalation_path=standard_path)
    record = imported(
        csv_bytes(HEADER, OPEN.replace("Billing question", "PROD582"), OTHER),
        categories={"prod582": refunds.pk, "Billing question": refunds.pk},
    )
    assert record.new_categories == 0
    assert set(PastTicket.objects.values_list("category", flat=True)) == {refunds.pk}


def test_a_mapping_to_a_category_that_does_not_exist_is_an_error(category):
    with pytest.raises(ValueError, match=r"No category has the id 999999\."):
        imported(csv_bytes(HEADER, OPEN), categories={"Billing question": 999999})


def test_new_categories_need_an_escalation_path(db):
    problem = refusal(csv_bytes(HEADER, OPEN, OTHER.replace("Billing question", "Refunds")))
    assert str(problem) == (
        "The file has 2 categories new to the desk, and a category needs an escalation path: create one on the "
        "Configuration page first (or map them to existing categories)."
    )
    assert problem.problems == []


def test_values_too_long_for_their_column_are_refused(category):
    problem = refusal(
        csv_bytes(
            HEADER,
            OPEN.replace("PD-1", "R" * 101),
            OTHER.replace("Front", "T" * 101).replace(",L1,", f",{'L' * 51},"),
            OTHER.replace("PD-2", "PD-3").replace("Billing question", "C" * 101),
        )
    )
    assert [str(p) for p in problem.problems] == [
        f"line 2, reference: “{'R' * 39}…” is longer than the 100 characters it may have",
        f"line 3, team: “{'T' * 39}…” is longer than the 100 characters it may have",
        f"line 3, highest_level: “{'L' * 39}…” is longer than the 50 characters it may have",
        f"line 4, category: “{'C' * 39}…” is longer than a category's name may be (100 characters): map it to one "
        "of ours",
    ]


# --- All or nothing -------------------------------------------------------------------------------


def test_a_failure_while_writing_leaves_nothing_half_imported(category, monkeypatch):
    monkeypatch.setattr(importer, "BATCH", 2)
    data = csv_bytes(
        HEADER, *[OTHER.replace("PD-2", f"PD-{n}").replace("Billing question", f"New {n % 2}") for n in range(7)]
    )
    rows, _ = read(data)
    written: list[int] = []

    def fail_on_the_third_batch(n: int) -> None:
        written.append(n)
        if n > 4:
            raise RuntimeError("the database went away")

    before = everything()
    with pytest.raises(RuntimeError):
        import_history(
            rows,
            file_name="x.csv",
            digest=digest(data),
            by=None,
            now=datetime.now(UTC),
            progress=fail_on_the_third_batch,
        )
    assert written == [2, 4, 6]
    assert everything() == before  # not the batches written, nor the new categories, nor the import's row


def test_progress_is_told_the_rows_written(category, monkeypatch):
    monkeypatch.setattr(importer, "BATCH", 2)
    told: list[int] = []
    imported(csv_bytes(HEADER, *[OTHER.replace("PD-2", f"PD-{n}") for n in range(5)]), progress=told.append)
    assert told == [2, 4, 5]


def test_two_imports_of_the_same_file_at_once_cannot_both_be_recorded(category, monkeypatch):
    data = csv_bytes(HEADER, OPEN)
    first = imported(data)
    # The second checked before the first committed, so it saw nothing: the constraint stops it at the end.
    looks = iter([None])
    real = importer.already_imported
    monkeypatch.setattr(importer, "already_imported", lambda digest: next(looks, None) or real(digest))
    before = everything()
    with pytest.raises(AlreadyImported) as already:
        imported(data)
    assert already.value.previous == first
    assert everything() == before
