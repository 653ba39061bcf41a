"""Per-key API rate limit: one atomic upsert per request on ``ApiRateWindow``.

Django's DatabaseCache (``cache.add`` then ``incr``) made PostgreSQL log a duplicate-key error on
nearly every request (``add`` tries an INSERT when the row exists) and lost counts under
concurrency (``incr`` is a read followed by a write). ``INSERT … ON CONFLICT DO UPDATE … RETURNING``
counts in one statement: PostgreSQL serialises concurrent requests for a key on its row, and
each gets its own new total back.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime, timedelta

from django.db import connection

from memportal.agents.models import ApiRateWindow

WINDOW_SECONDS = 60  # the limit is per key per minute


def rate_window_hit(*, key_id: int, window_start: datetime) -> int:
    """Count one request for the key in the window starting at ``window_start``; its new total."""
    table = connection.ops.quote_name(ApiRateWindow._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key_id, window_start, hits) VALUES (%s, %s, 1) "
            f"ON CONFLICT (key_id, window_start) DO UPDATE SET hits = {table}.hits + 1 RETURNING hits",
            [key_id, window_start],
        )
        hits = cursor.fetchone()[0]
        if hits == 1:
            # The key's first request in this window: drop what is older than the previous one
            # (kept, harmlessly, in case a worker's clock runs a little behind), once per minute.
            cursor.execute(
                f"DELETE FROM {table} WHERE key_id = %s AND window_start < %s",
                [key_id, window_start - timedelta(seconds=WINDOW_SECONDS)],
            )
    return hits


def rate_limit_wait(*, key_id: int, limit: int, now: float | None = None) -> int | None:
    """Count one request; the seconds until the key's window ends when it is over ``limit``, else None."""
    now = time.time() if now is None else now
    start = now // WINDOW_SECONDS * WINDOW_SECONDS
    hits = rate_window_hit(key_id=key_id, window_start=datetime.fromtimestamp(start, tz=UTC))
    if hits <= limit:
        return None
    return max(math.ceil(start + WINDOW_SECONDS - now), 1)
