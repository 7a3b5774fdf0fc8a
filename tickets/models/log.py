"""What happened to a ticket: the append-only interaction log, promises, ratings, replaced links, attachments."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from tickets.models.choices import Author, InteractionKind, PromiseOutcome
from tickets.models.organisation import Team
from tickets.models.ticket import Ticket

# --- The interaction log ------------------------------------------------------------------------


class AppendOnlyError(RuntimeError):
    pass


_APPEND_ONLY = "The interaction log is append-only: interactions are never edited or deleted."


class InteractionQuerySet(models.QuerySet["Interaction"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError(_APPEND_ONLY)

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(_APPEND_ONLY)

    def public(self) -> InteractionQuerySet:
        return self.filter(is_public=True)

    def latest_handoff(self) -> Interaction | None:
        """The last transfer or escalation note (``ticket.interactions.latest_handoff()``): what the people
        who have the ticket now read first."""
        return (
            self.filter(kind__in=[InteractionKind.TRANSFER, InteractionKind.ESCALATION])
            .order_by("-created_at", "-id")
            .first()
        )

    def latest_resolution(self) -> Interaction | None:
        """The last resolution, with its rating (if any) joined in: what the customer rates now."""
        return (
            self.filter(kind=InteractionKind.RESOLUTION).select_related("rating").order_by("-created_at", "-id").first()
        )


class Interaction(models.Model):
    """One thing that happened on a ticket, with the customer's name as it was at that moment.

    Append-only: the model, its QuerySet and (by migration) a database trigger refuse edits and deletes.
    """

    # No index of its own: ``interaction_timeline_idx`` begins with the ticket and serves every lookup by it.
    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="interactions", db_index=False)
    kind = models.CharField(max_length=20, choices=InteractionKind.choices)
    author_kind = models.CharField(max_length=10, choices=Author.choices)
    # Indexed only where set (``interaction_author_idx``): the system's and the customer's entries have none.
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="interactions",
        db_index=False,
    )
    customer_name = models.CharField(max_length=200, help_text="The customer's name at that moment.")
    body = models.TextField(blank=True)
    is_public = models.BooleanField(help_text="Whether the customer sees it on their status page.")
    data = models.JSONField(default=dict, blank=True, help_text="Structured details: from/to status, call length…")
    created_at = models.DateTimeField()

    objects = InteractionQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The timeline: WHERE ticket_id = … ORDER BY created_at.
            models.Index(fields=["ticket", "created_at"], name="interaction_timeline_idx"),
            # A person's entries (what keeps them from being deleted), looked up by a value, never by NULL.
            models.Index(fields=["author"], condition=Q(author__isnull=False), name="interaction_author_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=InteractionKind.values), name="interaction_kind_valid"),
            models.CheckConstraint(condition=Q(author_kind__in=Author.values), name="interaction_author_kind_valid"),
            models.CheckConstraint(condition=~Q(customer_name=""), name="interaction_customer_name_not_empty"),
            # Staff entries name their author; customer and system entries have none.
            models.CheckConstraint(
                condition=Q(author_kind="staff", author__isnull=False)
                | (~Q(author_kind="staff") & Q(author__isnull=True)),
                name="interaction_author_matches_kind",
            ),
            # Internal notes are never shown to the customer.
            models.CheckConstraint(condition=~Q(kind="note", is_public=True), name="interaction_note_is_internal"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on ticket {self.ticket_id} at {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError(_APPEND_ONLY)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError(_APPEND_ONLY)


# --- Promises -----------------------------------------------------------------------------------


class Promise(models.Model):
    """One promise made to a customer: when, in which words, and against what estimate."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="promises")
    # The team that had the ticket when the promise was made: whose word it was, for the team figures.
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="promises")
    due_at = models.DateTimeField()
    made_at = models.DateTimeField()
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="promises_made")
    words = models.TextField(help_text="What the customer was told, in the words used.")
    estimate = models.DurationField(null=True, blank=True, help_text="The guard's estimate at that moment.")
    estimate_sample_size = models.PositiveIntegerField(null=True, blank=True)
    estimate_percentile = models.FloatField(
        null=True, blank=True, help_text="The share of similar tickets the estimate says are solved in time."
    )
    estimate_basis = models.CharField(
        max_length=20, blank=True, default="", db_default="", help_text="Which tickets the estimate came from."
    )
    overrode_estimate = models.BooleanField(default=False, help_text="Promised sooner than the estimate.")
    override_reason = models.TextField(blank=True, help_text="Why sooner than the estimate is realistic.")
    change_reason = models.TextField(blank=True, help_text="Why an earlier promise was changed.")
    # Its durations in the time it ran in (business time where its category runs in it), waits on the customer
    # left out: what was promised, from its making to its due time (set when made), and what it took, from its
    # making to the ticket's resolution (set then). The supervisors' figures read these.
    promised_for = models.DurationField(null=True, blank=True)
    took = models.DurationField(null=True, blank=True)
    working_hours = models.CharField(
        max_length=300,
        blank=True,
        default="",
        db_default="",
        help_text="The hours it ran in, as the customer was told them ('Monday to Friday, 9 to 17, Berlin time'); "
        "empty: around the clock.",
    )
    paused_for = models.DurationField(default=timedelta(0), help_text="Time added while waiting on the customer.")
    outcome = models.CharField(max_length=10, choices=PromiseOutcome.choices, default=PromiseOutcome.PENDING)
    settled_at = models.DateTimeField(null=True, blank=True)
    # When the ticket was in fact resolved: at settling for a kept promise or one broken late, at the later
    # resolution for one broken by a breach. Slack is due_at - resolved_at. None for superseded promises.
    resolved_at = models.DateTimeField(null=True, blank=True)

    # Not stored: the guard's verdict when the promise was made, set by services.make_promise for its caller.
    verdict: Any = None

    class Meta:
        ordering = ["made_at", "id"]
        indexes = [
            # The dashboard's figures: promises made in a period.
            models.Index(fields=["made_at"], name="promise_made_at_idx"),
            # ... and their medians, over the promises with a resolution (a fifth of them) alone.
            models.Index(
                fields=["made_at"], condition=Q(resolved_at__isnull=False), name="promise_resolved_made_at_idx"
            ),
        ]
        constraints = [
            # One current (pending) promise per ticket.
            models.UniqueConstraint(
                fields=["ticket"], condition=Q(outcome="pending"), name="promise_one_pending_per_ticket"
            ),
            models.CheckConstraint(condition=Q(due_at__gt=models.F("made_at")), name="promise_due_after_made"),
            models.CheckConstraint(condition=Q(outcome__in=PromiseOutcome.values), name="promise_outcome_valid"),
            models.CheckConstraint(
                condition=Q(outcome="pending", settled_at__isnull=True)
                | (~Q(outcome="pending") & Q(settled_at__isnull=False)),
                name="promise_settled_when_not_pending",
            ),
            models.CheckConstraint(
                condition=Q(overrode_estimate=False) | ~Q(override_reason=""), name="promise_override_has_reason"
            ),
            models.CheckConstraint(condition=~Q(words=""), name="promise_words_not_empty"),
        ]

    def __str__(self) -> str:
        return f"Promise on ticket {self.ticket_id} due {self.due_at:%Y-%m-%d %H:%M} ({self.outcome})"


