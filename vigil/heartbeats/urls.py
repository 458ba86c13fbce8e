from django.urls import path

from . import pages, views

# The ping endpoints (healthchecks.io's paths, contract "Heartbeats"), with or without a trailing
# slash as healthchecks.io takes them.
PINGS = [("", {}, "ping"), ("/start", {"action": "start"}, "ping-start"), ("/fail", {"action": "fail"}, "ping-fail"),
         ("/log", {"action": "log"}, "ping-log"), ("/<int:exit_status>", {}, "ping-exit-status")]

urlpatterns = [
    *[path(f"ping/<uuid:key>{suffix}", views.ping, kwargs, name=name) for suffix, kwargs, name in PINGS],
    *[path(f"ping/<uuid:key>{suffix}/", views.ping, kwargs) for suffix, kwargs, _ in PINGS],
    # The web UI. Names start with "service" or "heartbeat" (the nav marks the section by them).
    path("services/<slug:slug>/heartbeats/", pages.service_heartbeats, name="service-heartbeats"),
    path("heartbeats/", pages.heartbeat_list, name="heartbeat-list"),
    path("heartbeats/<int:pk>/", pages.heartbeat_detail, name="heartbeat-detail"),
    path("heartbeats/<int:pk>/pings/", pages.heartbeat_pings, name="heartbeat-pings"),
    path("heartbeats/<int:pk>/pause/", pages.heartbeat_pause, name="heartbeat-pause"),
    path("heartbeats/<int:pk>/resume/", pages.heartbeat_resume, name="heartbeat-resume"),
    path("heartbeats/<int:pk>/delete/", pages.heartbeat_delete, name="heartbeat-delete"),
]
