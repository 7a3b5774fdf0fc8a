"""How the desk is organised: teams, escalation paths and their levels, categories."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import OuterRef, Q, Subquery

from tickets.models.calendar import Calendar
from tickets.models.choices import Priority


class Team(models.Model):
    name = models.CharField(max_length=100, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="led_teams"
    )
    calendar = models.ForeignKey(
        Calendar,
        on_delete=models.PROTECT,
        default=Calendar.default_id,
        related_name="teams",
        help_text="When the team works: the business time of the categories that run in business time.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [models.CheckConstraint(condition=~Q(name=""), name="team_name_not_empty")]

    def __str__(self) -> str:
        return self.name


class EscalationPath(models.Model):
    """The ordered levels a ticket climbs when a promise breaks or an agent escalates."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class EscalationLevelQuerySet(models.QuerySet["EscalationLevel"]):
    def first_of(self, path_id: int) -> EscalationLevel | None:
        """Level 1 of a path, with its team: where every ticket of that path starts (one query)."""
        return self.select_related("team").filter(path_id=path_id).order_by("position").first()


class EscalationLevel(models.Model):
    path = models.ForeignKey(EscalationPath, on_delete=models.CASCADE, related_name="levels")
    position = models.PositiveSmallIntegerField(help_text="1 is where tickets start; each escalation moves up one.")
    name = models.CharField(max_length=100)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="escalation_levels")
    notify = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="notified_at_levels",
        blank=True,
        help_text="People told when a ticket reaches this level. Empty: the team's lead and members.",
    )

    objects = EscalationLevelQuerySet.as_manager()

    class Meta:
        ordering = ["path", "position"]
        constraints = [
            models.UniqueConstraint(fields=["path", "position"], name="escalation_level_unique_position"),
            models.CheckConstraint(condition=Q(position__gte=1), name="escalation_level_position_from_1"),
        ]

    def __str__(self) -> str:
        return f"{self.path} · {self.position}. {self.name}"

    def next_level(self) -> EscalationLevel | None:
        return self.path.levels.filter(position__gt=self.position).order_by("position").first()


def first_level(path: Any) -> models.QuerySet[EscalationLevel]:
    """A path's levels, the first first: where its tickets start (``path``: an id, or an ``OuterRef`` to one)."""
    return EscalationLevel.objects.filter(path=path).order_by("position")


class CategoryQuerySet(models.QuerySet["Category"]):
    def with_calendar(self) -> CategoryQuerySet:
        """Each category with ``calendar_id``: the calendar its business time runs on, that of the team at level 1
        of its escalation path, where its tickets start (the one rule; ``Category.calendar`` reads it for one);
        and that team, ``first_team_id``."""
        level_1 = first_level(OuterRef("escalation_path"))
        return self.annotate(
            calendar_id=Subquery(level_1.values("team__calendar")[:1]),
            first_team_id=Subquery(level_1.values("team")[:1]),
        )

    def on_calendar(self, calendar: Calendar) -> CategoryQuerySet:
        return self.with_calendar().filter(Q(calendar_id=calendar.pk))

    def starting_with(self, team: Team) -> CategoryQuerySet:
        return self.with_calendar().filter(Q(first_team_id=team.pk))


class Category(models.Model):
    """A help topic on the web form, with the defaults its tickets start from. One that runs in business time
    runs on one calendar, whichever team has its tickets: its path's first team's (``calendar``)."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.CharField(max_length=300, blank=True, help_text="Shown to customers on the form.")
    default_priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    escalation_path = models.ForeignKey(EscalationPath, on_delete=models.PROTECT, related_name="categories")
    default_target = models.DurationField(
        default=timedelta(hours=8), help_text="Promise target used while history is too thin to estimate from."
    )
    warn_min = models.DurationField(null=True, blank=True, help_text="Overrides PROMISE_WARN_MIN for this category.")
    warn_fraction = models.FloatField(
        null=True, blank=True, help_text="Overrides PROMISE_WARN_FRACTION (0 to 1) for this category."
    )
    is_active = models.BooleanField(default=True, help_text="Offered on the web form.")
    business_hours = models.BooleanField(
        default=False,
        help_text="Its promises' warnings, targets and estimates count the team's working hours, not the clock.",
    )

    objects = CategoryQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"
        constraints = [
            models.CheckConstraint(condition=Q(default_target__gt=timedelta(0)), name="category_target_positive"),
            models.CheckConstraint(
                condition=Q(warn_min__isnull=True) | Q(warn_min__gte=timedelta(0)),
                name="category_warn_min_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(warn_fraction__isnull=True) | Q(warn_fraction__gte=0, warn_fraction__lte=1),
                name="category_warn_fraction_0_to_1",
            ),
            models.CheckConstraint(condition=Q(default_priority__in=Priority.values), name="category_priority_valid"),
        ]

    def __str__(self) -> str:
        return self.name

    def calendar(self) -> Calendar:
        """The calendar its business time runs on (``CategoryQuerySet.with_calendar``), closed days read with it."""
        calendar = Subquery(first_level(self.escalation_path_id).values("team__calendar")[:1])
        return Calendar.objects.prefetch_related("closed_days").get(pk=calendar)
