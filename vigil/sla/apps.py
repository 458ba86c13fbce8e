from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "vigil.sla"
    label = "sla"
    verbose_name = "SLA clocks"

    def ready(self):
        from . import clocks, jobs  # noqa: F401  (signal receivers and worker jobs register themselves)
