"""Staff roles as groups, and a database trigger that makes the interaction log append-only.

The model already refuses edits; the trigger makes the rule hold for raw SQL and other clients too. Its SQL
lives in tickets.append_only, which also puts the triggers back after every `migrate` (a later migration that
rebuilds the table on SQLite drops them).
"""

from django.db import migrations

from tickets.append_only import CREATE, DROP

ROLES = ["Agents", "Supervisors"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)

    return run


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [
        migrations.RunPython(create_roles, migrations.RunPython.noop),
        migrations.RunPython(_run(CREATE), _run(DROP)),
    ]
