"""Uptime and latency of a monitor over a window, in buckets (the API's stats and the page's chart)."""

from datetime import timedelta

from django.utils import timezone

RANGES = {"24h": (timedelta(hours=24), 48), "7d": (timedelta(days=7), 56), "30d": (timedelta(days=30), 60)}


def percentile(values, share):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summary(monitor, span="24h", now=None):
    """{start, end, checks, failures, uptime_percent, latency_avg_ms, latency_p95_ms, buckets: [...]}
    where each bucket has start, end, checks, failures, uptime_percent, latency_avg_ms, latency_max_ms.
    A bucket without checks has uptime and latency None (not checked is not up)."""
    now = now or timezone.now()
    length, count = RANGES[span]
    start = now - length
    step = length / count
    buckets = [{"start": start + i * step, "end": start + (i + 1) * step, "checks": 0, "failures": 0, "latencies": []}
               for i in range(count)]
    latencies = []
    rows = monitor.results.filter(at__gte=start, at__lte=now).order_by().values_list("at", "ok", "latency_ms")
    for at, ok, latency in rows.iterator(chunk_size=5000):
        bucket = buckets[min(count - 1, int((at - start) / step))]
        bucket["checks"] += 1
        if not ok:
            bucket["failures"] += 1
        if latency is not None and ok:
            bucket["latencies"].append(latency)
            latencies.append(latency)
    for bucket in buckets:
        values = bucket.pop("latencies")
        bucket["uptime_percent"] = _uptime(bucket["checks"], bucket["failures"])
        bucket["latency_avg_ms"] = sum(values) / len(values) if values else None
        bucket["latency_max_ms"] = max(values) if values else None
    checks = sum(b["checks"] for b in buckets)
    failures = sum(b["failures"] for b in buckets)
    return {
        "span": span, "start": start, "end": now, "checks": checks, "failures": failures,
        "uptime_percent": _uptime(checks, failures),
        "latency_avg_ms": sum(latencies) / len(latencies) if latencies else None,
        "latency_p95_ms": percentile(latencies, 0.95), "buckets": buckets,
    }


def _uptime(checks, failures):
    return round(100 * (checks - failures) / checks, 3) if checks else None
