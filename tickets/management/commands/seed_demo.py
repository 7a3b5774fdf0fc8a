"""``manage.py seed_demo``: a small, realistic help desk to look around in, and the logins to do it.

A thin wrapper: the data and the seeding live in ``tickets.demo`` (world.py holds the data, seeding.py the logic).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils import timezone

from tickets import demo


class Command(BaseCommand):
    help = (
        "Load demo teams, escalation paths, categories, staff logins, customers and tickets, and print the logins. "
        "Safe to run again: it adds only what is missing and resets the demo passwords."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        # The demo creates a superuser whose password is printed and published in the docs.
        if settings.IS_PRODUCTION:
            raise CommandError("seed_demo creates logins with published passwords: it never runs in production.")
        report = demo.seed(now=timezone.now())
        self.stdout.write(demo.format_report(report, sign_in_url=reverse("login")))
