import shutil

import pytest

from vigil.accounts.models import Membership, Role, User
from vigil.incidents import actions as incidents


@pytest.fixture
def resolved(personas):
    """A resolved incident on Acme Shop, whose team lead is the admin and whose project manager is
    Pat (a responder of the team)."""
    personas.pm = User.objects.create_user("pm@ops.test", name="Pat Manager")
    Membership.objects.create(user=personas.pm, team=personas.team, role=Role.RESPONDER)
    personas.team.lead = personas.admin
    personas.team.save()
    personas.service.project_manager = personas.pm
    personas.service.save()
    incident = incidents.do_create_incident(personas.service, actor=personas.responder, title="Checkout returns 502",
                                            severity="sev1")
    incidents.do_acknowledge_incident(incident, actor=personas.responder)
    incidents.do_add_note(incident, actor=personas.responder, body="Rolled back release 412")
    incidents.do_resolve_incident(incident, actor=personas.responder)
    return incident


WHYS = [
    {"id": 1, "parent": None, "why": "Why did checkout return 502?", "answer": "The payment pods were OOM-killed.",
     "evidence": ["https://grafana.example/d/pods"]},
    {"id": 2, "parent": 1, "why": "Why were they OOM-killed?", "answer": "Release 412 cached every card BIN in memory."},
    {"id": 3, "parent": 2, "why": "Why did that ship?", "answer": "The load test runs without the BIN table.",
     "evidence": ["https://ci.example/runs/412"]},
]


@pytest.fixture
def pdftotext():
    """The PDF tests read the PDF back with poppler-utils (installed by .ci/run)."""
    if not shutil.which("pdftotext"):
        pytest.skip("needs pdftotext: apt-get install poppler-utils")
    return "pdftotext"
