from django.apps import AppConfig


class OncallConfig(AppConfig):
    name = "vigil.oncall"
    label = "oncall"
