"""Per-key rate limits, counted in the database: every web process (two under `vigil serve`, more
on more machines with PostgreSQL) counts against one budget per key. A fixed one-minute window, one
row per key, counted in the transaction that records the request: a refused request rolls back
with it and does not count."""

from django.db import connection

from .models import RateLimitWindow


class RateLimited(Exception):
    def __init__(self, retry_after):
        super().__init__(f"rate limit reached; retry in {retry_after} s")
        self.retry_after = retry_after


def count_request(integration, now):
    """Count one request of the integration's key; RateLimited once the minute's budget is spent.
    Call it inside the transaction that records the request."""
    limit = integration.rate_limit_per_minute
    if not limit:
        return
    second = int(now.timestamp())
    table = connection.ops.quote_name(RateLimitWindow._meta.db_table)
    with connection.cursor() as cursor:
        # SET sees the row as it was, so `minute` in the CASE is the stored window.
        cursor.execute(
            f"INSERT INTO {table} (integration_id, minute, requests) VALUES (%s, %s, 1) "
            f"ON CONFLICT (integration_id) DO UPDATE SET minute = excluded.minute, "
            f"requests = CASE WHEN {table}.minute = excluded.minute THEN {table}.requests + 1 ELSE 1 END "
            "RETURNING requests",
            [integration.pk, second // 60],
        )
        (requests,) = cursor.fetchone()
    if requests > limit:
        raise RateLimited(retry_after=60 - second % 60)
