from django.apps import AppConfig


class LogsConfig(AppConfig):
    name = "vigil.logs"
    label = "logs"
    verbose_name = "Log triage"
