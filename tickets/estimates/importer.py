"""A history file's rows into ``PastTicket``s: the one write path for the desk's imported past, used by
``manage.py import_history`` and by the supervisors' upload (through ``tickets.estimates.uploads``).

Past tickets feed the estimates and the supervisors' history; they are never in a queue and never emailed,
so nothing here touches ``Ticket`` or the outboxes.

Steps of ``import_history``:

1. The same file (same SHA-256) imported before: ``AlreadyImported``, nothing written.
2. Every row checked before anything is written: its priority known (our names, their common synonyms,
   or the caller's ``priorities``), its category known (by name or slug, either case, or the caller's
   ``categories``) or one that can be created, its texts short enough for their columns. Any problem:
   ``ImportRefused`` with all of them, nothing written.
3. One transaction: the categories the file needs that the desk lacks are created (inactive, so the web
   form does not offer them, on the first escalation path); the rows whose key is new or whose values
   changed are upserted in batches (``INSERT … ON CONFLICT (key) DO UPDATE``), the unchanged ones left
   alone; the ``HistoryImport`` row records who, when and the counts.
   Anything added or changed, the estimates are refreshed in the same transaction: imported means the
   guard reads it.

A row's key is its reference, or for a row without one a digest of its opening time, category, priority
and team as written (and how many identical rows came before it in the file): so an updated export of the
same system updates its rows (a ticket since resolved), and the same rows twice add nothing.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta

from django.contrib.auth.models import User
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import slugify

from tickets.estimates.files import HistoryRow, Problem, quoted
from tickets.estimates.models import HistoryImport, ImportState, PastTicket
from tickets.estimates.refresh import refresh_estimates
from tickets.models import Category, EscalationPath, Priority

BATCH = 2000  # rows per upsert, and keys per look-up of what is stored

# The priorities other systems use, read case-insensitively, as ours (docs/history.md has the table).
PRIORITY_SYNONYMS: dict[str, int] = {
    "low": Priority.LOW,
    "normal": Priority.NORMAL,
    "medium": Priority.NORMAL,
    "moderate": Priority.NORMAL,
    "high": Priority.HIGH,
    "urgent": Priority.URGENT,
    "major": Priority.URGENT,
    "critical": Priority.URGENT,
    "highest": Priority.URGENT,
}
LENGTHS = (("reference", "reference"), ("team", "team_name"), ("highest_level", "highest_level"))  # row, field
FIGURES = ("rows", "added", "updated", "unchanged")
STORED = ("reference", "opened_at", "resolved_at", "category_id", "priority", "team_name", "highest_level", "waited")


class AlreadyImported(Exception):
    """This very file was imported before: there is nothing to add."""

    def __init__(self, previous: HistoryImport) -> None:
        self.previous = previous
        when = date_format(timezone.localtime(previous.started_at), "j F Y \\a\\t H:i")
        by = f" by {previous.imported_by.get_username()}" if previous.imported_by else ""
        super().__init__(f"{previous.file_name} was already imported on {when}{by}: nothing to add.")


class ImportRefused(Exception):
    """Nothing was imported: ``problems`` lists every bad row (empty when the reason is the desk's, not a row's)."""

    def __init__(self, reason: str, problems: Iterable[Problem] = ()) -> None:
        self.problems = sorted(problems, key=lambda problem: problem.line)
        super().__init__(reason)


def refusal(problems: list[Problem]) -> ImportRefused:
    """The refusal of a file with these bad rows."""
    n = len({problem.line for problem in problems})
    return ImportRefused(f"{n:,} row{'' if n == 1 else 's'} can't be imported.", problems)


def priority_of(word: str, priorities: Mapping[str, int] | None = None) -> int | None:
    """Our priority for a file's word: the caller's mapping first, then the synonyms; None if unknown."""
    folded = word.strip().casefold()
    for theirs, ours in (priorities or {}).items():
        if theirs.strip().casefold() == folded:
            return ours
    return PRIORITY_SYNONYMS.get(folded)


def known_categories() -> dict[str, int]:
    """Every category of the desk by its name and by its slug, case folded: what a file's words match."""
    known: dict[str, int] = {}
    for pk, name, slug in Category.objects.order_by("pk").values_list("pk", "name", "slug"):
        known.setdefault(slug.casefold(), pk)
        known[name.casefold()] = pk  # a name wins over another category's slug
    return known


def unknown_values(
    rows: Iterable[HistoryRow], *, priorities: Mapping[str, int] | None = None
) -> tuple[list[str], list[str]]:
    """The priorities and the categories of ``rows`` that the desk doesn't know, each once (as first
    written), in the order the file has them: what the upload page asks about."""
    known = known_categories()
    new_priorities: dict[str, str] = {}
    new_categories: dict[str, str] = {}
    for row in rows:
        if priority_of(row.priority, priorities) is None:
            new_priorities.setdefault(row.priority.casefold(), row.priority)
        if row.category.casefold() not in known:
            new_categories.setdefault(row.category.casefold(), row.category)
    return list(new_priorities.values()), list(new_categories.values())


