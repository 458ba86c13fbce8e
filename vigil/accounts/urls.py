from django.urls import path

from . import views

urlpatterns = [
    path("teams/", views.team_list, name="team-list"),
    path("teams/<slug:slug>/", views.team_detail, name="team-detail"),
    path("teams/<slug:slug>/members/", views.member_add, name="member-add"),
    path("teams/<slug:slug>/members/<int:user_id>/role/", views.member_role, name="member-role"),
    path("teams/<slug:slug>/members/<int:user_id>/remove/", views.member_remove, name="member-remove"),
    path("account/tokens/", views.token_list, name="token-list"),
    path("account/tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
]
