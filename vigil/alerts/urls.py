from django.urls import path, re_path

from . import pages, views

# Ingestion: the senders' endpoints (views.py). middleware.py answers them before the rest.
ingestion_urls = [
    re_path(r"^hooks/(?P<kind>alertmanager|grafana|generic)/(?P<key>[^/]+)$", views.hook, name="hook"),
    path("v2/enqueue", views.pagerduty_enqueue, name="pagerduty-enqueue"),
    path("v2/change/enqueue", views.pagerduty_change, name="pagerduty-change"),
]

urlpatterns = ingestion_urls + [
    # The web UI (pages.py). Names start with "service" where the page belongs to a service, so the
    # nav marks Services as the current section.
    path("services/<slug:slug>/alerts/", pages.service_alerts, name="service-alerts"),
    path("services/<slug:slug>/integrations/", pages.integration_list, name="service-integrations"),
    path("services/<slug:slug>/integrations/new/", pages.integration_new, name="service-integration-new"),
    path("services/<slug:slug>/silences/", pages.service_silences, name="service-silences"),
    path("services/<slug:slug>/maintenance/", pages.service_maintenance, name="service-maintenance"),
    path("integrations/<int:pk>/", pages.integration_detail, name="integration-detail"),
    path("integrations/<int:pk>/enabled/", pages.integration_enabled, name="integration-enabled"),
    path("integrations/<int:pk>/rotate-key/", pages.integration_rotate, name="integration-rotate"),
    path("integrations/<int:pk>/delete/", pages.integration_delete, name="integration-delete"),
    path("silences/<int:pk>/expire/", pages.silence_expire, name="silence-expire"),
    path("maintenance-windows/<int:pk>/delete/", pages.maintenance_delete, name="maintenance-delete"),
]
