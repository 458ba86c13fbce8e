from django.urls import path

from . import views

urlpatterns = [
    path("services/", views.service_list, name="service-list"),
    path("services/new/", views.service_new, name="service-new"),
    path("services/<slug:slug>/", views.service_detail, name="service-detail"),
    path("services/<slug:slug>/edit/", views.service_edit, name="service-edit"),
]
