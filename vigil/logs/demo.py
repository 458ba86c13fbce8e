"""Demo log lines for `vigil demo`: a day of a shop's logs with a few error kinds and a burst."""

import random
from datetime import timedelta

from .ingest import ingest_lines
from .models import LogSource

KINDS = [
    # (level, component, message pattern, lines per hour, burst in the last hour)
    ("INFO", "web.Server", "GET /products/{n} answered 200 in {ms} ms", 40, 0),
    ("INFO", "web.Server", "user {n} signed in from 10.0.{a}.{b}", 12, 0),
    ("WARN", "cache.Redis", "cache miss for product {n}, loading from database", 6, 0),
    ("ERROR", "db.Pool", "connection to db-{a}.acme.internal:5432 refused after {ms} ms", 1, 40),
    ("ERROR", "payments.Stripe", "charge {n} declined: card_declined", 2, 0),
    ("FATAL", "orders.Worker", "worker {a} crashed: OutOfMemoryError in OrderExport", 0, 3),
]


def load_demo_logs(service, now):
    rng = random.Random(7)
    source = LogSource.objects.create(service=service, name="acme-shop-web")
    lines = []
    for hours_ago in range(24, -1, -1):
        start = now - timedelta(hours=hours_ago)
        for level, component, pattern, per_hour, burst in KINDS:
            for _ in range(per_hour + (burst if hours_ago == 0 else 0)):
                at = start - timedelta(seconds=rng.randrange(3600 if hours_ago else 600))
                text = pattern.format(n=rng.randrange(1, 99999), ms=rng.randrange(2, 3000), a=rng.randrange(1, 9),
                                      b=rng.randrange(1, 250))
                lines.append((at, f"{at:%Y-%m-%d %H:%M:%S},{rng.randrange(1000):03d} {level} [main] {component}: {text}"))
    lines.sort()
    result = ingest_lines(service, [line for _, line in lines], source=source, now=now)
    return f"{service.name}: {result.lines} demo log lines in {result.groups} error groups (source {source.name})"
