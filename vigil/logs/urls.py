from django.urls import path

from . import views

urlpatterns = [
    path("logs/", views.group_list, name="log-groups"),
    path("logs/upload/", views.upload, name="log-upload"),
    path("logs/groups/<int:pk>/", views.group_detail, name="log-group-detail"),
    path("logs/groups/<int:pk>/state/", views.group_state, name="log-group-state"),
    path("logs/groups/<int:pk>/incident/", views.group_incident, name="log-group-incident"),
    path("logs/groups/<int:pk>/action-item/", views.group_action_item, name="log-group-action-item"),
    path("logs/services/<slug:slug>/", views.settings_page, name="log-settings"),
]
