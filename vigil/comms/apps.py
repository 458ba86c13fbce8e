from django.apps import AppConfig


class CommsConfig(AppConfig):
    name = "vigil.comms"
    label = "comms"
    verbose_name = "Stakeholder communication"

    def ready(self):
        from . import jobs, reminders  # noqa: F401  (signal receivers and worker jobs register themselves)
