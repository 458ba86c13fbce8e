from django.urls import path

from . import pages, views

urlpatterns = [
    path("act/<str:token>", views.action_link, name="action-link"),
    path("account/contact/", pages.contact, name="contact"),
    path("account/contact/<int:pk>/test/", pages.contact_test, name="contact-test"),
    path("account/contact/<int:pk>/delete/", pages.contact_delete, name="contact-delete"),
    path("account/rules/<int:pk>/delete/", pages.rule_delete, name="rule-delete"),
    path("escalation-policies/", pages.policy_list, name="policy-list"),
    path("escalation-policies/new/<slug:team_slug>/", pages.policy_edit, name="policy-new"),
    path("escalation-policies/<int:pk>/", pages.policy_detail, name="policy-detail"),
    path("escalation-policies/<int:pk>/edit/", pages.policy_edit, name="policy-edit"),
    path("escalation-policies/<int:pk>/delete/", pages.policy_delete, name="policy-delete"),
    # Before the incident app's "incidents/<pk>/<action>/": vigil/urls.py includes this file first.
    path("incidents/<int:pk>/paging/", pages.incident_paging, name="incident-paging"),
    path("incidents/<int:pk>/ask-for-help/", pages.ask_for_help, name="incident-ask-for-help"),
]
