from django.urls import path, re_path

from . import views

urlpatterns = [
    re_path(r"^hooks/(?P<kind>alertmanager|grafana|generic)/(?P<key>[^/]+)$", views.hook, name="hook"),
    path("v2/enqueue", views.pagerduty_enqueue, name="pagerduty-enqueue"),
    path("v2/change/enqueue", views.pagerduty_change, name="pagerduty-change"),
]
