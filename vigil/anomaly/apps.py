from django.apps import AppConfig


class AnomalyConfig(AppConfig):
    name = "vigil.anomaly"
    label = "anomaly"

    def ready(self):
        from . import jobs  # noqa: F401  (the worker jobs register themselves)
