from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "vigil.reviews"
    label = "reviews"
    verbose_name = "Post-incident reviews"

    def ready(self):
        from . import jobs, recurrence  # noqa: F401  (register the worker jobs and the incident listener)
