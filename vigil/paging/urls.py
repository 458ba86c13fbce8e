from django.urls import path

from . import views

urlpatterns = [
    path("act/<str:token>", views.action_link, name="action-link"),
]
