"""Django admin: configuration is edited here; tickets and their history are read-only views.

Tickets change only through tickets.services (so every change is logged); the admin shows them.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from tickets import outbox
from tickets.models import (
    ApiToken,
    ApiTokenQuerySet,
    Category,
    CustomerEmail,
    EscalationLevel,
    EscalationPath,
    Estimate,
    Interaction,
    Notification,
    Promise,
    SweepHeartbeat,
    Team,
    Ticket,
    TicketQuerySet,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable, never changed from the admin: these rows are history or are written by services."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "lead", "member_count"]
    search_fields = ["name", "members__username", "members__first_name", "members__last_name"]
    filter_horizontal = ["members"]
    autocomplete_fields = ["lead"]
    # Changed on the Configuration pages, which re-time the warnings of the promises it decides.
    readonly_fields = ["calendar"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return super().get_queryset(request).select_related("lead").annotate(member_count=Count("members"))

    @admin.display(description="Members", ordering="member_count")
    def member_count(self, team: Team) -> int:
        return team.member_count  # type: ignore[attr-defined]


class EscalationLevelInline(admin.TabularInline):
    model = EscalationLevel
    extra = 0
    ordering = ["position"]
    autocomplete_fields = ["team"]
    filter_horizontal = ["notify"]


@admin.register(EscalationPath)
class EscalationPathAdmin(admin.ModelAdmin):
    list_display = ["name", "level_count", "description"]
    search_fields = ["name", "description", "levels__name", "levels__team__name"]
    inlines = [EscalationLevelInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[EscalationPath]:
        return super().get_queryset(request).annotate(level_count=Count("levels"))

    @admin.display(description="Levels", ordering="level_count")
    def level_count(self, path: EscalationPath) -> int:
        return path.level_count  # type: ignore[attr-defined]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "escalation_path", "default_priority", "default_target", "warn_min", "is_active"]
    list_filter = ["is_active", "default_priority", "escalation_path"]
    list_select_related = ["escalation_path"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    # Changed on the Configuration pages, which re-time the warnings of the promises it decides.
    readonly_fields = ["business_hours"]


class InteractionInline(admin.TabularInline):
    model = Interaction
    fields = readonly_fields = ("created_at", "kind", "author_kind", "author", "customer_name", "is_public", "body")
    extra = 0
    can_delete = False
    ordering = ["created_at", "id"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    list_display = [
        "reference",
        "subject",
        "customer",
        "status",
        "priority",
        "promise_state",
        "promise_due_at",
        "team",
        "assignee",
        "last_activity_at",
    ]
    list_filter = ["status", "promise_state", "priority", "channel", "team", "category"]
    list_select_related = ["customer", "team", "assignee"]
    search_fields = ["subject", "customer__name", "customer__email"]
    date_hierarchy = "created_at"
    inlines = [InteractionInline]

    @admin.display(description="Reference", ordering="pk")
    def reference(self, ticket: Ticket) -> str:
        return ticket.reference

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        """Also find a ticket by its public reference (PD-1042)."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return results | cast(TicketQuerySet, queryset).by_reference(search_term), may_have_duplicates


@admin.register(Promise)
class PromiseAdmin(ReadOnlyAdmin):
    list_display = ["ticket", "due_at", "made_by", "made_at", "outcome", "overrode_estimate", "settled_at"]
    list_filter = ["outcome", "overrode_estimate"]
    list_select_related = ["ticket", "made_by"]
    search_fields = ["words", "override_reason", "change_reason"]


class WasInDoubtFilter(admin.SimpleListFilter):
    """Rows a drain found left "sending" by a drain that was gone: their mail may have gone out twice."""

    title = "was in doubt"
    parameter_name = "in_doubt"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        if self.value() == "yes":
            return queryset.filter(times_in_doubt__gt=0)
        if self.value() == "no":
            return queryset.filter(times_in_doubt=0)
        return None


class OutboxAdmin(ReadOnlyAdmin):
    """An email outbox: where each email stands; given-up ones (a person decides) can be sent again."""

    outbox_fields = ["email_state", "email_attempts", "times_in_doubt", "emailed_at"]
    outbox_filters: list[Any] = ["email_state", WasInDoubtFilter]
    actions = ["send_again"]

    @admin.action(description="Send the selected given-up emails again")
    def send_again(self, request: HttpRequest, queryset: QuerySet) -> None:
        moved = outbox.send_again(queryset)
        self.message_user(request, f"{moved} given-up email{'s' if moved != 1 else ''} will be sent again.")


@admin.register(Notification)
class NotificationAdmin(OutboxAdmin):
    list_display = ["recipient", "event", "ticket", "created_at", *OutboxAdmin.outbox_fields, "read_at"]
    list_filter = [*OutboxAdmin.outbox_filters, "event"]
    list_select_related = ["recipient", "ticket"]
    search_fields = ["recipient__username", "message", "dedupe_key"]


@admin.register(Estimate)
class EstimateAdmin(ReadOnlyAdmin):
    """The guard's curves, refreshed by a periodic task: one per category and priority, from the group
    ``basis`` names (docs/estimates.md)."""

    list_display = ["category", "priority", "basis", "duration", "sample_size", "window_days", "computed_at"]
    list_filter = ["basis", "priority", "category"]
    list_select_related = ["category"]


@admin.register(SweepHeartbeat)
class SweepHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["name", "last_run_at", "looked_at", "changed", "duration_ms"]


@admin.register(CustomerEmail)
class CustomerEmailAdmin(OutboxAdmin):
    """The customer email outbox: what was (or is about to be) sent, and when."""

    list_display = ["to", "subject", "ticket", "created_at", *OutboxAdmin.outbox_fields]
    list_filter = OutboxAdmin.outbox_filters
    list_select_related = ["ticket"]
    search_fields = ["to", "subject"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Everyone's tokens, so an administrator can cut off a leaked one; the secrets are not here to show."""

    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "user__username", "prefix"]
    list_select_related = ["user"]
    exclude = ["digest"]
    actions = ["revoke"]

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request: HttpRequest, queryset: ApiTokenQuerySet) -> None:
        revoked = queryset.revoke(timezone.now())
        self.message_user(request, f"Revoked {revoked} token{'s' if revoked != 1 else ''}.")
