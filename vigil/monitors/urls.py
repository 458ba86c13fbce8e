from django.urls import path

from . import views

# Names start with "monitor" (the Monitors section of the nav), or with "service" for the pages of
# one service (the Services section).
urlpatterns = [
    path("monitors/", views.monitor_list, name="monitor-list"),
    path("services/<slug:slug>/monitors/", views.service_monitors, name="service-monitors"),
    path("services/<slug:slug>/monitors/new/", views.monitor_new, name="service-monitor-new"),
    path("monitors/<int:pk>/", views.monitor_detail, name="monitor-detail"),
    path("monitors/<int:pk>/edit/", views.monitor_edit, name="monitor-edit"),
    path("monitors/<int:pk>/pause/", views.monitor_pause, name="monitor-pause"),
    path("monitors/<int:pk>/resume/", views.monitor_resume, name="monitor-resume"),
    path("monitors/<int:pk>/check/", views.monitor_check, name="monitor-check"),
    path("monitors/<int:pk>/delete/", views.monitor_delete, name="monitor-delete"),
]
