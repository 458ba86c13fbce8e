"""The demo's status page (called by `vigil demo`)."""

from datetime import timedelta

from . import services
from .models import Component, StatusPage


def demo_status_page(team, shop, api, incident, actor, now):
    page = StatusPage.objects.create(team=team, slug="acme", name="Acme Status", footer="Acme Ltd. · support@acme.example")
    customer = Component.objects.create(page=page, name="Customer facing", is_group=True, position=1)
    website = Component.objects.create(page=page, name="Storefront", service=shop, group=customer, position=2,
                                       description="Shop and checkout")
    Component.objects.create(page=page, name="Partner API", service=api, group=customer, position=3,
                             description="REST API for partners")
    Component.objects.create(page=page, name="Help centre", position=4)
    services.refresh_components(page.components.all(), now)
    services.post_public_update(incident, page=page, status="identified", actor=actor, now=now,
                                body="Card payments fail at checkout for some customers. A fix is being deployed.")
    services.schedule_maintenance(page, name="Database upgrade", components=[website], actor=actor,
                                  scheduled_for=(now + timedelta(days=2)).replace(hour=2, minute=0, second=0, microsecond=0),
                                  scheduled_until=(now + timedelta(days=2)).replace(hour=3, minute=0, second=0, microsecond=0),
                                  body="Checkout may be slow for a few minutes during the upgrade.")
    return f"Status page: {page.public_url()} (JSON: {page.public_url()}api/v2/summary.json)"