def row_key(row: HistoryRow, repeat: int = 0) -> str:
    """The reference, or a digest of the row as written (``repeat``: how many identical rows came before)."""
    if row.reference:
        return row.reference
    words = (*_row_words(row), str(repeat))
    return "row:" + hashlib.sha256("\x1f".join(words).encode()).hexdigest()


def _row_words(row: HistoryRow) -> tuple[str, ...]:
    """What identifies a row without a reference, normalised: the instant it opened, and its words in any case."""
    return (
        row.opened_at.astimezone(UTC).isoformat(),
        row.category.casefold(),
        row.priority.casefold(),
        row.team.casefold(),
    )


def check_rows(
    rows: list[HistoryRow],
    *,
    priorities: Mapping[str, int] | None = None,
    categories: Mapping[str, int | None] | None = None,
) -> list[Problem]:
    """Step 2 alone: every reason a row read without problems still can't be imported, writing nothing."""
    return _Plan(rows, priorities=priorities or {}, categories=categories or {}).problems


def already_imported(digest: str) -> HistoryImport | None:
    """The import of the file with this SHA-256, if it was imported."""
    return HistoryImport.objects.select_related("imported_by").filter(digest=digest, state=ImportState.IMPORTED).first()


def import_history(
    rows: list[HistoryRow],
    *,
    file_name: str,
    digest: str,
    by: User | None,
    now: datetime,
    priorities: Mapping[str, int] | None = None,
    categories: Mapping[str, int | None] | None = None,
    progress: Callable[[int], None] | None = None,
    record: HistoryImport | None = None,
) -> HistoryImport:
    """Import ``rows`` (read by ``read_history`` with no problems) all or nothing; see the module's steps.

    ``priorities`` maps a file's priority to ours (1 Low … 4 Urgent); ``categories`` a file's category to
    one of ours by id, or to None to create it (as the desk does for any it doesn't know). ``progress`` is
    called with the rows written so far. ``record``: an upload's ``HistoryImport`` to fill in, rather than
    a new one.
    """
    started = time.monotonic()
    previous = already_imported(digest)
    if previous is not None:
        raise AlreadyImported(previous)
    plan = _Plan(rows, priorities=priorities or {}, categories=categories or {})
    if plan.problems:
        raise refusal(plan.problems)
    if record is None:
        record = HistoryImport(file_name=file_name, digest=digest, imported_by=by, started_at=now)
    try:
        with transaction.atomic():
            plan.create_categories()
            if record.pk is None:
                record.save()
            counts = _write(plan.past_tickets(record), progress=progress)
            record.rows, (record.added, record.updated, record.unchanged) = len(rows), counts
            if record.added or record.updated:
                refresh_estimates(now=now)  # imported means the guard reads it, not at the next periodic refresh
            record.new_categories = len(plan.created)
            record.state, record.progress = ImportState.IMPORTED, 100
            record.finished_at = now + timedelta(seconds=time.monotonic() - started)
            record.save(update_fields=[*FIGURES, "new_categories", "state", "progress", "finished_at"])
    except IntegrityError:
        previous = already_imported(digest)
        if previous is not None:  # imported by someone else a moment ago
            raise AlreadyImported(previous) from None
        raise ImportRefused(
            "Someone changed the categories while this file was imported, so nothing was imported: try again."
        ) from None
    return record


