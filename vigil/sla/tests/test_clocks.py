"""The SLA clocks of an incident, on a fake clock: the automatic escalation at 75% of a target,
the breach at 100%, and what stops and changes them."""

from datetime import datetime

from vigil.incidents import actions
from vigil.paging import jobs as paging_jobs
from vigil.paging.models import Notification
from vigil.sla import jobs
from vigil.sla.models import SlaClock, SlaPolicy

from .conftest import at, at_time


def run_due():
    """Run the due SLA clocks and escalation steps, as the worker does."""
    n = 0
    while jobs.fire_due_sla_clock():
        n += 1
    while paging_jobs.step_due_escalation():
        pass
    return n


def open_sev1(personas):
    with at(0):
        incident = actions.do_create_incident(personas.service, actor=personas.viewer, title="Checkout down", severity="sev1")
        run_due()
    return incident


def paged(incident):
    return [(n.user.email, n.reason) for n in Notification.objects.filter(incident=incident).order_by("id")]


def sla_of(api, personas, incident):
    response = api(personas.viewer).get(f"/api/v1/incidents/{incident.pk}")
    assert response.status_code == 200
    return response.json()["sla"]


def test_the_ack_clock_escalates_at_75_percent_and_breaches_at_its_target(paged_team, sla, api):
    personas = paged_team
    incident = open_sev1(personas)
    assert paged(incident) == [("responder@ops.test", "level 1")]

    with at(359):  # 75% of 480 s is 360 s
        assert run_due() == 0
    assert paged(incident) == [("responder@ops.test", "level 1")]
    with at(360):
        assert run_due() == 1
        assert sla_of(api, personas, incident) == {
            "ack_target_seconds": 480, "resolve_target_seconds": 3600, "ack_elapsed_seconds": 360,
            "resolve_elapsed_seconds": 360, "ack_breached": False, "resolve_breached": False}
    # Asked for help before the SLA is violated: level 2 now, not at 600 s when its delay passes.
    assert paged(incident) == [("responder@ops.test", "level 1"), ("admin@ops.test", "level 2")]
    escalated = incident.timeline.get(kind="escalated")
    assert escalated.body == "75% of the ack SLA used" and escalated.actor is None

    with at(479):
        assert run_due() == 0
        assert sla_of(api, personas, incident)["ack_breached"] is False
    with at(480):
        assert run_due() == 1
        sla = sla_of(api, personas, incident)
    assert sla["ack_breached"] is True and sla["ack_elapsed_seconds"] == 480 and sla["resolve_breached"] is False
    breach = incident.timeline.get(kind="sla_breached")
    assert breach.body == "ack SLA breached: the target was 8 min." and breach.at == at_time(480)
    assert SlaClock.objects.get(incident=incident, kind="ack").breached_at == at_time(480)
    # Nothing more is due on the ack clock: it fired once each.
    with at(1000):
        assert run_due() == 0
    assert incident.timeline.filter(kind="escalated").count() == 1


def test_acknowledging_stops_the_ack_clock_before_it_escalates(paged_team, sla, api):
    personas = paged_team
    incident = open_sev1(personas)
    with at(200):
        actions.do_acknowledge_incident(incident, actor=personas.responder)
    with at(2000):
        assert run_due() == 0  # the resolve clock's 75% is at 2700 s
        sla = sla_of(api, personas, incident)
    assert sla["ack_elapsed_seconds"] == 200 and sla["ack_breached"] is False
    assert sla["resolve_elapsed_seconds"] == 2000
    assert not incident.timeline.filter(kind="escalated").exists()
    assert not incident.timeline.filter(kind="sla_breached").exists()


def test_the_resolve_clock_asks_for_help_on_an_acknowledged_incident_then_breaches(paged_team, sla, api):
    personas = paged_team
    incident = open_sev1(personas)
    with at(100):
        actions.do_acknowledge_incident(incident, actor=personas.responder)
    with at(2700):
        assert run_due() == 1
    assert incident.timeline.get(kind="escalated").body == "75% of the resolve SLA used"
    assert paged(incident)[-1] == ("admin@ops.test", "level 2")
    with at(3600):
        assert run_due() == 1
        assert sla_of(api, personas, incident)["resolve_breached"] is True


def test_resolving_stops_both_clocks(paged_team, sla, api):
    personas = paged_team
    incident = open_sev1(personas)
    with at(300):
        actions.do_resolve_incident(incident, actor=personas.responder)
    with at(5000):
        assert run_due() == 0
        sla = sla_of(api, personas, incident)
    assert (sla["ack_elapsed_seconds"], sla["resolve_elapsed_seconds"]) == (300, 300)
    assert not sla["ack_breached"] and not sla["resolve_breached"]
    assert SlaClock.objects.filter(incident=incident, next_due_at__isnull=False).count() == 0


def test_a_target_passed_before_the_worker_came_round_is_recorded_when_the_clock_stops(paged_team, sla, api):
    personas = paged_team
    incident = open_sev1(personas)
    with at(500):  # the worker was down: neither the 75% nor the breach fired
        actions.do_acknowledge_incident(incident, actor=personas.responder)
    breach = incident.timeline.get(kind="sla_breached")
    assert breach.at == at_time(480)
    assert sla_of(api, personas, incident)["ack_breached"] is True