class Rating(models.Model):
    """How the customer rated one resolution: one row per resolution, enforced by the database. A later rating
    of the same resolution replaces it (each rating is also an Interaction, so the log keeps every one); a
    ticket resolved again after a reopen can be rated again. The supervisor figures count these rows. ``ticket``
    and ``agent`` repeat the resolution's ticket and author, so the figures group without a join."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="ratings")
    resolution = models.OneToOneField(Interaction, on_delete=models.PROTECT, related_name="rating")
    stars = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    # Whose help is rated: the agent who resolved it and the team that had it then.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="ratings_received"
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="ratings")
    rated_at = models.DateTimeField(help_text="When the rating (or the one that replaced it) was given.")

    class Meta:
        ordering = ["rated_at", "id"]
        indexes = [
            # The figures' ratings: WHERE rated_at in a period.
            models.Index(fields=["rated_at"], name="rating_rated_at_idx"),
        ]
        constraints = [models.CheckConstraint(condition=Q(stars__gte=1, stars__lte=5), name="rating_stars_1_to_5")]

    def __str__(self) -> str:
        return f"{self.stars}/5 for ticket {self.ticket_id}"


def rating_of(resolution: Interaction) -> Rating | None:
    """The rating of this resolution, or None (read with ``latest_resolution``, it costs no query)."""
    try:
        return resolution.rating  # the reverse side of Rating.resolution
    except Rating.DoesNotExist:
        return None


class ReplacedLink(models.Model):
    """A status link that staff replaced with a new one. Only a digest of its token is kept: enough to tell
    whoever opens the old link that it was replaced, instead of the 404 of a link that never existed."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="replaced_links")
    digest = models.CharField(max_length=64, unique=True)
    replaced_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(digest__regex=r"^[0-9a-f]{64}$"), name="replaced_link_digest_sha256")
        ]

    def __str__(self) -> str:
        return f"Replaced status link of ticket {self.ticket_id}"


def storage_name(instance: object, filename: str) -> str:
    """Where a file lands: a generated name, never the customer's."""
    return f"attachments/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """A file that came with a message. Stored under a generated name outside the web root; served only
    as a download, by views that check the status token or the agent's access."""

    ticket = models.ForeignKey(Ticket, on_delete=models.PROTECT, related_name="attachments")
    interaction = models.ForeignKey(Interaction, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to=storage_name, max_length=200)
    original_name = models.CharField(max_length=200, help_text="As the customer named it, cleaned for display.")
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(size__gt=0), name="attachment_not_empty")]

    def __str__(self) -> str:
        return f"{self.original_name} on ticket {self.ticket_id}"
