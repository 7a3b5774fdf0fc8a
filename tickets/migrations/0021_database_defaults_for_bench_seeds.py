"""Defaults in the database for two new columns, so rows written by SQL of our own (the benchmarks' seeds)
without them stay valid."""

import datetime

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0020_history_import_uploads"),
    ]

    operations = [
        migrations.AlterField(
            model_name="promise",
            name="estimate_basis",
            field=models.CharField(
                blank=True, db_default="", default="", help_text="Which tickets the estimate came from.", max_length=20
            ),
        ),
        migrations.AlterField(
            model_name="ticket",
            name="waited",
            field=models.DurationField(db_default=datetime.timedelta(0), default=datetime.timedelta(0)),
        ),
    ]
