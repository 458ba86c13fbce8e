from django.apps import AppConfig


class MonitorsConfig(AppConfig):
    name = "vigil.monitors"
    label = "monitors"

    def ready(self):
        from . import jobs  # noqa: F401  (worker jobs register themselves)
