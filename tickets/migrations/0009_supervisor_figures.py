"""What the supervisor figures need: whose team each promise was, when it was in fact resolved, who
answered each ticket first. Existing rows are filled from what the log and tickets already know, as well
as it can be: a promise's and a first response's team is the ticket's team now (a ticket transferred since
is credited to its new team); a broken promise's resolution is the ticket's latest. Ratings given before
this migration name no agent or team (the interaction log is append-only and is not rewritten), so they
count for everyone, not per agent or team."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def backfill(apps, schema_editor):
    Promise = apps.get_model("tickets", "Promise")
    Ticket = apps.get_model("tickets", "Ticket")
    Interaction = apps.get_model("tickets", "Interaction")
    ticket = models.OuterRef("ticket_id")
    Promise.objects.update(team_id=models.Subquery(Ticket.objects.filter(pk=ticket).values("team_id")[:1]))
    Promise.objects.filter(outcome="kept").update(resolved_at=models.F("settled_at"))
    Promise.objects.filter(outcome="broken").update(
        resolved_at=models.Subquery(
            Ticket.objects.filter(pk=ticket, resolved_at__gte=models.OuterRef("settled_at")).values("resolved_at")[:1]
        )
    )
    first_reply = Interaction.objects.filter(ticket_id=models.OuterRef("pk"), kind="reply").order_by("created_at", "id")
    Ticket.objects.filter(first_response_at__isnull=False).update(
        first_response_by_id=models.Subquery(first_reply.values("author_id")[:1]),
        first_response_team_id=models.F("team_id"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0001_initial"),
        ("tickets", "0008_attachments"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="promise",
            name="resolved_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="promise",
            name="team",
            field=models.ForeignKey(
                null=True, on_delete=django.db.models.deletion.PROTECT, related_name="promises", to="tickets.team"
            ),
        ),
        migrations.AddField(
            model_name="ticket",
            name="first_response_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="first_responses",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="ticket",
            name="first_response_team",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="first_responses",
                to="tickets.team",
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="promise",
            name="team",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="promises", to="tickets.team"
            ),
        ),
        migrations.AddIndex(
            model_name="interaction",
            index=models.Index(
                condition=models.Q(("kind", "rating")), fields=["created_at"], name="interaction_rating_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="promise",
            index=models.Index(fields=["made_at"], name="promise_made_at_idx"),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                condition=models.Q(("first_response_at__isnull", False)),
                fields=["first_response_at"],
                name="ticket_first_response_idx",
            ),
        ),
    ]
