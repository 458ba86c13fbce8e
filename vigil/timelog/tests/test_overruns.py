"""When corrective time passes the per-incident allowance or the month's approved hours, Vigil
asks why (once) and tells the project manager through the outbox."""

from datetime import datetime

import time_machine

from vigil.incidents import actions as incident_actions
from vigil.paging import jobs as paging_jobs
from vigil.paging.models import Notification
from vigil.timelog import actions
from vigil.timelog.models import Overrun

from .conftest import open_incident

NOV = datetime.fromisoformat("2026-11-20T10:00:00+00:00")


def log(personas, incident, minutes, kind="corrective", at=NOV):
    return actions.do_log_time(incident, actor=personas.responder, minutes=minutes, kind=kind, at=at)


def deliver():
    while paging_jobs.deliver_due_notification():
        pass


def test_passing_the_allowance_asks_for_a_reason_and_tells_the_project_manager(personas, manager, smtp, api):
    incident = open_incident(personas)
    log(personas, incident, 300)
    log(personas, incident, 180)  # exactly the 8 hours: still within
    log(personas, incident, 600, kind="investigation")  # only corrective time counts
    assert not Overrun.objects.exists()

    log(personas, incident, 15)
    overrun = Overrun.objects.get()
    assert (overrun.trigger, overrun.corrective_minutes, overrun.limit_minutes) == ("incident_allowance", 495, 480)
    asked = incident.timeline.get(kind="time_overrun")
    assert "Corrective time (8 h 15 min) passed the per-incident allowance (8 h 00 min)" in asked.body
    assert "Paula Manager (project manager) is told by email" in asked.body

    # Asked once: more time adds no second question and no second email.
    log(personas, incident, 60)
    assert Overrun.objects.count() == 1
    # Resolving does not cancel the message as it would a page.
    incident_actions.do_resolve_incident(incident, actor=personas.responder)
    deliver()
    [(recipients, email)] = smtp.messages
    assert recipients == ["pm@client.test"]
    assert " ".join(email["Subject"].split()) == f"[Vigil] Corrective time over the per-incident allowance: #{incident.number} Checkout down (Acme Shop)"
    assert "Corrective time (8 h 15 min) passed the per-incident allowance" in email.get_payload()
    assert f"/incidents/{incident.pk}/" in email.get_payload()
    assert Notification.objects.get().state == "sent"

    questions = api(personas.viewer).get(f"/api/v1/incidents/{incident.pk}/time-overruns").json()
    assert [(q["id"], q["reason"], q["answered_at"]) for q in questions] == [(overrun.pk, "", None)]


def test_the_allowance_is_a_service_setting(personas, api):
    admin = api(personas.admin)
    assert admin.get(f"/api/v1/services/{personas.service.pk}/time-allowance").json() == {"incident_minutes": 480}
    assert api(personas.responder).put(f"/api/v1/services/{personas.service.pk}/time-allowance",
                                       json={"incident_minutes": 60}).status_code == 403
    response = admin.put(f"/api/v1/services/{personas.service.pk}/time-allowance", json={"incident_minutes": 60})
    assert response.status_code == 200 and response.json() == {"incident_minutes": 60}
    assert admin.put(f"/api/v1/services/{personas.service.pk}/time-allowance", json={"incident_minutes": 0}).status_code == 422
    incident = open_incident(personas)
    log(personas, incident, 61)
    assert Overrun.objects.get().limit_minutes == 60


def test_passing_the_months_approved_hours_asks_each_incident_that_adds_corrective_time(personas, manager):
    personas.service.monthly_approved_hours = 2
    personas.service.save()
    first, second = open_incident(personas, "First"), open_incident(personas, "Second")
    log(personas, first, 90)
    log(personas, second, 30)  # exactly 2 hours in November
    assert not Overrun.objects.exists()
    log(personas, second, 1)
    overrun = Overrun.objects.get()
    assert (overrun.incident, overrun.trigger, overrun.corrective_minutes, overrun.limit_minutes) == (second, "monthly_budget", 121, 120)
    assert str(overrun.month) == "2026-11-01"
    log(personas, first, 10)
    assert Overrun.objects.filter(incident=first, trigger="monthly_budget").exists()
    # December starts a new budget.
    log(personas, first, 60, at=datetime.fromisoformat("2026-12-02T10:00:00+00:00"))
    assert Overrun.objects.count() == 2
    assert Notification.objects.filter(user=manager, reason="time overrun").count() == 2


def test_without_approved_hours_there_is_no_monthly_budget(personas):
    incident = open_incident(personas)
    log(personas, incident, 120)
    assert not Overrun.objects.exists()


def test_without_a_project_manager_the_question_is_still_asked(personas):
    incident = open_incident(personas)
    log(personas, incident, 500)
    assert Overrun.objects.count() == 1 and not Notification.objects.filter(reason="time overrun").exists()


def test_the_reason_is_answered_from_the_list_by_api(personas, api):
    incident = open_incident(personas)
    log(personas, incident, 500)
    overrun = Overrun.objects.get()
    answer = f"/api/v1/time-overruns/{overrun.pk}/answer"
    responder = api(personas.responder)
    assert responder.post(answer, json={"reason": "because"}).status_code == 422
    other = responder.post(answer, json={"reason": "other"})
    assert other.status_code == 422 and other.json()["detail"][0]["field"] == "text"
    assert api(personas.viewer).post(answer, json={"reason": "missing_tools"}).status_code == 403
    assert api(personas.outsider).post(answer, json={"reason": "missing_tools"}).status_code == 404
    overrun.refresh_from_db()
    assert overrun.answered_at is None

    response = responder.post(answer, json={"reason": "missing_tools"})
    assert response.status_code == 200
    assert response.json()["reason"] == "missing_tools" and response.json()["answered_by_id"] == personas.responder.pk
    assert incident.timeline.filter(kind="time_overrun", actor=personas.responder,
                                    body__endswith="Tools such as APM were missing, so the investigation took longer").exists()
    with time_machine.travel(NOV, tick=False):
        response = responder.post(answer, json={"reason": "other", "text": "  vendor outage  "})
    assert response.json()["reason_text"] == "vendor outage"
