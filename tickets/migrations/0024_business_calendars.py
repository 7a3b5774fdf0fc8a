"""Business calendars: teams work to a calendar (around the clock unless set), categories choose business time."""

import django.db.models.deletion
from django.db import migrations, models

import helpdesk.text
import tickets.models.calendar


def every_team_around_the_clock(apps, schema_editor):
    """The around-the-clock calendar, and every team on it: nothing changes for a desk that sets none."""
    calendar = apps.get_model("tickets", "Calendar").objects.create(
        name="Around the clock", time_zone="UTC", weekly=[[["00:00", "00:00"]]] * 7
    )
    apps.get_model("tickets", "Team").objects.update(calendar=calendar)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0023_sweep_writes_fewer_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="category",
            name="business_hours",
            field=models.BooleanField(
                default=False,
                help_text="Its promises' warnings, targets and estimates count the team's working hours, not the clock.",
            ),
        ),
        migrations.CreateModel(
            name="Calendar",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=100, unique=True)),
                (
                    "time_zone",
                    models.CharField(default="UTC", max_length=64, validators=[helpdesk.text.validate_time_zone]),
                ),
                (
                    "weekly",
                    models.JSONField(
                        default=list,
                        help_text='Seven lists of [opens, closes] spans, Monday first: [["09:00", "17:00"]].',
                    ),
                ),
                (
                    "country",
                    models.CharField(
                        blank=True,
                        help_text="Public holidays of this country (ISO code, e.g. DE); empty for none.",
                        max_length=3,
                    ),
                ),
                (
                    "subdivision",
                    models.CharField(blank=True, help_text="And of this state or region, e.g. BY.", max_length=10),
                ),
            ],
            options={
                "ordering": ["name"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("name", ""), _negated=True), name="calendar_name_not_empty"
                    )
                ],
            },
        ),
        migrations.AddField(
            model_name="team",
            name="calendar",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="teams", to="tickets.calendar"
            ),
        ),
        migrations.RunPython(every_team_around_the_clock, migrations.RunPython.noop),
        # The field's default (``Calendar.default_id``) reads the live model: it is the state's, not the database
        # operation's, which would call it to fill the rows the RunPython above has already filled.
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterField(
                    model_name="team",
                    name="calendar",
                    field=models.ForeignKey(
                        help_text="When the team works: the business time of the categories that run in business time.",
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="teams",
                        to="tickets.calendar",
                    ),
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="team",
                    name="calendar",
                    field=models.ForeignKey(
                        default=tickets.models.calendar.Calendar.default_id,
                        help_text="When the team works: the business time of the categories that run in business time.",
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="teams",
                        to="tickets.calendar",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="ClosedDay",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("date", models.DateField()),
                (
                    "spans",
                    models.JSONField(blank=True, default=list, help_text="Its open spans; none: closed all day."),
                ),
                ("reason", models.CharField(blank=True, max_length=100)),
                (
                    "calendar",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="closed_days", to="tickets.calendar"
                    ),
                ),
            ],
            options={
                "ordering": ["date"],
                "constraints": [models.UniqueConstraint(fields=("calendar", "date"), name="closed_day_once_a_date")],
            },
        ),
    ]