class _Plan:
    """Step 2: what each row becomes, and every reason a row can't be imported."""

    def __init__(
        self, rows: list[HistoryRow], *, priorities: Mapping[str, int], categories: Mapping[str, int | None]
    ) -> None:
        self.rows = rows
        self.problems: list[Problem] = []
        self.priorities: dict[str, int | None] = {}  # the file's word, case folded -> ours (None: unknown)
        self.categories: dict[str, int] = _categories_chosen(categories, known_categories())
        self.created: dict[str, Category] = {}  # the file's word, case folded -> a category to create
        name_limit = _max_length(Category, "name")
        self.limits = [(column, _max_length(PastTicket, field)) for column, field in LENGTHS]
        known = _known(priorities)
        for row in rows:
            folded = row.priority.casefold()
            if folded not in self.priorities:
                ours = priority_of(row.priority, priorities)
                self.priorities[folded] = ours if ours in Priority.values else None
            if self.priorities[folded] is None:
                self._problem(row, "priority", f"{quoted(row.priority)} is not a priority we know: {known}")
            category = row.category.casefold()
            if category not in self.categories and category not in self.created:
                if len(row.category) > name_limit:
                    why = f"{quoted(row.category)} is longer than a category's name may be ({name_limit} characters)"
                    why += ": map it to one of ours"
                    self._problem(row, "category", why)
                else:
                    self.created[category] = Category(name=row.category, is_active=False)
            self._check_lengths(row)

    def _problem(self, row: HistoryRow, column: str, why: str) -> None:
        self.problems.append(Problem(row.line, column, why))

    def _check_lengths(self, row: HistoryRow) -> None:
        for column, limit in self.limits:
            value = getattr(row, column)
            if len(value) > limit:
                self._problem(row, column, f"{quoted(value)} is longer than the {limit} characters it may have")

    def create_categories(self) -> None:
        """The categories the file needs that the desk lacks: inactive, on the first escalation path, each
        with a slug of its own."""
        if not self.created:
            return
        path = EscalationPath.objects.order_by("pk").first()
        if path is None:
            raise ImportRefused(
                f"The file has {_categories(len(self.created))} new to the desk, and a category needs an escalation "
                "path: create one on the Configuration page first (or map them to existing categories)."
            )
        taken = set(Category.objects.values_list("slug", flat=True))
        for category in self.created.values():
            category.escalation_path = path
            category.slug = _free_slug(category.name, taken)
        Category.objects.bulk_create(self.created.values(), batch_size=BATCH)
        self.categories.update({word: category.pk for word, category in self.created.items()})

    def past_tickets(self, source: HistoryImport) -> list[PastTicket]:
        seen: Counter[tuple[str, ...]] = Counter()
        tickets = []
        for row in self.rows:
            repeat = 0
            if not row.reference:
                words = _row_words(row)
                repeat, seen[words] = seen[words], seen[words] + 1
            tickets.append(
                PastTicket(
                    key=row_key(row, repeat),
                    reference=row.reference,
                    opened_at=row.opened_at,
                    resolved_at=row.resolved_at,
                    category_id=self.categories[row.category.casefold()],
                    priority=self.priorities[row.priority.casefold()] or Priority.NORMAL,  # checked: never None
                    team_name=row.team,
                    highest_level=row.highest_level,
                    waited=row.waited,
                    source_id=source.pk,
                )
            )
        return tickets


def _write(tickets: list[PastTicket], *, progress: Callable[[int], None] | None) -> tuple[int, int, int]:
    """Step 3's rows: (added, updated, unchanged). Only new and changed rows are written."""
    added = updated = unchanged = 0
    for start in range(0, len(tickets), BATCH):
        batch = tickets[start : start + BATCH]
        stored = {
            values[0]: values[1:]
            for values in PastTicket.objects.filter(key__in=[ticket.key for ticket in batch]).values_list(
                "key", *STORED
            )
        }
        changed = []
        for ticket in batch:
            before = stored.get(ticket.key)
            if before is None:
                added += 1
            elif before == tuple(getattr(ticket, field) for field in STORED):
                unchanged += 1
                continue
            else:
                updated += 1
            changed.append(ticket)
        PastTicket.objects.bulk_create(
            changed,
            update_conflicts=True,
            unique_fields=["key"],
            update_fields=[*(field.removesuffix("_id") for field in STORED), "source"],
        )
        if progress is not None:
            progress(start + len(batch))
    return added, updated, unchanged


def _categories_chosen(chosen: Mapping[str, int | None], known: dict[str, int]) -> dict[str, int]:
    """The desk's categories by the words that match them, with the caller's choices over them (a choice
    of None: no choice, match it or create it)."""
    ids = set(known.values())
    missing = {pk for pk in chosen.values() if pk is not None and pk not in ids}
    if missing and Category.objects.filter(pk__in=missing).count() != len(missing):
        raise ValueError(f"No category has the id {', '.join(map(str, sorted(missing)))}.")
    words = dict(known)
    for theirs, ours in chosen.items():
        if ours is not None:
            words[theirs.strip().casefold()] = ours
    return words


def _max_length(model: type[models.Model], name: str) -> int:
    field = model._meta.get_field(name)
    assert isinstance(field, models.CharField) and field.max_length
    return field.max_length


def _free_slug(name: str, taken: set[str]) -> str:
    base = slugify(name)[:90] or "category"
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base}-{n}"
    taken.add(slug)
    return slug


def _known(priorities: Mapping[str, int]) -> str:
    words = [*PRIORITY_SYNONYMS, *(word.strip().casefold() for word in priorities)]
    return f"the known ones are {', '.join(dict.fromkeys(words))}; map it to one of ours (low, normal, high, urgent)"


def _categories(n: int) -> str:
    return f"{n:,} categor{'y' if n == 1 else 'ies'}"


def digest_of(chunks: Iterable[bytes]) -> str:
    """The SHA-256 of a file's bytes: how the same file is recognised."""
    sha = hashlib.sha256()
    for chunk in chunks:
        sha.update(chunk)
    return sha.hexdigest()
