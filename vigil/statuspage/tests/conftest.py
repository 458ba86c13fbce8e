import pytest

from vigil.incidents import actions
from vigil.statuspage.models import Component, StatusPage


@pytest.fixture
def page(personas):
    """Acme's public page: Website (follows the Acme Shop service), and a group Backend with API
    (follows nothing: set by hand only)."""
    page = StatusPage.objects.create(team=personas.team, slug="acme", name="Acme", footer="Acme Ltd.")
    page.website = Component.objects.create(page=page, name="Website", service=personas.service, position=1,
                                            description="Storefront and checkout")
    page.backend = Component.objects.create(page=page, name="Backend", is_group=True, position=2)
    page.api = Component.objects.create(page=page, name="API", group=page.backend, position=3)
    return page


@pytest.fixture
def open_incident(personas):
    def make(severity="sev1", title="Checkout returns 502", service=None, **kw):
        return actions.do_create_incident(service or personas.service, actor=personas.responder, title=title,
                                          severity=severity, **kw)

    return make
