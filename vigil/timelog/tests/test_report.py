"""GET /api/v1/services/{id}/time-report?month=YYYY-MM: the month's time by kind and by incident.
Its totals are the sum of the entries (run on SQLite and PostgreSQL)."""

import csv
import io
import random
from datetime import datetime, timedelta


from vigil.timelog import actions
from vigil.timelog.models import Kind, TimeEntry

from .conftest import open_incident

NOV = datetime.fromisoformat("2026-11-01T00:00:00+00:00")


def url(service):
    return f"/api/v1/services/{service.pk}/time-report"


def test_the_report_adds_up_the_months_entries_by_kind_and_incident(personas, api):
    personas.service.monthly_approved_hours = 10
    personas.service.save()
    incidents = [open_incident(personas, f"Incident {n}") for n in range(3)]
    other_service_incident = open_incident(personas, "Elsewhere")
    other_service_incident.service = personas.other_service
    other_service_incident.save()
    rng = random.Random(5)
    expected = {kind: 0 for kind in Kind.values}
    per_incident = {i.pk: {kind: 0 for kind in Kind.values} for i in incidents}
    for _ in range(40):
        incident, kind = rng.choice(incidents), rng.choice(Kind.values)
        minutes, at = rng.randint(1, 240), NOV + timedelta(minutes=rng.randint(0, 30 * 24 * 60 - 1))
        actions.do_log_time(incident, actor=personas.responder, minutes=minutes, kind=kind, at=at)
        expected[kind] += minutes
        per_incident[incident.pk][kind] += minutes
    # Not in the report: October, December, a running timer, another service.
    for at in (NOV - timedelta(seconds=1), NOV + timedelta(days=30)):
        actions.do_log_time(incidents[0], actor=personas.responder, minutes=50, kind="corrective", at=at)
    TimeEntry.objects.create(incident=incidents[0], user=personas.admin, kind="corrective", running=True, at=NOV)
    actions.do_log_time(other_service_incident, actor=personas.outsider, minutes=70, kind="corrective", at=NOV)

    report = api(personas.viewer).get(url(personas.service), month="2026-11").json()
    assert report["minutes_by_kind"] == expected
    assert sum(report["minutes_by_kind"].values()) == sum(
        e.minutes for e in TimeEntry.objects.filter(incident__in=incidents, at__gte=NOV, at__lt=NOV + timedelta(days=30)))
    assert {row["incident_id"]: row["minutes_by_kind"] for row in report["incidents"]} == \
        {pk: kinds for pk, kinds in per_incident.items() if sum(kinds.values())}
    assert report["approved_minutes"] == 600
    assert report["over_budget"] == (expected["corrective"] > 600)

    response = api(personas.viewer).get(url(personas.service), month="2026-11", format="csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert 'filename="acme-shop-2026-11-time.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    by_incident = [r for r in rows if r["incident_id"]]
    total = next(r for r in rows if r["title"] == "total")
    for kind in Kind.values:
        assert sum(int(r[kind]) for r in by_incident) == int(total[kind]) == expected[kind]
    assert int(total["total_minutes"]) == sum(expected.values())


def test_over_budget_is_corrective_time_past_the_approved_hours(personas, api):
    personas.service.monthly_approved_hours = 1
    personas.service.save()
    incident = open_incident(personas)
    actions.do_log_time(incident, actor=personas.responder, minutes=60, kind="corrective", at=NOV)
    actions.do_log_time(incident, actor=personas.responder, minutes=500, kind="preventive", at=NOV)
    assert api(personas.viewer).get(url(personas.service), month="2026-11").json()["over_budget"] is False
    actions.do_log_time(incident, actor=personas.responder, minutes=1, kind="corrective", at=NOV)
    assert api(personas.viewer).get(url(personas.service), month="2026-11").json()["over_budget"] is True


def test_an_empty_month_and_the_default_month(personas, api):
    report = api(personas.viewer).get(url(personas.service), month="2020-02").json()
    assert report == {"service_id": personas.service.pk, "month": "2020-02", "approved_minutes": 0,
                      "minutes_by_kind": {"investigation": 0, "corrective": 0, "preventive": 0},
                      "incidents": [], "over_budget": False}
    assert api(personas.viewer).get(url(personas.service)).status_code == 200


def test_a_bad_month_or_format_is_named(personas, api):
    viewer = api(personas.viewer)
    for params, field in [({"month": "2026-13"}, "month"), ({"month": "Nov 2026"}, "month"), ({"format": "xls"}, "format")]:
        response = viewer.get(url(personas.service), **params)
        assert response.status_code == 422, params
        assert response.json()["detail"][0]["field"] == field


def test_other_teams_cannot_read_the_report(personas, api):
    assert api(personas.outsider).get(url(personas.service)).status_code == 404
    assert api().get(url(personas.service)).status_code == 401


def test_a_csv_title_cannot_become_a_spreadsheet_formula(personas, api):
    incident = open_incident(personas, "=HYPERLINK(\"http://evil\")")
    actions.do_log_time(incident, actor=personas.responder, minutes=5, kind="corrective", at=NOV)
    body = api(personas.viewer).get(url(personas.service), month="2026-11", format="csv").content.decode()
    assert "'=HYPERLINK" in body
