from django.apps import AppConfig


class SelfwatchConfig(AppConfig):
    name = "vigil.selfwatch"
    label = "selfwatch"
