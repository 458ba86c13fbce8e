from datetime import datetime, timedelta

import pytest
import time_machine

from vigil.oncall.models import EscalationPolicy
from vigil.paging.models import ContactMethod
from vigil.sla.models import SlaPolicy

T0 = datetime.fromisoformat("2026-11-26T10:00:00+00:00")  # a Thursday


def at(seconds, start=T0):
    return time_machine.travel(start + timedelta(seconds=seconds), tick=False)


def at_time(seconds):
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def paged_team(personas):
    """Level 1 pages the responder, level 2 (10 minutes later) the admin; both reachable."""
    policy = EscalationPolicy.objects.create(team=personas.team, name="Default", levels=[
        {"delay_seconds": 600, "targets": [{"type": "user", "id": personas.responder.pk}]},
        {"delay_seconds": 600, "targets": [{"type": "user", "id": personas.admin.pk}]},
    ])
    personas.service.escalation_policy = policy
    personas.service.save()
    for user in (personas.responder, personas.admin):
        ContactMethod.objects.create(user=user, kind="webhook", address="http://127.0.0.1:9/hook")
    return personas


@pytest.fixture
def sla(personas):
    """SEV1: acknowledge within 8 minutes, resolve within 1 hour; SEV3: 30 minutes and 8 hours."""
    return SlaPolicy.objects.create(service=personas.service, targets={
        "sev1": {"ack_seconds": 480, "resolve_seconds": 3600},
        "sev3": {"ack_seconds": 1800, "resolve_seconds": 8 * 3600},
    })
