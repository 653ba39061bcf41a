"""mem0's pgvector table, created by us with the indexes per-person queries need.

mem0 would create it with an HNSW index and no index on user_id: then a filtered nearest-
neighbour search walks the graph and returns *nothing* for most people once the table is large
(docs/architecture.md has the measurements). Here there is no HNSW index; btree expression
indexes on (app_id, user_id, created_at) and (user_id) make every per-person query scan only
that person's rows, so search is exact and its cost does not grow with the table.
"""

from django.conf import settings
from django.db import migrations

TABLE = "memportal_memories"


def create(apps, schema_editor) -> None:
    dims = int(settings.MEMPORTAL["EMBEDDING_DIMS"])
    statements = [
        "CREATE EXTENSION IF NOT EXISTS vector",
        f"CREATE TABLE IF NOT EXISTS {TABLE} (id uuid PRIMARY KEY, vector vector({dims}), payload jsonb)",
        f"CREATE INDEX IF NOT EXISTS {TABLE}_app_user_created_idx ON {TABLE} "
        "((payload->>'app_id'), (payload->>'user_id'), (payload->>'created_at'))",
        f"CREATE INDEX IF NOT EXISTS {TABLE}_user_idx ON {TABLE} ((payload->>'user_id'))",
    ]
    with schema_editor.connection.cursor() as cur:
        for statement in statements:
            cur.execute(statement)


def drop(apps, schema_editor) -> None:
    with schema_editor.connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {TABLE}")


class Migration(migrations.Migration):
    dependencies = [("memory", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
