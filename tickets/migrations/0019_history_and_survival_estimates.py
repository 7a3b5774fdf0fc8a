"""The survival estimates (a curve per category and priority), the imported past, and the time each ticket
has waited on the customer (left out of how long it took)."""

import datetime

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Subquery, Sum


def forget_old_estimates(apps, schema_editor):
    """The old rows hold a whole-duration percentile, not a curve: the next refresh (within 15 minutes)
    writes the new ones, and meanwhile the guard uses each category's default target."""
    apps.get_model("tickets", "Estimate").objects.all().delete()


def waited_from_promises(apps, schema_editor):
    """What earlier waits are known: the time added to each ticket's promises while it waited."""
    Ticket = apps.get_model("tickets", "Ticket")
    Promise = apps.get_model("tickets", "Promise")
    paused = (
        Promise.objects.filter(ticket=OuterRef("pk"), paused_for__gt=datetime.timedelta(0))
        .values("ticket")
        .annotate(total=Sum("paused_for"))
        .values("total")
    )
    Ticket.objects.filter(promises__paused_for__gt=datetime.timedelta(0)).update(waited=Subquery(paused))


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0018_outbox_one_email_at_a_time"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(forget_old_estimates, migrations.RunPython.noop),
        migrations.AddField(
            model_name="estimate",
            name="basis",
            field=models.CharField(
                choices=[
                    ("category_priority", "this category and priority"),
                    ("category", "this category"),
                    ("priority", "this priority"),
                    ("desk", "the whole desk"),
                    ("default", "the category's default target"),
                ],
                default="category",
                max_length=20,
            ),
        ),
        migrations.AddField(
            model_name="estimate",
            name="curve",
            field=models.JSONField(default=list),
        ),
        migrations.AddField(
            model_name="estimate",
            name="window_days",
            field=models.PositiveIntegerField(default=0, help_text="How far back the window reached."),
        ),
        migrations.AddField(
            model_name="promise",
            name="estimate_basis",
            field=models.CharField(blank=True, help_text="Which tickets the estimate came from.", max_length=20),
        ),
        migrations.AddField(
            model_name="promise",
            name="estimate_percentile",
            field=models.FloatField(
                blank=True, help_text="The share of similar tickets the estimate says are solved in time.", null=True
            ),
        ),
        migrations.AddField(
            model_name="ticket",
            name="waited",
            field=models.DurationField(default=datetime.timedelta(0)),
        ),
        migrations.AlterField(
            model_name="estimate",
            name="duration",
            field=models.DurationField(help_text="The time to run at opening (the curve's first point)."),
        ),
        migrations.AlterField(
            model_name="estimate",
            name="sample_size",
            field=models.PositiveIntegerField(help_text="Tickets in the window the estimate came from."),
        ),
        migrations.CreateModel(
            name="HistoryImport",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("file_name", models.CharField(max_length=255)),
                ("digest", models.CharField(help_text="SHA-256 of the file's bytes.", max_length=64)),
                ("started_at", models.DateTimeField()),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                ("rows", models.PositiveIntegerField(default=0, help_text="Rows in the file.")),
                ("added", models.PositiveIntegerField(default=0)),
                ("updated", models.PositiveIntegerField(default=0)),
                ("unchanged", models.PositiveIntegerField(default=0)),
                (
                    "imported_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-started_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="PastTicket",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "key",
                    models.CharField(
                        help_text="The source's reference, or a digest of the row when it had none.",
                        max_length=200,
                        unique=True,
                    ),
                ),
                ("reference", models.CharField(blank=True, max_length=100)),
                ("opened_at", models.DateTimeField()),
                (
                    "resolved_at",
                    models.DateTimeField(blank=True, help_text="Empty: still open when exported.", null=True),
                ),
                ("priority", models.PositiveSmallIntegerField()),
                (
                    "team_name",
                    models.CharField(blank=True, help_text="The source's first team, as it named it.", max_length=100),
                ),
                (
                    "highest_level",
                    models.CharField(blank=True, help_text="The highest support line reached.", max_length=50),
                ),
                (
                    "waited",
                    models.DurationField(
                        default=datetime.timedelta(0), help_text="Time spent waiting on the customer."
                    ),
                ),
                (
                    "category",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="past_tickets", to="tickets.category"
                    ),
                ),
                (
                    "source",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="past_tickets",
                        to="tickets.historyimport",
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["opened_at"], name="past_ticket_opened_at_idx")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("resolved_at__isnull", True), ("resolved_at__gte", models.F("opened_at")), _connector="OR"
                        ),
                        name="past_ticket_resolved_after_opened",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("waited__gte", datetime.timedelta(0))),
                        name="past_ticket_waited_not_negative",
                    ),
                ],
            },
        ),
        migrations.RunPython(waited_from_promises, migrations.RunPython.noop),
    ]
