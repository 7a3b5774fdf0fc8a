"""The durations the supervisors' figures read, stored in each promise's and ticket's own clock.

Every promise and ticket so far ran around the clock, so their durations are elapsed time, filled in here with
one statement per column (``fill``, also run by the bench seeds, which insert rows by SQL).
"""

from datetime import timedelta

from django.db import migrations, models
from django.db.models import DurationField, ExpressionWrapper, F, Value
from django.db.models.functions import Greatest


def fill(promise_model, ticket_model):
    """Elapsed durations for the rows that have none: what the figures computed until calendars came."""
    took = Greatest(
        F("resolved_at") - F("made_at") - F("paused_for"), Value(timedelta(0)), output_field=DurationField()
    )
    promise_model.objects.filter(promised_for__isnull=True).update(
        promised_for=ExpressionWrapper(F("due_at") - F("made_at") - F("paused_for"), output_field=DurationField())
    )
    promise_model.objects.filter(took__isnull=True, resolved_at__isnull=False).update(took=took)
    ticket_model.objects.filter(first_response_after__isnull=True, first_response_at__isnull=False).update(
        first_response_after=ExpressionWrapper(F("first_response_at") - F("created_at"), output_field=DurationField())
    )


def backfill(apps, schema_editor):
    fill(apps.get_model("tickets", "Promise"), apps.get_model("tickets", "Ticket"))


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0025_promise_working_hours"),
    ]

    operations = [
        migrations.AddField(
            model_name="promise",
            name="promised_for",
            field=models.DurationField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="promise",
            name="took",
            field=models.DurationField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="ticket",
            name="first_response_after",
            field=models.DurationField(blank=True, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
