from django.urls import path

from . import views

urlpatterns = [
    path("", views.incident_list, name="incident-list"),
    path("incidents/new/", views.incident_new, name="incident-new"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident-detail"),
    path("incidents/<int:pk>/notes/", views.incident_note, name="incident-note"),
    path("incidents/<int:pk>/roles/", views.incident_role_assign, name="incident-role-assign"),
    path("incidents/<int:pk>/roles/<int:assignment_pk>/leave/", views.incident_role_leave, name="incident-role-leave"),
    path("incidents/<int:pk>/fixes/<slug:action>/", views.incident_fix, name="incident-fix"),
    path("incidents/<int:pk>/impact/", views.incident_impact, name="incident-impact"),
    # acknowledge, mitigate, resolve, reopen, escalate
    path("incidents/<int:pk>/<slug:action>/", views.incident_action, name="incident-action"),
]
