"""A realistic demo organisation, so that a first `make run` shows Vigil at work."""

import datetime as dt
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from vigil.accounts.actions import do_add_member, do_create_team, do_create_user
from vigil.accounts.models import Role, User
from vigil.alerts.actions import do_create_integration
from vigil.alerts.formats import generic
from vigil.alerts.ingest import ingest
from vigil.catalog.actions import do_create_service
from vigil.catalog.models import HostingProvider
from vigil.comms.actions import do_create_stakeholder
from vigil.incidents import actions as incidents
from vigil.incidents.models import Incident
from vigil.monitors.actions import do_create_monitor
from vigil.oncall.actions import LayerSpec, do_create_override, do_create_schedule
from vigil.paging.actions import do_create_policy
from vigil.sla import clocks as sla_clocks
from vigil.sla.actions import do_set_sla_policy
from vigil.statuspage.demo import demo_status_page
from vigil.timelog.actions import do_log_time

ADMIN_EMAIL = "admin@example.com"
PASSWORD = "vigil-demo"

PROVIDERS = [
    ("Hetzner", "https://console.hetzner.cloud/support", "support@hetzner.com", "+49 9831 505-0"),
    ("AWS", "https://console.aws.amazon.com/support/home", "", ""),
    ("DigitalOcean", "https://cloudsupport.digitalocean.com", "", ""),
]


