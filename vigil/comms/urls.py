from django.urls import path

from . import views

urlpatterns = [
    path("incidents/<int:pk>/updates/", views.post_update, name="incident-update-post"),
    path("incidents/<int:pk>/updates/draft/", views.update_draft, name="incident-update-draft"),
    path("services/<slug:slug>/stakeholders/", views.service_stakeholders, name="service-stakeholders"),
    path("services/<slug:slug>/stakeholders/<int:pk>/delete/", views.delete_stakeholder, name="stakeholder-delete"),
]
