"""Samples in: `record()` for the other apps (uptime monitors record their latency), and
`record_many()` behind `POST /api/v1/metrics`."""

import math
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .models import Sample, Series, labels_key


@dataclass(frozen=True)
class Point:
    name: str
    value: float
    at: datetime
    labels: dict = field(default_factory=dict)


def series_for(team, name, labels=None, service=None):
    labels = dict(labels or {})
    series, _ = Series.objects.get_or_create(
        team=team, name=name, labels_key=labels_key(labels), defaults={"labels": labels, "service": service})
    if service is not None and series.service_id is None:
        Series.objects.filter(pk=series.pk).update(service=service)
        series.service = service
    return series


def record(series_name, value, at=None, service=None, labels=None, team=None):
    """Store one sample of the series `series_name` with these labels, of the service's team (or
    `team`). Returns the Series. `value` must be a finite number."""
    return record_many(team or service.team, [Point(series_name, float(value), at or timezone.now(), labels or {})],
                       service=service)[0]


@transaction.atomic
def record_many(team, points, service=None):
    """Store the points (one transaction); returns the series of each point, in order."""
    for p in points:
        if not math.isfinite(p.value):
            raise ValueError(f"{p.name}: the value must be a finite number, not {p.value!r}")
    by_key = {}
    for p in points:
        key = (p.name, labels_key(p.labels))
        if key not in by_key:
            by_key[key] = series_for(team, p.name, p.labels, service)
    series = [by_key[(p.name, labels_key(p.labels))] for p in points]
    Sample.objects.bulk_create([Sample(series=s, at=p.at, value=p.value) for s, p in zip(series, points)],
                               batch_size=500)
    latest = {}
    for s, p in zip(series, points):
        if s.pk not in latest or p.at >= latest[s.pk].at:  # at a tie, the later in the request
            latest[s.pk] = p
    for pk, p in latest.items():
        # Only forward: a late sample does not become the "last value".
        Series.objects.filter(Q(last_at__isnull=True) | Q(last_at__lte=p.at), pk=pk).update(last_value=p.value, last_at=p.at)
    return series


def record_monitor_latency(sender, results, **kwargs):
    """Receiver of monitors' results_recorded: each check's latency becomes a sample of the
    monitor's latency series, so rules and baselines work on uptime monitors as on pushed metrics."""
    by_service = {}
    for result in results:
        if result.latency_ms is not None:
            by_service.setdefault(result.monitor.service, []).append(
                Point(result.monitor.latency_series, float(result.latency_ms), result.at))
    for service, points in by_service.items():
        record_many(service.team, points, service=service)
