from django.urls import path, re_path

from . import manage, views

urlpatterns = [
    # Public (contract: /status/{slug}/ and its Statuspage v2 JSON and feeds).
    path("status/<slug:slug>/", views.status_page, name="statuspage-public"),
    re_path(r"^status/(?P<slug>[-\w]+)/api/v2/(?P<name>[-a-z/]+)\.json$", views.document, name="statuspage-json"),
    path("status/<slug:slug>/history.atom", views.HistoryFeed(), name="statuspage-atom"),
    path("status/<slug:slug>/history.rss", views.RssHistoryFeed(), name="statuspage-rss"),
    path("status/<slug:slug>/theme.css", views.theme, name="statuspage-theme"),
    path("status/<slug:slug>/logo", views.logo, name="statuspage-logo"),
    path("status/<slug:slug>/incidents/<str:code>", views.incident_page, name="statuspage-incident"),
    path("status/<slug:slug>/subscribe/", views.subscribe, name="statuspage-subscribe"),
    path("status/<slug:slug>/subscribe/confirm/<str:token>/", views.confirm, name="statuspage-confirm"),
    path("status/<slug:slug>/unsubscribe/<str:token>/", views.unsubscribe, name="statuspage-unsubscribe"),
    # For the team.
    path("status-pages/", manage.page_list, name="statuspage-list"),
    path("status-pages/new/", manage.page_new, name="statuspage-new"),
    path("status-pages/<slug:slug>/", manage.page_manage, name="statuspage-manage"),
    path("status-pages/<slug:slug>/edit/", manage.page_edit, name="statuspage-edit"),
    path("status-pages/<slug:slug>/components/", manage.component_add, name="statuspage-component-add"),
    path("status-pages/<slug:slug>/components/<int:pk>/", manage.component_edit, name="statuspage-component-edit"),
    path("status-pages/<slug:slug>/maintenance/", manage.maintenance_new, name="statuspage-maintenance-new"),
    path("status-pages/<slug:slug>/maintenance/<int:pk>/", manage.maintenance_update, name="statuspage-maintenance-update"),
    path("status-pages/<slug:slug>/subscribers/", manage.subscriber_add, name="statuspage-subscriber-add"),
    path("status-pages/<slug:slug>/secret-link/", manage.secret_link, name="statuspage-secret-link"),
    path("incidents/<int:pk>/public-updates/", manage.incident_public_update, name="incident-public-update"),
]