class Command(BaseCommand):
    help = f"Load a demo organisation (login {ADMIN_EMAIL} / {PASSWORD}). Does nothing if it is loaded."

    def add_arguments(self, parser):
        parser.add_argument("--first-run", action="store_true", help="load only into an empty database (no users)")

    def handle(self, first_run, **options):
        if User.objects.filter(email=ADMIN_EMAIL).exists() or (first_run and User.objects.exists()):
            self.stdout.write("Demo data present or database in use: nothing loaded.")
        else:
            for line in self.load():
                self.stdout.write(line)
            self.stdout.write("Demo organisation loaded.")
        self.stdout.write(f"Log in at http://127.0.0.1:8000/ as {ADMIN_EMAIL} / {PASSWORD} (if the demo was loaded).")

    @transaction.atomic
    def load(self):
        admin = do_create_user(ADMIN_EMAIL, actor=None, name="Avery Admin", password=PASSWORD, is_admin=True)
        people = {
            key: do_create_user(f"{key}@example.com", actor=admin, name=name, password=PASSWORD, time_zone=tz)
            for key, name, tz in [
                ("alice", "Alice Moreau", "Europe/Paris"),
                ("bob", "Bob Okafor", "Europe/London"),
                ("carol", "Carol Nguyen", "America/New_York"),
                ("dan", "Dan Petrov", "Europe/Berlin"),
            ]
        }
        platform = do_create_team("Platform", actor=admin)
        data = do_create_team("Data", actor=admin)
        for key, team, role in [("alice", platform, Role.ADMIN), ("bob", platform, Role.RESPONDER),
                                ("carol", platform, Role.VIEWER), ("dan", data, Role.ADMIN)]:
            do_add_member(team, people[key], role, actor=admin)
        for name, url, email, phone in PROVIDERS:
            HostingProvider.objects.get_or_create(name=name, defaults={
                "support_url": url, "support_email": email, "support_phone": phone})
        now = timezone.now()
        # Alice and Bob take weekly turns from Monday 09:00 Paris time; Avery covers nights.
        monday = (now - timedelta(days=now.weekday() + 7)).replace(hour=8, minute=0, second=0, microsecond=0)
        schedule, _ = do_create_schedule(platform, actor=admin, name="Platform primary", time_zone="Europe/Paris", layers=[
            LayerSpec(name="Weekly", start=monday, rotation="weekly", handoff_time=dt.time(9, 0),
                      participants=[people["alice"], people["bob"]]),
        ])
        do_create_override(schedule, actor=admin, user=people["bob"], start=now + timedelta(days=2),
                           end=now + timedelta(days=2, hours=8))
        policy = do_create_policy(platform, actor=admin, name="Platform default", repeat=1, levels=[
            {"delay_seconds": 300, "targets": [{"type": "schedule", "id": schedule.pk}]},
            {"delay_seconds": 600, "targets": [{"type": "team", "id": platform.pk}]},
        ])
        shop = do_create_service(platform, actor=admin, name="Acme Shop", description="Storefront and checkout for Acme Ltd.",
                                 hosting_provider="Hetzner", escalation_policy_id=policy.pk, monthly_approved_hours=12)
        api = do_create_service(platform, actor=admin, name="Globex Partner API", description="REST API used by Globex's mobile apps.",
                                hosting_provider="AWS", escalation_policy_id=policy.pk, monthly_approved_hours=8)
        warehouse = do_create_service(data, actor=admin, name="Initech Warehouse", description="Nightly ETL and reporting.",
                                      hosting_provider="DigitalOcean", monthly_approved_hours=4)

        alice, bob = people["alice"], people["bob"]
        # SLAs: the shop round the clock, the partner API in Paris business hours; Carol manages the shop's hours.
        do_set_sla_policy(shop, actor=admin, targets={
            "sev1": {"ack_seconds": 15 * 60, "resolve_seconds": 4 * 3600},
            "sev2": {"ack_seconds": 30 * 60, "resolve_seconds": 8 * 3600},
            "sev3": {"ack_seconds": 2 * 3600, "resolve_seconds": 24 * 3600}})
        do_set_sla_policy(api, actor=admin, business_hours_only=True, time_zone="Europe/Paris", targets={
            "sev2": {"ack_seconds": 3600, "resolve_seconds": 8 * 3600}, "sev4": {"resolve_seconds": 5 * 8 * 3600}})
        shop.project_manager = people["carol"]
        shop.save(update_fields=["project_manager"])
        hours_spent = {"Checkout returns 502 for card payments": [(alice, 35, "investigation"), (alice, 50, "corrective")],
                       "Search index stale after deploy": [(bob, 90, "corrective"), (bob, 30, "preventive")],
                       "Database failover drill": [(alice, 120, "preventive")]}
        story = [
            (shop, "Checkout returns 502 for card payments", "sev1", ["acknowledge"], alice, 12),
            (api, "p99 latency above 2 s on /v2/orders", "sev2", [], None, 4),
            (shop, "Search index stale after deploy", "sev3", ["acknowledge", "mitigate"], bob, 95),
            (api, "TLS certificate expires in 7 days", "sev4", ["acknowledge", "resolve"], bob, 60 * 26),
            (shop, "Database failover drill", "sev2", ["acknowledge", "mitigate", "resolve"], alice, 60 * 72),
            (warehouse, "Nightly ETL did not run", "sev3", ["resolve"], people["dan"], 60 * 30),
        ]
        for service, title, severity, moves, actor, minutes_ago in story:
            incident = incidents.do_create_incident(service, actor=actor or admin, title=title, severity=severity,
                                                    is_drill="drill" in title)
            # Back-date the opening so the clocks (time to acknowledge, to resolve) look lived-in.
            Incident.objects.filter(pk=incident.pk).update(created_at=now - timedelta(minutes=minutes_ago))
            sla_clocks.start(incident, now - timedelta(minutes=minutes_ago))
            for move in moves:
                getattr(incidents, f"do_{move}_incident")(incident, actor=actor)
            if moves:
                incidents.do_add_note(incident, actor=actor, body="Looking at the dashboards; rolled back the last deploy.")
            for who, minutes, kind in hours_spent.get(title, []):
                do_log_time(incident, actor=who, minutes=minutes, kind=kind)
            if title.startswith("Checkout"):
                checkout = incident

        # The checkout incident being run: roles, impact, a rollback; who hears about Acme Shop.
        incidents.do_assign_role(checkout, bob, "communications", actor=alice)
        incidents.do_update_incident(checkout, actor=alice, impact="Card payments fail at checkout; PayPal still works.",
                                     impact_started_at=now - timedelta(minutes=20), affected_components=["checkout API"])
        incidents.do_log_fix(checkout, actor=alice, action="rollback", outcome="pending", change="deploy 4521",
                             target="checkout-api", **{"from": "v1.4.2", "to": "v1.4.1"},
                             command="kubectl rollout undo deploy/checkout-api")
        do_create_stakeholder(shop, actor=admin, name="Jane Client (Acme)", group="client", address="jane@acme.example")
        do_create_stakeholder(shop, actor=admin, name="Sales lead", group="business", address="sales@example.com")

        from vigil.reviews import demo as reviews_demo

        reviews_demo.load(Incident.objects.get(title="TLS certificate expires in 7 days"), author=bob, reviewer=alice,
                          manager=people["carol"])
        # The clients' status page, telling them about the open checkout incident.
        checkout = Incident.objects.get(service=shop, title="Checkout returns 502 for card payments")
        status_page_line = demo_status_page(platform, shop, api, checkout, alice, now)

        # Integrations, and a burst of alerts through the real pipeline.
        lines = []
        for service, kind in [(shop, "alertmanager"), (api, "pagerduty"), (warehouse, "generic")]:
            integration, key = do_create_integration(service, actor=admin, kind=kind,
                                                     grouping="service" if kind == "alertmanager" else "alert_group")
            lines.append(f"{service.name}: {integration.name} key {key} -> {integration.url(key)}")
            if kind == "alertmanager":
                shop_alerts = integration
        # Uptime monitors: Vigil watching its own health endpoint and port (checked once it serves).
        do_create_monitor(api, actor=admin, name="Vigil health endpoint", kind="http",
                          target=f"{settings.BASE_URL}/healthz", keyword='"ok"', max_latency_ms=2000)
        do_create_monitor(api, actor=admin, name="Vigil port", kind="ping",
                          target=settings.BASE_URL.split("://", 1)[1].split("/", 1)[0], interval_seconds=300)
        ingest(shop_alerts, generic.parse([
            {"summary": f"HTTP 5xx rate above 5% on web-{n}", "severity": "critical", "dedup_key": f"web-{n}-5xx",
             "source": f"web-{n}.acme", "labels": {"alertname": "High5xxRate", "instance": f"web-{n}"}}
            for n in (1, 2)
        ]))
        from vigil.anomaly import demo as anomaly_demo
        from vigil.heartbeats import demo as heartbeats_demo

        lines += heartbeats_demo.load(warehouse, actor=admin)
        lines += anomaly_demo.load(shop, actor=admin)

        # Log triage: a day of the shop's logs, mined into error groups.
        from vigil.logs.demo import load_demo_logs

        lines.append(load_demo_logs(shop, now))
        return lines
        return [status_page_line, *lines]
