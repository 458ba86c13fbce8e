"""Uptime monitors' latency feeds metric series, so rules and baselines apply to monitors too."""

from vigil.anomaly.models import Sample, Series
from vigil.monitors import actions
from vigil.monitors.jobs import run_due_checks
from vigil.monitors.tests.conftest import http_server  # noqa: F401  (a real server on loopback)


def test_each_check_records_a_latency_sample_on_the_monitor_series(personas, http_server,  # noqa: F811
                                                                   django_capture_on_commit_callbacks):
    monitor = actions.do_create_monitor(personas.service, actor=personas.admin, name="Home", kind="http",
                                        target=http_server.url, interval_seconds=60, timeout_seconds=5)
    with django_capture_on_commit_callbacks(execute=True):
        results = run_due_checks()
    assert len(results) == 1
    series = Series.objects.get(name=monitor.latency_series)
    assert (series.team, series.service) == (personas.team, personas.service)
    assert list(Sample.objects.filter(series=series).values_list("value", flat=True)) == [results[0].latency_ms]
