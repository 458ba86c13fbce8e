from django.apps import AppConfig


class PagingConfig(AppConfig):
    name = "vigil.paging"
    label = "paging"

    def ready(self):
        from . import engine, jobs  # noqa: F401  (signal receivers and worker jobs register themselves)
