"""Full-text index for hybrid search (memportal.memory.ranking): GIN on (user_id, to_tsvector(text)).

- One GIN index with two columns (``btree_gin`` gives text equality a GIN operator class): a
  person's keyword query intersects their own posting list with the words' inside the index,
  so it costs the person's matching rows, not the table and not a ``to_tsvector`` per row (a
  plain tsvector GIN index costs the word's matches across *every* person: 6-18 ms for a
  common word at 1M rows; recomputing to_tsvector over a heavy person's 3,000 rows, 29 ms).
  A tenant-wide staff search uses the index's text column alone.
- An expression index, not a stored column: no table rewrite, nothing new to erase (the entry
  goes with its row; the Vectors store covers it), and mem0's own INSERTs need no change.
- ``CREATE INDEX CONCURRENTLY`` (so this migration is not atomic): writes continue while it
  builds (1M short memories: a few seconds).
"""

from django.db import migrations

TABLE = "memportal_memories"
INDEX = f"{TABLE}_user_fts_idx"
#: memportal.memory.ranking.TSV_SQL when this was written; the search's SQL must repeat it exactly
#: (tests/memory/test_search_ranking.py checks the plan uses this index).
TSV_SQL = "to_tsvector('english'::regconfig, payload->>'data')"


def create(apps, schema_editor) -> None:
    with schema_editor.connection.cursor() as cur:
        cur.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
        # A failed concurrent build leaves an INVALID index behind that IF NOT EXISTS would keep.
        cur.execute(
            "SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [INDEX]
        )
        row = cur.fetchone()
        if row and row[0]:
            cur.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")
        cur.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON {TABLE} "
            f"USING gin ((payload->>'user_id'), ({TSV_SQL}))"
        )


def drop(apps, schema_editor) -> None:
    with schema_editor.connection.cursor() as cur:
        cur.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False
    dependencies = [("memory", "0009_import_source")]
    operations = [migrations.RunPython(create, drop)]
