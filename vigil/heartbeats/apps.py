from django.apps import AppConfig


class HeartbeatsConfig(AppConfig):
    name = "vigil.heartbeats"
    label = "heartbeats"

    def ready(self):
        from . import jobs  # noqa: F401  (the worker job registers itself)
