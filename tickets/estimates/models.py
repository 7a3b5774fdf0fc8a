"""The estimates table the guard reads, and the desk's imported past that feeds it.

Registered with the tickets app (``tickets.models`` imports this module); foreign keys name their models as
strings, so nothing here imports ``tickets.models``.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q


class EstimateBasis(models.TextChoices):
    """Which tickets an estimate came from, finest first: the fallbacks, in order."""

    CATEGORY_PRIORITY = "category_priority", "this category and priority"
    CATEGORY = "category", "this category"
    PRIORITY = "priority", "this priority"
    DESK = "desk", "the whole desk"
    DEFAULT = "default", "the category's default target"


class Estimate(models.Model):
    """How long a ticket of a category and priority still has to run, at each age: refreshed by a periodic
    task from a survival estimate over recent history (``tickets.estimates.refresh``), so the guard's live
    check is one read of one row by its unique key.

    ``curve`` holds ``[age_seconds, remaining_seconds, tickets]`` points, ages rising: at that age, the
    percentile of the time still to run, and how many tickets the window saw reach that age.
    """

    category = models.ForeignKey("tickets.Category", on_delete=models.CASCADE, related_name="estimates")
    priority = models.PositiveSmallIntegerField()
    basis = models.CharField(max_length=20, choices=EstimateBasis.choices, default=EstimateBasis.CATEGORY)
    curve = models.JSONField(default=list)
    duration = models.DurationField(help_text="The time to run at opening (the curve's first point).")
    sample_size = models.PositiveIntegerField(help_text="Tickets in the window the estimate came from.")
    window_days = models.PositiveIntegerField(default=0, help_text="How far back the window reached.")
    percentile = models.FloatField()
    computed_at = models.DateTimeField()

    class Meta:
        app_label = "tickets"
        constraints = [
            # The guard's one indexed read: WHERE category_id = … AND priority = ….
            models.UniqueConstraint(fields=["category", "priority"], name="estimate_one_per_category_priority"),
            models.CheckConstraint(condition=Q(duration__gt=timedelta(0)), name="estimate_duration_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.category} p{self.priority}: {self.duration} from {self.sample_size} tickets"


class ImportState(models.TextChoices):
    """Where an import is. The command's imports are written ``imported`` at once; an upload goes through
    the others (``tickets.estimates.uploads``)."""

    UPLOADED = "uploaded", "waiting for your answers"
    QUEUED = "queued", "waiting for a worker"
    RUNNING = "running", "importing"
    IMPORTED = "imported", "imported"
    REFUSED = "refused", "not imported"


def history_file_name(instance: object, filename: str) -> str:
    """Where an uploaded file waits for its import: a generated name, never the uploader's."""
    return f"history/{uuid.uuid4().hex}.csv"


class HistoryImport(models.Model):
    """One history file imported: who, when, what it held. The same file twice adds nothing."""

    file_name = models.CharField(max_length=255)
    digest = models.CharField(max_length=64, help_text="SHA-256 of the file's bytes.")
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    rows = models.PositiveIntegerField(default=0, help_text="Rows in the file.")
    added = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    new_categories = models.PositiveIntegerField(default=0, help_text="Categories created (inactive) for it.")
    state = models.CharField(max_length=10, choices=ImportState.choices, default=ImportState.IMPORTED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent of the file read, for the page's bar.")
    file = models.FileField(
        upload_to=history_file_name, blank=True, help_text="An uploaded file, kept until its import has run."
    )
    mapping = models.JSONField(
        default=dict, blank=True, help_text="The columns, priorities and categories mapped: {ours: theirs}, …"
    )
    problems = models.JSONField(
        default=list, blank=True, help_text="Why it was refused: [line, column, why], …; line 0 is the whole file."
    )

    class Meta:
        app_label = "tickets"
        ordering = ["-started_at", "-id"]
        constraints = [
            # The same file is imported once: import_history's "already imported?" is
            # WHERE digest = … AND state = 'imported'; two at once can't both commit.
            models.UniqueConstraint(fields=["digest"], condition=Q(state="imported"), name="history_import_file_once"),
        ]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.rows} rows)"

    def summary(self, did: str = "Imported") -> str:
        """What the import did, as the command prints it and the upload page shows it."""
        n = self.new_categories
        new = f"; {n:,} new categor{'y' if n == 1 else 'ies'} (inactive)" if n else ""
        return (
            f"{did} {self.rows:,} past ticket{'' if self.rows == 1 else 's'} from {self.file_name}: "
            f"{self.added:,} added, {self.updated:,} updated, {self.unchanged:,} unchanged{new}"
        )


class PastTicket(models.Model):
    """A ticket of the desk's past, imported from another system: it feeds the estimates and the supervisors'
    history, and never a queue or an email (it is not a ``Ticket``)."""

    key = models.CharField(
        max_length=200, unique=True, help_text="The source's reference, or a digest of the row when it had none."
    )
    reference = models.CharField(max_length=100, blank=True)
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True, help_text="Empty: still open when exported.")
    category = models.ForeignKey("tickets.Category", on_delete=models.PROTECT, related_name="past_tickets")
    priority = models.PositiveSmallIntegerField()
    team_name = models.CharField(max_length=100, blank=True, help_text="The source's first team, as it named it.")
    highest_level = models.CharField(max_length=50, blank=True, help_text="The highest support line reached.")
    waited = models.DurationField(default=timedelta(0), help_text="Time spent waiting on the customer.")
    source = models.ForeignKey(HistoryImport, on_delete=models.PROTECT, related_name="past_tickets")

    class Meta:
        app_label = "tickets"
        indexes = [models.Index(fields=["opened_at"], name="past_ticket_opened_at_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=models.F("opened_at")),
                name="past_ticket_resolved_after_opened",
            ),
            models.CheckConstraint(condition=Q(waited__gte=timedelta(0)), name="past_ticket_waited_not_negative"),
        ]

    def __str__(self) -> str:
        return self.reference or self.key
