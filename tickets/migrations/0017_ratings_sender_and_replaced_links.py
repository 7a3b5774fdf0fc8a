"""Ratings as rows of their own, one per resolution (a rating given again replaces the first); the log kinds for
a customer's record updated from what a sender gave and for a replaced status link; replaced links' digests.

Existing ratings (Interaction rows of kind "rating") become Rating rows: each is credited to the resolution it
followed, and where one resolution was rated several times (the defect this fixes) the latest rating stands.
The Interaction rows stay as they are: the log keeps every rating.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def ratings_from_the_log(apps, schema_editor):
    Interaction = apps.get_model("tickets", "Interaction")
    Rating = apps.get_model("tickets", "Rating")
    Ticket = apps.get_model("tickets", "Ticket")
    rated = Interaction.objects.filter(kind="rating").values_list("ticket_id", flat=True).distinct()
    team_of = dict(Ticket.objects.filter(pk__in=rated).values_list("pk", "team_id"))
    teams = set(apps.get_model("tickets", "Team").objects.values_list("pk", flat=True))
    entries = (
        Interaction.objects.filter(ticket_id__in=rated, kind__in=["resolution", "rating"])
        .order_by("ticket_id", "created_at", "id")
        .values("id", "ticket_id", "kind", "author_id", "body", "data", "created_at")
    )
    ratings = {}  # resolution id -> the latest rating of it
    resolution = None
    for entry in entries.iterator(chunk_size=2000):
        if entry["kind"] == "resolution":
            resolution = entry
        elif resolution is not None and resolution["ticket_id"] == entry["ticket_id"]:
            data = entry["data"] or {}
            ratings[resolution["id"]] = Rating(
                ticket_id=entry["ticket_id"],
                resolution_id=resolution["id"],
                stars=min(5, max(1, int(data.get("rating") or 1))),
                comment=entry["body"],
                agent_id=data.get("agent", resolution["author_id"]),
                team_id=data["team"] if data.get("team") in teams else team_of[entry["ticket_id"]],
                rated_at=entry["created_at"],
            )
    Rating.objects.bulk_create(ratings.values(), batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0016_queue_order_team_and_assignee_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Rating",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("stars", models.PositiveSmallIntegerField()),
                ("comment", models.TextField(blank=True)),
                (
                    "rated_at",
                    models.DateTimeField(help_text="When the rating (or the one that replaced it) was given."),
                ),
            ],
            options={
                "ordering": ["rated_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="ReplacedLink",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("digest", models.CharField(max_length=64, unique=True)),
                ("replaced_at", models.DateTimeField()),
            ],
        ),
        migrations.RemoveConstraint(
            model_name="interaction",
            name="interaction_kind_valid",
        ),
        migrations.RemoveIndex(
            model_name="interaction",
            name="interaction_rating_idx",
        ),
        migrations.AlterField(
            model_name="interaction",
            name="kind",
            field=models.CharField(
                choices=[
                    ("customer_message", "Customer message"),
                    ("reply", "Reply"),
                    ("note", "Internal note"),
                    ("call", "Phone call"),
                    ("assignment", "Assignment"),
                    ("status_change", "Status change"),
                    ("resolution", "Resolution"),
                    ("reopen", "Reopened"),
                    ("promise_made", "Promise made"),
                    ("promise_changed", "Promise changed"),
                    ("promise_settled", "Promise settled"),
                    ("promise_paused", "Promise clock paused"),
                    ("promise_resumed", "Promise clock resumed"),
                    ("at_risk", "Promise at risk"),
                    ("breach", "Promise breached"),
                    ("escalation", "Escalation"),
                    ("transfer", "Transfer"),
                    ("rating", "Rating"),
                    ("details_changed", "Details changed"),
                    ("customer_updated", "Customer's details updated"),
                    ("link_replaced", "Status link replaced"),
                ],
                max_length=20,
            ),
        ),
        migrations.AddConstraint(
            model_name="interaction",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "kind__in",
                        [
                            "customer_message",
                            "reply",
                            "note",
                            "call",
                            "assignment",
                            "status_change",
                            "resolution",
                            "reopen",
                            "promise_made",
                            "promise_changed",
                            "promise_settled",
                            "promise_paused",
                            "promise_resumed",
                            "at_risk",
                            "breach",
                            "escalation",
                            "transfer",
                            "rating",
                            "details_changed",
                            "customer_updated",
                            "link_replaced",
                        ],
                    )
                ),
                name="interaction_kind_valid",
            ),
        ),
        migrations.AddField(
            model_name="rating",
            name="agent",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="ratings_received",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="rating",
            name="resolution",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.PROTECT, related_name="rating", to="tickets.interaction"
            ),
        ),
        migrations.AddField(
            model_name="rating",
            name="team",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="ratings", to="tickets.team"
            ),
        ),
        migrations.AddField(
            model_name="rating",
            name="ticket",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="ratings", to="tickets.ticket"
            ),
        ),
        migrations.AddField(
            model_name="replacedlink",
            name="ticket",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="replaced_links", to="tickets.ticket"
            ),
        ),
        migrations.AddIndex(
            model_name="rating",
            index=models.Index(fields=["rated_at"], name="rating_rated_at_idx"),
        ),
        migrations.AddConstraint(
            model_name="rating",
            constraint=models.CheckConstraint(
                condition=models.Q(("stars__gte", 1), ("stars__lte", 5)), name="rating_stars_1_to_5"
            ),
        ),
        migrations.AddConstraint(
            model_name="replacedlink",
            constraint=models.CheckConstraint(
                condition=models.Q(("digest__regex", "^[0-9a-f]{64}$")), name="replaced_link_digest_sha256"
            ),
        ),
        migrations.RunPython(ratings_from_the_log, migrations.RunPython.noop),
    ]
