"""The people we serve. A customer is recognised by email (case-insensitive), never by account."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from helpdesk.text import normalise_email, validate_time_zone


class CustomerTier(models.TextChoices):
    STANDARD = "standard", "Standard"
    PRIORITY = "priority", "Priority"
    ENTERPRISE = "enterprise", "Enterprise"


class CustomerQuerySet(models.QuerySet["Customer"]):
    def visible_to(self, user: Any) -> CustomerQuerySet:
        """The one gate for who may see which customers, used by every page, API endpoint and export.

        Every active staff member sees every customer; anyone else sees none. Unlike tickets, customers are
        not split by team: a small team shares one directory, and the agent who takes a call must find the
        caller even when their earlier requests went to another team. What a customer asked stays behind
        ``Ticket.objects.visible_to``: seeing a customer never shows their tickets.
        """
        if not (user.is_authenticated and user.is_active and user.is_staff):
            return self.none()
        return self.all()

    def search(self, words: str) -> CustomerQuerySet:
        """Customers whose name or email contains ``words`` (any case)."""
        words = words.strip()
        return self.filter(Q(name__icontains=words) | Q(email__icontains=words)) if words else self


class Customer(models.Model):
    Tier = CustomerTier

    name = models.CharField(
        max_length=200, help_text="Full name, as staff keep it (what a sender types is only offered to them)."
    )
    preferred_name = models.CharField(
        max_length=100, blank=True, help_text="What they like to be called; agents greet them with this."
    )
    email = models.EmailField(max_length=254)
    phone = models.CharField(max_length=40, blank=True)
    organisation = models.CharField(max_length=200, blank=True)
    tier = models.CharField(max_length=20, choices=Tier.choices, default=Tier.STANDARD)
    time_zone = models.CharField(
        max_length=64, blank=True, validators=[validate_time_zone], help_text="Blank: the site's time zone."
    )
    notes = models.TextField(blank=True, help_text="Internal; never shown to the customer.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            # One customer per mailbox, whatever the case it was typed in.
            models.UniqueConstraint(Lower("email"), name="customer_email_ci_unique"),
            models.CheckConstraint(condition=~models.Q(email=""), name="customer_email_not_empty"),
            models.CheckConstraint(condition=~models.Q(name=""), name="customer_name_not_empty"),
            models.CheckConstraint(condition=models.Q(tier__in=CustomerTier.values), name="customer_tier_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    def save(self, *args: object, **kwargs: object) -> None:
        self.email = normalise_email(self.email)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def greeting_name(self) -> str:
        """The name to greet them by: the preferred one, else the first word of their name."""
        return self.preferred_name or self.name.split()[0]

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """Their time zone: the one on record, else the site's. Times shown or read for them are in it."""
        return zoneinfo.ZoneInfo(self.time_zone or settings.TIME_ZONE)
