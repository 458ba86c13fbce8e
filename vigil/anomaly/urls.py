from django.urls import path

from . import pages

urlpatterns = [
    # Names start with "anomaly" (the nav marks its section by them).
    path("anomaly/", pages.rule_list, name="anomaly-rule-list"),
    path("anomaly/series/<int:pk>/", pages.series_detail, name="anomaly-series"),
    path("anomaly/rules/<int:pk>/", pages.rule_detail, name="anomaly-rule"),
    path("anomaly/rules/<int:pk>/delete/", pages.rule_delete, name="anomaly-rule-delete"),
]
