"""Sent once a batch of check results is committed, with `results` (a list of CheckResult).

The seam for whatever learns from latency (baselines, anomaly rules): connect a receiver and
record each result's `latency_ms` under `result.monitor.latency_series`.
"""

from django.dispatch import Signal

results_recorded = Signal()
