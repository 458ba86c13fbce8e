from django.apps import AppConfig


class StatuspageConfig(AppConfig):
    name = "vigil.statuspage"
    label = "statuspage"

    def ready(self):
        from . import jobs, services  # noqa: F401  (signal receivers and worker jobs register themselves)
