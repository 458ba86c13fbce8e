
import pytest

from vigil.accounts.models import User
from vigil.incidents import actions




@pytest.fixture
def manager(personas):
    """Paula, the project manager of the personas' service."""
    paula = User.objects.create_user("pm@client.test", name="Paula Manager")
    personas.service.project_manager = paula
    personas.service.save(update_fields=["project_manager"])
    return paula


def open_incident(personas, title="Checkout down", severity="sev2"):
    return actions.do_create_incident(personas.service, actor=personas.responder, title=title, severity=severity)
