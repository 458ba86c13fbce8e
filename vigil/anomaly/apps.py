from django.apps import AppConfig


class AnomalyConfig(AppConfig):
    name = "vigil.anomaly"
    label = "anomaly"

    def ready(self):
        from vigil.monitors.signals import results_recorded

        from . import jobs  # noqa: F401  (the worker jobs register themselves)
        from .metrics import record_monitor_latency

        results_recorded.connect(record_monitor_latency, dispatch_uid="anomaly.monitor_latency")
