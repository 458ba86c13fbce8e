from django.urls import path

from . import views

urlpatterns = [
    path("", views.incident_list, name="incident-list"),
    path("incidents/new/", views.incident_new, name="incident-new"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident-detail"),
    path("incidents/<int:pk>/notes/", views.incident_note, name="incident-note"),
    path("incidents/<int:pk>/severity/", views.incident_severity, name="incident-severity"),
    # acknowledge, mitigate, resolve, reopen, escalate
    path("incidents/<int:pk>/<slug:action>/", views.incident_action, name="incident-action"),
]
