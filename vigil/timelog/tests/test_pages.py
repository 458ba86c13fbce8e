"""The incident page's Time section and the service's month report page."""

from datetime import datetime

from vigil.timelog import actions
from vigil.timelog.models import Overrun, TimeAllowance, TimeEntry

from .conftest import open_incident

NOV = datetime.fromisoformat("2026-11-10T10:00:00+00:00")


def test_a_responder_logs_time_from_the_incident_page(personas, client):
    incident = open_incident(personas)
    client.force_login(personas.responder)
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert 'id="time-title"' in page and "No time logged yet." in page and 'action="/incidents/%d/time/"' % incident.pk in page
    response = client.post(f"/incidents/{incident.pk}/time/", {"minutes": "30", "kind": "corrective", "note": "<b>restart</b>"})
    assert response.status_code == 302 and response["Location"] == f"/incidents/{incident.pk}/#time"
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert '<dd id="time-corrective">30 min</dd>' in page and '<dd id="time-total">30 min</dd>' in page
    assert "&lt;b&gt;restart&lt;/b&gt;" in page and "<b>restart</b>" not in page
    assert client.post(f"/incidents/{incident.pk}/time/", {"minutes": "0", "kind": "corrective"}).status_code == 302
    assert TimeEntry.objects.count() == 1


def test_the_timer_starts_and_stops_from_the_page(personas, client):
    incident = open_incident(personas)
    client.force_login(personas.responder)
    client.post(f"/incidents/{incident.pk}/timer/start/", {"kind": "investigation"})
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "Your investigation timer has run since" in page and "Stop timer" in page
    client.post(f"/incidents/{incident.pk}/timer/stop/")
    entry = TimeEntry.objects.get()
    assert not entry.running and entry.minutes == 1 and entry.kind == "investigation"
    assert client.post(f"/incidents/{incident.pk}/timer/pause/").status_code == 404


def test_viewers_see_the_time_but_cannot_log(personas, client):
    incident = open_incident(personas)
    client.force_login(personas.viewer)
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert 'id="time-title"' in page and "Log time</button>" not in page
    assert client.post(f"/incidents/{incident.pk}/time/", {"minutes": "30", "kind": "corrective"}).status_code == 403
    client.force_login(personas.outsider)
    assert client.post(f"/incidents/{incident.pk}/time/", {"minutes": "30", "kind": "corrective"}).status_code == 404
    assert not TimeEntry.objects.exists()


def test_an_overrun_question_stays_on_the_page_until_answered(personas, client):
    TimeAllowance.objects.create(service=personas.service, incident_minutes=60)
    incident = open_incident(personas)
    client.force_login(personas.responder)
    client.post(f"/incidents/{incident.pk}/time/", {"minutes": "61", "kind": "corrective"})
    overrun = Overrun.objects.get()
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert f'id="overrun-{overrun.pk}"' in page and "passed the per-incident allowance (1 h 00 min). Why?" in page
    assert "Tools such as APM were missing" in page
    client.post(f"/time-overruns/{overrun.pk}/answer/", {"reason": "other", "text": ""})
    assert f'id="overrun-{overrun.pk}"' in client.get(f"/incidents/{incident.pk}/").content.decode()
    client.post(f"/time-overruns/{overrun.pk}/answer/", {"reason": "long_fix"})
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert f'id="overrun-{overrun.pk}"' not in page
    assert "The corrective work itself takes more than 8 hours (Rita Responder)" in page


def test_the_report_page_draws_used_against_approved_hours(personas, client):
    personas.service.monthly_approved_hours = 2
    personas.service.save()
    incident = open_incident(personas, "Disk <full>")
    actions.do_log_time(incident, actor=personas.responder, minutes=150, kind="corrective", at=NOV)
    actions.do_log_time(incident, actor=personas.responder, minutes=30, kind="preventive", at=NOV)
    client.force_login(personas.viewer)
    page = client.get("/services/acme-shop/time/", {"month": "2026-11"}).content.decode()
    assert "Hours, November 2026" in page
    assert '<dd id="approved">2 h 00 min</dd>' in page
    assert "2 h 30 min · over budget" in page
    assert "Disk &lt;full&gt;" in page
    assert '<svg class="chart"' in page and 'class="bar over"' in page and "Nov 2026: 2.5 h corrective" in page
    assert 'class="approved"' in page and "approved 2.0 h" in page
    assert f"/api/v1/services/{personas.service.pk}/time-report?month=2026-11&amp;format=csv" in page
    # The CSV link works with the session, as the page does.
    csv = client.get(f"/api/v1/services/{personas.service.pk}/time-report", {"month": "2026-11", "format": "csv"})
    assert csv.status_code == 200 and "Disk <full>" in csv.content.decode()
    assert "<form method=\"post\"" not in page.split('id="allowance"')[1]  # viewers do not set the allowance


def test_an_admin_sets_the_allowance_on_the_report_page(personas, client):
    client.force_login(personas.admin)
    response = client.post("/services/acme-shop/time/", {"incident_hours": "2.5"})
    assert response.status_code == 302
    assert TimeAllowance.objects.get(service=personas.service).incident_minutes == 150
    client.force_login(personas.responder)
    assert client.post("/services/acme-shop/time/", {"incident_hours": "1"}).status_code == 403
