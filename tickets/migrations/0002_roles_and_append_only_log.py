"""Staff roles as groups, and a database trigger that makes the interaction log append-only.

The model already refuses edits; the trigger makes the rule hold for raw SQL and other clients too.
"""

from django.db import migrations

ROLES = ["Agents", "Supervisors"]

POSTGRES_FORWARD = """
CREATE FUNCTION tickets_interaction_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'The interaction log is append-only: % refused on tickets_interaction', TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER tickets_interaction_append_only
    BEFORE UPDATE OR DELETE ON tickets_interaction
    FOR EACH ROW EXECUTE FUNCTION tickets_interaction_append_only();
"""
POSTGRES_BACKWARD = """
DROP TRIGGER IF EXISTS tickets_interaction_append_only ON tickets_interaction;
DROP FUNCTION IF EXISTS tickets_interaction_append_only();
"""
SQLITE_FORWARD = [
    """CREATE TRIGGER tickets_interaction_no_update BEFORE UPDATE ON tickets_interaction
       BEGIN SELECT RAISE(ABORT, 'The interaction log is append-only: UPDATE refused'); END;""",
    """CREATE TRIGGER tickets_interaction_no_delete BEFORE DELETE ON tickets_interaction
       BEGIN SELECT RAISE(ABORT, 'The interaction log is append-only: DELETE refused'); END;""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS tickets_interaction_no_update;",
    "DROP TRIGGER IF EXISTS tickets_interaction_no_delete;",
]


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
        migrations.RunPython(
            _run({"postgresql": [POSTGRES_FORWARD], "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": [POSTGRES_BACKWARD], "sqlite": SQLITE_BACKWARD}),
        ),
    ]
