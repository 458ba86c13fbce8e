from django.urls import path

from . import views

urlpatterns = [
    path("reviews/", views.review_list, name="review-list"),
    path("incidents/<int:incident_pk>/review/", views.review_start, name="review-start"),
    path("incidents/<int:incident_pk>/action-items/", views.incident_add_item, name="incident-add-item"),
    path("reviews/<int:pk>/", views.review_detail, name="review-detail"),
    path("reviews/<int:pk>/edit/", views.review_edit, name="review-edit"),
    path("reviews/<int:pk>/comments/", views.review_comment, name="review-comment"),
    path("reviews/<int:pk>/action-items/", views.review_add_item, name="review-add-item"),
    path("reviews/<int:pk>/export.<str:fmt>", views.review_export, name="review-export"),
    # submit, approve, request-changes, no-action, publish
    path("reviews/<int:pk>/<slug:step>/", views.review_step, name="review-step"),
    path("action-items/", views.item_list, name="action-item-list"),
    path("action-items/<int:pk>/", views.item_detail, name="action-item-detail"),
    path("teams/<slug:slug>/review-settings/", views.team_settings, name="review-settings"),
]
