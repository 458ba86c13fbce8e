from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "vigil.catalog"
    label = "catalog"
