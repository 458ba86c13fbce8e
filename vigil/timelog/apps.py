from django.apps import AppConfig


class TimelogConfig(AppConfig):
    name = "vigil.timelog"
    label = "timelog"
    verbose_name = "Time logging"
