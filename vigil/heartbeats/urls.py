from django.urls import path

from . import pages, views

urlpatterns = [
    # The ping endpoints (healthchecks.io's paths; contract "Heartbeats").
    path("ping/<uuid:key>", views.ping, name="ping"),
    path("ping/<uuid:key>/start", views.ping, {"action": "start"}, name="ping-start"),
    path("ping/<uuid:key>/fail", views.ping, {"action": "fail"}, name="ping-fail"),
    path("ping/<uuid:key>/log", views.ping, {"action": "log"}, name="ping-log"),
    path("ping/<uuid:key>/<int:exit_status>", views.ping, name="ping-exit-status"),
    # The web UI. Names start with "service" or "heartbeat" (the nav marks the section by them).
    path("services/<slug:slug>/heartbeats/", pages.service_heartbeats, name="service-heartbeats"),
    path("heartbeats/", pages.heartbeat_list, name="heartbeat-list"),
    path("heartbeats/<int:pk>/", pages.heartbeat_detail, name="heartbeat-detail"),
    path("heartbeats/<int:pk>/pings/", pages.heartbeat_pings, name="heartbeat-pings"),
    path("heartbeats/<int:pk>/pause/", pages.heartbeat_pause, name="heartbeat-pause"),
    path("heartbeats/<int:pk>/resume/", pages.heartbeat_resume, name="heartbeat-resume"),
    path("heartbeats/<int:pk>/delete/", pages.heartbeat_delete, name="heartbeat-delete"),
]
