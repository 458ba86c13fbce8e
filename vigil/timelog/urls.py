from django.urls import path

from . import views

# Included before the incident app's "incidents/<pk>/<action>/" (see vigil/urls.py).
urlpatterns = [
    path("incidents/<int:pk>/time/", views.log_time, name="incident-time"),
    path("incidents/<int:pk>/timer/<str:action>/", views.timer, name="incident-timer"),
    path("time-overruns/<int:pk>/answer/", views.answer_overrun, name="time-overrun-answer"),
    path("services/<slug:slug>/time/", views.service_time, name="service-time"),
]
