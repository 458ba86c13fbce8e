from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from vigil.api import api
from vigil.web import views as web_views

urlpatterns = [
    path("healthz", web_views.healthz, name="healthz"),
    path("readyz", web_views.readyz, name="readyz"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(template_name="web/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("vigil.statuspage.urls")),
    path("", include("vigil.alerts.urls")),
    path("", include("vigil.paging.urls")),
    path("", include("vigil.comms.urls")),
    path("", include("vigil.reviews.urls")),
    path("", include("vigil.sla.urls")),
    path("", include("vigil.timelog.urls")),
    path("", include("vigil.incidents.urls")),
    path("", include("vigil.catalog.urls")),
    path("", include("vigil.accounts.urls")),
    path("", include("vigil.oncall.urls")),
    path("", include("vigil.monitors.urls")),
    path("", include("vigil.heartbeats.urls")),
    path("", include("vigil.anomaly.urls")),
    path("", include("vigil.selfwatch.urls")),
    path("", include("vigil.logs.urls")),
]
