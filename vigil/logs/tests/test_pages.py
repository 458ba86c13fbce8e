"""The log triage pages: ranked list, group page (state, incident), upload, sources and rule."""

import gzip
from datetime import datetime, timezone

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from vigil.alerts.models import Integration
from vigil.incidents.models import Incident
from vigil.logs.ingest import ingest_lines
from vigil.logs.models import ErrorGroup, LogSource, ServiceLogs
from vigil.reviews.models import ActionItem

NOW = datetime(2024, 5, 1, 12, 30, tzinfo=timezone.utc)


def login(user):
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def groups(personas):
    ingest_lines(personas.service, [
        "2024-05-01 12:00:00 ERROR [main] app.Db: connection 5 refused <script>alert(1)</script>",
        "2024-05-01 12:00:01 ERROR [main] app.Db: connection 6 refused <script>alert(1)</script>",
        "2024-05-01 12:00:02 INFO [main] app.Web: request 9 served",
    ], now=NOW)
    return {g.level: g for g in ErrorGroup.objects.all()}


def test_the_list_ranks_errors_first_and_escapes_templates(personas, groups):
    r = login(personas.viewer).get("/logs/", {"service": "acme-shop", "state": "all"})
    assert r.status_code == 200
    html = r.content.decode()
    assert html.index("connection &lt;*&gt; refused") < html.index("request &lt;*&gt; served")
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "<svg class=\"sparkline\"" in html and "level ERROR (+30)" in html


def test_other_teams_see_nothing(personas, groups):
    c = login(personas.outsider)
    assert "connection" not in c.get("/logs/", {"service": "acme-shop"}).content.decode()
    assert c.get(f"/logs/groups/{groups['ERROR'].pk}/").status_code == 404


def test_a_responder_marks_a_group_fixed_and_links_an_incident(personas, groups):
    group = groups["ERROR"]
    incident = Incident.objects.create(service=personas.service, team=personas.team, title="DB down", number=1)
    c = login(personas.responder)
    page = c.get(f"/logs/groups/{group.pk}/").content.decode()
    assert "Mark fixed" in page and "Why it ranks here" in page and "#1 DB down" in page
    assert c.post(f"/logs/groups/{group.pk}/state/", {"state": "fixed"}).status_code == 302
    assert c.post(f"/logs/groups/{group.pk}/incident/", {"incident": incident.pk}).status_code == 302
    group.refresh_from_db()
    assert (group.state, group.incident, group.fixed_at is not None) == ("fixed", incident, True)
    other = Incident.objects.create(service=personas.other_service, team=personas.other_team, title="x", number=1)
    c.post(f"/logs/groups/{group.pk}/incident/", {"incident": other.pk})
    group.refresh_from_db()
    assert group.incident == incident  # not another service's incident
    assert login(personas.viewer).post(f"/logs/groups/{group.pk}/state/", {"state": "ignored"}).status_code == 403


def test_upload_imports_a_gzip_file_and_htmx_is_redirected(personas):
    c = login(personas.responder)
    data = gzip.compress(b"2024-05-01 12:00:00 WARN [w] app.Cache: cache 3 cold\n" * 10)
    r = c.post("/logs/upload/", {"service": personas.service.pk, "file": SimpleUploadedFile("app.log.gz", data)},
               headers={"HX-Request": "true"})
    assert r.status_code == 204 and r["HX-Redirect"] == "/logs/?service=acme-shop"
    assert ErrorGroup.objects.get().count == 10
    page = c.get("/logs/upload/").content.decode()
    assert "logs/upload.js" in page and "<progress" in page and 'hx-encoding="multipart/form-data"' in page
    bad = c.post("/logs/upload/", {"service": personas.other_service.pk, "file": SimpleUploadedFile("a.log", b"x\n")})
    assert bad.status_code == 422  # not one of the user's services
    assert ErrorGroup.objects.count() == 1


def test_admins_add_sources_and_switch_the_alert_rule_on(personas):
    c = login(personas.admin)
    r = c.post("/logs/services/acme-shop/", {"source-name": "shop-web", "source-log_format": ""})
    assert r.status_code == 302
    assert LogSource.objects.get().service == personas.service
    c.post("/logs/services/acme-shop/", {"rule-alert_on_new": "on", "rule-alert_min_level": "ERROR"})
    logs = ServiceLogs.objects.get(service=personas.service)
    assert (logs.alert_on_new, logs.alert_on_burst) == (True, False)
    page = c.get("/logs/services/acme-shop/").content.decode()
    assert "/api/v1/logs/shop-web" in page
    assert login(personas.responder).post("/logs/services/acme-shop/", {"rule-alert_on_new": ""}).status_code == 403
    ingest_lines(personas.service, ["2024-05-01 12:00:00 ERROR [m] app.X: disk 3 failed"], now=NOW)
    assert Integration.objects.get(service=personas.service).name == "Log triage"


def test_a_responder_turns_a_group_into_an_action_item_from_its_page(personas, groups):
    group = groups["ERROR"]
    incident = Incident.objects.create(service=personas.service, team=personas.team, title="DB down", number=1)
    ErrorGroup.objects.filter(pk=group.pk).update(incident=incident)
    c = login(personas.responder)
    page = c.get(f"/logs/groups/{group.pk}/").content.decode()
    assert "Turn into an action item" in page
    assert 'value="Fix: connection &lt;*&gt; refused &lt;script&gt;' in page  # prefilled, escaped
    url = f"/logs/groups/{group.pk}/action-item/"
    form = {"title": "Fix: pool size", "owner": personas.responder.pk, "due_date": "2030-01-31",
            "kind": "corrective", "priority": "high"}
    bad = c.post(url, {**form, "owner": personas.outsider.pk})
    assert bad.status_code == 422 and "errorlist" in bad.content.decode()
    assert not ActionItem.objects.exists()
    assert login(personas.viewer).post(url, form).status_code == 403
    assert c.post(url, form).status_code == 302
    item = ActionItem.objects.get()
    assert (item.title, item.incident, item.priority, list(group.action_items.all())) == (
        "Fix: pool size", incident, "high", [item])
    page = c.get(f"/logs/groups/{group.pk}/").content.decode()
    assert f'href="{item.get_absolute_url()}">Fix: pool size</a>' in page
    viewer_page = login(personas.viewer).get(f"/logs/groups/{group.pk}/").content.decode()
    assert "Fix: pool size" in viewer_page and "Turn into an action item" not in viewer_page
