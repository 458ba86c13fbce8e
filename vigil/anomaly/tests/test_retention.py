from datetime import UTC, datetime, timedelta

from vigil.anomaly.jobs import RETENTION, prune_old_samples
from vigil.anomaly.metrics import record
from vigil.anomaly.models import Sample

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def test_samples_older_than_the_retention_are_pruned(personas):
    record("latency_ms", 1, at=NOW - RETENTION - timedelta(minutes=1), service=personas.service)
    record("latency_ms", 2, at=NOW - RETENTION + timedelta(minutes=1), service=personas.service)
    assert prune_old_samples(now=NOW)
    assert list(Sample.objects.values_list("value", flat=True)) == [2.0]
    assert not prune_old_samples(now=NOW)
