from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "vigil.alerts"
    label = "alerts"

    def ready(self):
        from . import caches  # noqa: F401  (connects the signals that keep its caches current)
