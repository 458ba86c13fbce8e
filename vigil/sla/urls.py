from django.urls import path

from . import views

urlpatterns = [
    path("services/<slug:slug>/sla/", views.service_sla, name="service-sla"),
]
