"""GET/POST /api/v1/incidents/{id}/time-entries and the start/stop timer."""

from datetime import datetime, timedelta

import time_machine

from vigil.timelog.models import TimeEntry

from .conftest import open_incident

T0 = datetime.fromisoformat("2026-11-26T10:00:00+00:00")


def url(incident):
    return f"/api/v1/incidents/{incident.pk}/time-entries"


def test_a_responder_logs_time_and_everyone_in_the_team_reads_it(personas, api):
    incident = open_incident(personas)
    response = api(personas.responder).post(url(incident), json={"minutes": 30, "kind": "corrective", "note": "rolled back"})
    assert response.status_code == 201, response.json()
    entry = response.json()
    assert (entry["minutes"], entry["kind"], entry["note"], entry["user_id"], entry["running"]) == \
        (30, "corrective", "rolled back", personas.responder.pk, False)
    listed = api(personas.viewer).get(url(incident)).json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == entry["id"]
    logged = incident.timeline.get(kind="time_logged")
    assert logged.body == "30 min of corrective work logged: rolled back" and logged.actor == personas.responder


def test_the_work_can_be_dated_in_the_past(personas, api):
    incident = open_incident(personas)
    response = api(personas.responder).post(url(incident), json={"minutes": 90, "kind": "investigation",
                                                                 "at": "2026-10-31T23:30:00-01:00"})
    assert response.status_code == 201
    assert TimeEntry.objects.get().at == datetime.fromisoformat("2026-11-01T00:30:00+00:00")


def test_bad_input_names_the_field_and_logs_nothing(personas, api):
    incident = open_incident(personas)
    responder = api(personas.responder)
    for body, field in [
        ({"minutes": 0, "kind": "corrective"}, "minutes"),
        ({"minutes": -5, "kind": "corrective"}, "minutes"),
        ({"minutes": "lots", "kind": "corrective"}, "minutes"),
        ({"minutes": 30, "kind": "napping"}, "kind"),
        ({"kind": "corrective"}, "minutes"),
        ({"minutes": 30, "kind": "corrective", "note": "x" * 2001}, "note"),
        ({"minutes": 30, "kind": "corrective", "at": "2026-11-01T10:00:00"}, "at"),
        ({"minutes": 30, "kind": "corrective", "at": "2999-01-01T10:00:00Z"}, "at"),
        ({"minutes": 30, "kind": "corrective", "extra": 1}, "extra"),
    ]:
        response = responder.post(url(incident), json=body)
        assert response.status_code == 422, body
        assert field in [d["field"] for d in response.json()["detail"]], (field, response.json())
    assert not TimeEntry.objects.exists()


def test_viewers_cannot_log_and_other_teams_do_not_see(personas, api):
    incident = open_incident(personas)
    body = {"minutes": 30, "kind": "corrective"}
    assert api(personas.viewer).post(url(incident), json=body).status_code == 403
    assert api(personas.outsider).post(url(incident), json=body).status_code == 404
    assert api(personas.outsider).get(url(incident)).status_code == 404
    assert api().get(url(incident)).status_code == 401
    assert not TimeEntry.objects.exists()


def test_a_timer_is_a_row_that_stopping_turns_into_minutes(personas, api):
    incident = open_incident(personas)
    responder = api(personas.responder)
    with time_machine.travel(T0, tick=False):
        started = responder.post(f"/api/v1/incidents/{incident.pk}/timer/start", json={"kind": "investigation", "note": "logs"})
        assert started.status_code == 201 and started.json()["running"] is True
        # A second start is refused: one timer per person and incident.
        assert responder.post(f"/api/v1/incidents/{incident.pk}/timer/start").status_code == 409
    assert TimeEntry.objects.get().running is True
    with time_machine.travel(T0 + timedelta(minutes=25, seconds=10), tick=False):
        stopped = responder.post(f"/api/v1/incidents/{incident.pk}/timer/stop")
    assert stopped.status_code == 200
    assert (stopped.json()["minutes"], stopped.json()["running"], stopped.json()["kind"]) == (25, False, "investigation")
    assert responder.post(f"/api/v1/incidents/{incident.pk}/timer/stop").status_code == 409
    assert incident.timeline.get(kind="time_logged").body == "25 min of investigation work logged by timer: logs"


def test_two_people_each_run_their_own_timer(personas, api):
    incident = open_incident(personas)
    assert api(personas.responder).post(f"/api/v1/incidents/{incident.pk}/timer/start").status_code == 201
    assert api(personas.admin).post(f"/api/v1/incidents/{incident.pk}/timer/start").status_code == 201
    assert TimeEntry.objects.filter(running=True).count() == 2
