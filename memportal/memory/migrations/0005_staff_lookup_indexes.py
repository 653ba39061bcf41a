"""Indexes that keep the staff audit page's lookups and filters bounded at any tenant size.

- (app_id, agent_id) and (app_id, run_id) in the "C" collation: the agent/session lookups walk
  them with a loose index scan (one index probe per suggestion) and the agent/session filters
  use them for equality; in "C" every prefix is one contiguous range of the index.
- (app_id, created_at, id): the page of a whole tenant (newest first) reads its rows in index
  order instead of sorting the tenant.
- upper(email) on the user table and (tenant, upper(external_id)) on memberships, also "C": the
  person lookup is a case-insensitive prefix match in index order, LIMITed.
"""

from django.conf import settings
from django.db import migrations

TABLE = "memportal_memories"

CREATE = [
    f"CREATE INDEX IF NOT EXISTS {TABLE}_app_agent_c_idx ON {TABLE} "
    "((payload->>'app_id'), ((payload->>'agent_id') COLLATE \"C\"))",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_app_run_c_idx ON {TABLE} "
    "((payload->>'app_id'), ((payload->>'run_id') COLLATE \"C\"))",
    f"CREATE INDEX IF NOT EXISTS {TABLE}_app_created_idx ON {TABLE} "
    "((payload->>'app_id'), (payload->>'created_at'), id)",
    "CREATE INDEX IF NOT EXISTS memory_membership_tenant_external_upper_c_idx ON memory_membership "
    "(tenant_id, (upper(external_id) COLLATE \"C\"))",
]
DROP = [
    f"DROP INDEX IF EXISTS {TABLE}_app_agent_c_idx",
    f"DROP INDEX IF EXISTS {TABLE}_app_run_c_idx",
    f"DROP INDEX IF EXISTS {TABLE}_app_created_idx",
    "DROP INDEX IF EXISTS memory_membership_tenant_external_upper_c_idx",
]


def _user_table(apps) -> str:
    app_label, model_name = settings.AUTH_USER_MODEL.split(".")
    return apps.get_model(app_label, model_name)._meta.db_table


def create(apps, schema_editor) -> None:
    user_table = schema_editor.quote_name(_user_table(apps))
    with schema_editor.connection.cursor() as cur:
        for statement in CREATE:
            cur.execute(statement)
        cur.execute(
            "CREATE INDEX IF NOT EXISTS memportal_user_email_upper_c_idx ON "
            f"{user_table} ((upper(email) COLLATE \"C\"))"
        )


def drop(apps, schema_editor) -> None:
    with schema_editor.connection.cursor() as cur:
        for statement in [*DROP, "DROP INDEX IF EXISTS memportal_user_email_upper_c_idx"]:
            cur.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("memory", "0004_memory_feedback"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]
    operations = [migrations.RunPython(create, drop)]
