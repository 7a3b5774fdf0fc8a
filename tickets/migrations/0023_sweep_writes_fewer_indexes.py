"""Index entries no query reads, which every sweep write kept up: each breach inserts log entries and
notifications and updates its ticket, and an UPDATE of a ticket (never a HOT one: it changes indexed columns)
adds an entry to every index of the table.

- ``tickets_interaction.ticket_id`` and ``tickets_notification.ticket_id``: dropped. ``interaction_timeline_idx``
  (ticket, created_at) serves every lookup of log entries by ticket; nothing looks notifications up by ticket,
  and a ticket is never deleted (its log protects it).
- The ticket's first responder and first team, and a log entry's author: looked up by a value (a deletion's
  check, a team's "in use"), never by NULL, so their indexes now hold only the rows that have one.
- The ticket's token: unique by a constraint of the same name instead of the field option, without the second,
  LIKE index (``varchar_pattern_ops``) the option adds on PostgreSQL; a token is only ever compared whole.
- The ticket's submission key: unique among the tickets that have one (a partial unique index of the same
  name), so the tickets without one (all but the web form's) are not in it.

Only indexes change: the foreign keys stay as they are (not dropped and validated again).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import tickets.models.ticket


def drop_index(table: str, name: str, column: str) -> migrations.RunSQL:
    return migrations.RunSQL(
        f'DROP INDEX IF EXISTS "{name}"', reverse_sql=f'CREATE INDEX "{name}" ON "{table}" ("{column}")'
    )


def unindexed(model: str, name: str, **options: object) -> migrations.AlterField:
    return migrations.AlterField(
        model_name=model,
        name=name,
        field=models.ForeignKey(db_index=False, **options),  # type: ignore[arg-type]
    )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0003_customer_name_help"),
        ("tickets", "0022_notification_dedupe_key_one_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                drop_index("tickets_interaction", "tickets_interaction_ticket_id_af05072b", "ticket_id"),
                drop_index("tickets_interaction", "tickets_interaction_author_id_d83d324b", "author_id"),
                drop_index("tickets_notification", "tickets_notification_ticket_id_277b7fd8", "ticket_id"),
                drop_index("tickets_ticket", "tickets_ticket_first_response_by_id_729e20aa", "first_response_by_id"),
                drop_index(
                    "tickets_ticket", "tickets_ticket_first_response_team_id_f7d9b9ea", "first_response_team_id"
                ),
            ],
            state_operations=[
                unindexed(
                    "interaction",
                    "ticket",
                    on_delete=django.db.models.deletion.PROTECT,
                    related_name="interactions",
                    to="tickets.ticket",
                ),
                unindexed(
                    "interaction",
                    "author",
                    blank=True,
                    null=True,
                    on_delete=django.db.models.deletion.PROTECT,
                    related_name="interactions",
                    to=settings.AUTH_USER_MODEL,
                ),
                unindexed(
                    "notification",
                    "ticket",
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="notifications",
                    to="tickets.ticket",
                ),
                unindexed(
                    "ticket",
                    "first_response_by",
                    blank=True,
                    null=True,
                    on_delete=django.db.models.deletion.SET_NULL,
                    related_name="first_responses",
                    to=settings.AUTH_USER_MODEL,
                ),
                unindexed(
                    "ticket",
                    "first_response_team",
                    blank=True,
                    null=True,
                    on_delete=django.db.models.deletion.SET_NULL,
                    related_name="first_responses",
                    to="tickets.team",
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="interaction",
            index=models.Index(
                condition=models.Q(("author__isnull", False)), fields=["author"], name="interaction_author_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("first_response_by__isnull", False)),
                fields=["first_response_by"],
                name="ticket_first_response_by_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("first_response_team__isnull", False)),
                fields=["first_response_team"],
                name="ticket_first_response_team_idx",
            ),
        ),
        migrations.AlterField(
            model_name="ticket",
            name="submission_key",
            field=models.UUIDField(blank=True, editable=False, null=True),
        ),
        migrations.AlterField(
            model_name="ticket",
            name="token",
            field=models.CharField(default=tickets.models.ticket.new_status_token, editable=False, max_length=64),
        ),
        migrations.AddConstraint(
            model_name="ticket",
            constraint=models.UniqueConstraint(fields=("token",), name="tickets_ticket_token_key"),
        ),
        migrations.AddConstraint(
            model_name="ticket",
            constraint=models.UniqueConstraint(
                condition=models.Q(("submission_key__isnull", False)),
                fields=("submission_key",),
                name="tickets_ticket_submission_key_key",
            ),
        ),
    ]
