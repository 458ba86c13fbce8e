from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "vigil.incidents"
    label = "incidents"