def test_changing_the_severity_recomputes_the_targets(paged_team, sla, api):
    personas = paged_team
    incident = open_sev1(personas)
    with at(60):
        actions.do_update_incident(incident, actor=personas.responder, severity="sev3")
        assert sla_of(api, personas, incident)["ack_target_seconds"] == 1800
    assert "SLA targets for SEV3: ack 30 min, resolve 8 h" in incident.timeline.get(kind="sla").body
    with at(400):  # would have been the SEV1 escalation
        assert run_due() == 0
    with at(1350):
        assert run_due() == 1
    assert incident.timeline.get(kind="escalated").body == "75% of the ack SLA used"
    # Back to SEV1 at 1400 s: the 8-minute target has long passed, so the breach is due at once.
    with at(1400):
        actions.do_update_incident(incident, actor=personas.responder, severity="sev1")
        assert run_due() == 1
        assert sla_of(api, personas, incident)["ack_breached"] is True


def test_a_severity_without_targets_has_no_clocks(paged_team, sla, api):
    personas = paged_team
    with at(0):
        incident = actions.do_create_incident(personas.service, actor=None, title="Low", severity="sev4")
    assert sla_of(api, personas, incident) is None


def test_business_hours_clocks_wait_for_monday(paged_team, api):
    personas = paged_team
    SlaPolicy.objects.create(service=personas.service, business_hours_only=True, time_zone="Europe/Paris",
                             targets={"sev2": {"ack_seconds": 3600}})
    friday = datetime.fromisoformat("2026-11-27T16:30:00+01:00")
    with at(0, friday):
        incident = actions.do_create_incident(personas.service, actor=None, title="Slow", severity="sev2")
    clock = SlaClock.objects.get(incident=incident)
    assert clock.escalate_at == datetime.fromisoformat("2026-11-30T09:15:00+01:00")
    assert clock.breach_at == datetime.fromisoformat("2026-11-30T09:30:00+01:00")
    with at(2 * 86400, friday):  # Sunday afternoon: half an hour of business time used
        assert run_due() == 0
        assert sla_of(api, personas, incident)["ack_elapsed_seconds"] == 1800
    monday = datetime.fromisoformat("2026-11-30T09:15:00+01:00")
    with at(0, monday):
        assert run_due() == 1
    with at(15 * 60, monday):
        assert run_due() == 1
        assert sla_of(api, personas, incident)["ack_breached"] is True


def test_business_hours_clocks_skip_public_holidays_and_closed_days(paged_team, api):
    personas = paged_team
    policy = SlaPolicy.objects.create(service=personas.service, business_hours_only=True, time_zone="Europe/Amsterdam",
                                      holidays_of="NL", closed_days=["2026-04-28"], targets={"sev2": {"ack_seconds": 3600}})
    friday = datetime.fromisoformat("2026-04-24T16:30:00+02:00")  # Monday the 27th is King's Day
    with at(0, friday):
        incident = actions.do_create_incident(personas.service, actor=None, title="Slow", severity="sev2")
    clock = SlaClock.objects.get(incident=incident)
    assert clock.breach_at == datetime.fromisoformat("2026-04-29T09:30:00+02:00")
    # The clock keeps the days off it started with.
    policy.closed_days = []
    policy.save()
    clock.refresh_from_db()
    assert clock.breach_at == datetime.fromisoformat("2026-04-29T09:30:00+02:00") and clock.closed_days == ["2026-04-28"]
    with at(4 * 86400, friday):  # Tuesday afternoon, a closed day: half an hour of business time used
        assert sla_of(api, personas, incident)["ack_elapsed_seconds"] == 1800


def test_reopening_runs_the_clocks_again_from_the_reopening(paged_team, sla, api):
    personas = paged_team
    incident = open_sev1(personas)
    with at(100):
        actions.do_resolve_incident(incident, actor=personas.responder)
    with at(1000):
        actions.do_reopen_incident(incident, actor=personas.responder)
    with at(1000 + 360):
        assert run_due() == 1
        assert sla_of(api, personas, incident)["ack_elapsed_seconds"] == 360


def test_editing_the_title_starts_no_clock_on_an_incident_older_than_the_sla(paged_team, api):
    personas = paged_team
    with at(0):
        incident = actions.do_create_incident(personas.service, actor=None, title="Old", severity="sev1")
    SlaPolicy.objects.create(service=personas.service, targets={"sev1": {"ack_seconds": 60}})
    with at(600):
        actions.do_update_incident(incident, actor=personas.responder, title="Old, renamed")
        assert run_due() == 0
    assert sla_of(api, personas, incident) is None
    with at(660):  # a severity change applies the policy, from the opening
        actions.do_update_incident(incident, actor=personas.responder, severity="sev2")
        actions.do_update_incident(incident, actor=personas.responder, severity="sev1")
        assert run_due() == 1
    assert sla_of(api, personas, incident)["ack_breached"] is True
