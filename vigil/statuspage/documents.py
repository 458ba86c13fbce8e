"""What a status page says, as data: the Statuspage v2 JSON documents, the 90-day bars and uptime.

Everything here reads; nothing writes. The views render it, the cache in front keeps the bytes."""

import json
from datetime import datetime, time, timedelta
from datetime import timezone as dt_timezone

from django.db.models import Prefetch
from django.utils import timezone

from .models import (
    MAINTENANCE_OPEN,
    UNRESOLVED,
    ComponentStatus,
    ComponentStatusChange,
    MaintenanceStatus,
    PublicUpdate,
    worst,
)
from .services import indicator

DAYS = 90
# As Statuspage counts it: a major outage is downtime, a partial outage counts for 30 %, the rest is up.
DOWNTIME_WEIGHT = {ComponentStatus.MAJOR: 1.0, ComponentStatus.PARTIAL: 0.3}


def iso(value):
    """2026-11-26T23:10:00.000Z, as Statuspage writes times; None stays None."""
    if value is None:
        return None
    return value.astimezone(dt_timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def dumps(document):
    """JSON that no HTML parser can mistake for markup: <, > and & are written as \\u escapes."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode()


class PageState:
    """One page's components, incidents and maintenances, read once (a handful of queries)."""

    def __init__(self, page, now=None):
        self.page = page
        self.now = now or timezone.now()
        components = list(page.components.select_related("group").order_by("position", "id"))
        self.components = components
        self.groups = [c for c in components if c.is_group]
        self.leaves = [c for c in components if not c.is_group]
        for group in self.groups:
            group.members = [c for c in self.leaves if c.group_id == group.pk]
            group.status = worst(c.status for c in group.members)
        updates = Prefetch("updates", queryset=PublicUpdate.objects.order_by("-display_at", "-id"))
        listed = page.incidents.prefetch_related(updates, "components").order_by("-created_at", "-id")
        self.incidents = list(listed.filter(scheduled_for__isnull=True)[:50])
        self.maintenances = list(listed.filter(scheduled_for__isnull=False).order_by("-scheduled_for", "-id")[:50])
        self.unresolved = [i for i in self.incidents if i.status in UNRESOLVED]
        if len(self.incidents) == 50:  # an old incident still open is not dropped from the summary
            seen = {i.pk for i in self.incidents}
            self.unresolved += [i for i in listed.filter(scheduled_for__isnull=True, status__in=UNRESOLVED) if i.pk not in seen]
        self.open_maintenances = sorted(
            (m for m in self.maintenances if m.status in MAINTENANCE_OPEN), key=lambda m: m.scheduled_for)
        self.indicator, self.description = indicator(self.leaves, self.unresolved)

    # -- JSON ----------------------------------------------------------------------------------------

    def page_json(self):
        p = self.page
        return {"id": p.code, "name": p.name, "url": p.public_url(), "time_zone": p.time_zone, "updated_at": iso(p.updated_at)}

    def component_json(self, c):
        doc = {
            "id": c.code, "name": c.name, "status": c.status, "created_at": iso(c.created_at), "updated_at": iso(c.updated_at),
            "position": c.position, "description": c.description or None, "showcase": c.showcase,
            "start_date": c.created_at.date().isoformat(), "group_id": c.group.code if c.group_id else None,
            "page_id": self.page.code, "group": c.is_group, "only_show_if_degraded": c.only_show_if_degraded,
        }
        if c.is_group:
            doc["components"] = [m.code for m in c.members]
        return doc

    def incident_json(self, i):
        doc = {
            "id": i.code, "name": i.name, "status": i.status, "created_at": iso(i.created_at), "updated_at": iso(i.updated_at),
            "monitoring_at": iso(i.monitoring_at), "resolved_at": iso(i.resolved_at), "impact": i.impact,
            "shortlink": i.shortlink(), "started_at": iso(i.started_at), "page_id": self.page.code,
            "incident_updates": [{
                "id": u.code, "status": u.status, "body": u.body, "incident_id": i.code, "created_at": iso(u.created_at),
                "updated_at": iso(u.created_at), "display_at": iso(u.display_at),
                "affected_components": u.affected_components, "deliver_notifications": u.deliver_notifications,
                "custom_tweet": None, "tweet_id": None,
            } for u in i.updates.all()],
            "components": [self.component_json(c) for c in i.components.all()],
        }
        if i.is_maintenance:
            doc["scheduled_for"], doc["scheduled_until"] = iso(i.scheduled_for), iso(i.scheduled_until)
        return doc

    def document(self, name):
        """The body of /api/v2/<name>.json."""
        doc = {"page": self.page_json()}
        status = {"indicator": self.indicator, "description": self.description}
        components = lambda: [self.component_json(c) for c in self.components]  # noqa: E731
        maintenances = lambda ms: [self.incident_json(m) for m in ms]  # noqa: E731
        if name == "summary":
            doc.update(status=status, components=components(),
                       incidents=[self.incident_json(i) for i in self.unresolved],
                       scheduled_maintenances=maintenances(self.open_maintenances))
        elif name == "status":
            doc["status"] = status
        elif name == "components":
            doc["components"] = components()
        elif name == "incidents":
            doc["incidents"] = [self.incident_json(i) for i in self.incidents]
        elif name == "incidents/unresolved":
            doc["incidents"] = [self.incident_json(i) for i in self.unresolved]
        elif name == "scheduled-maintenances":
            doc["scheduled_maintenances"] = maintenances(self.maintenances)
        elif name == "scheduled-maintenances/upcoming":
            doc["scheduled_maintenances"] = maintenances(m for m in self.open_maintenances if m.status == MaintenanceStatus.SCHEDULED)
        elif name == "scheduled-maintenances/active":
            doc["scheduled_maintenances"] = maintenances(m for m in self.open_maintenances if m.status == MaintenanceStatus.IN_PROGRESS)
        else:
            raise KeyError(name)
        return doc

    # -- history -------------------------------------------------------------------------------------

    def history(self):
        """Per showcased component: 90 days (oldest first) of {date, status, uptime, incidents}, and the uptime %."""
        today = self.now.astimezone(dt_timezone.utc).date()
        first_day = today - timedelta(days=DAYS - 1)
        start = datetime.combine(first_day, time.min, tzinfo=dt_timezone.utc)
        changes = {}
        for change in ComponentStatusChange.objects.filter(component__in=self.leaves, at__gte=start).order_by("at", "id"):
            changes.setdefault(change.component_id, []).append((change.at, change.status))
        before = {c.pk: ComponentStatusChange.objects.filter(component=c, at__lt=start).order_by("-at", "-id")
                  .values_list("status", flat=True).first() for c in self.leaves}
        incidents = [(i, set(c.pk for c in i.components.all())) for i in self.incidents]
        rows = []
        for c in self.leaves:
            if not c.showcase:
                continue
            spans = _spans(before[c.pk] or ComponentStatus.OPERATIONAL, changes.get(c.pk, []), start, self.now)
            days, up, known = [], 0.0, 0.0
            for n in range(DAYS):
                day = first_day + timedelta(days=n)
                lo = datetime.combine(day, time.min, tzinfo=dt_timezone.utc)
                hi = min(lo + timedelta(days=1), self.now)
                lo = max(lo, c.created_at)
                if hi <= lo:
                    days.append({"date": day, "status": None, "uptime": None, "incidents": []})
                    continue
                statuses, down = [], 0.0
                for s_lo, s_hi, status in spans:
                    overlap = (min(hi, s_hi) - max(lo, s_lo)).total_seconds()
                    if overlap > 0:
                        statuses.append(status)
                        down += overlap * DOWNTIME_WEIGHT.get(status, 0.0)
                length = (hi - lo).total_seconds()
                up, known = up + length - down, known + length
                names = [i.name for i, comps in incidents if c.pk in comps and _overlaps(i, lo, hi)]
                days.append({"date": day, "status": worst(statuses), "uptime": 100.0 * (length - down) / length,
                             "incidents": names})
            rows.append({"component": c, "days": days, "uptime": 100.0 * up / known if known else 100.0,
                         "incident_days": [d for d in days if d["incidents"]]})
        return rows


def _spans(initial, changes, start, now):
    """[(from, to, status)] covering start..now for one component."""
    spans, at, status = [], start, initial
    for change_at, change_status in changes:
        spans.append((at, change_at, status))
        at, status = change_at, change_status
    spans.append((at, now, status))
    return spans


def _overlaps(incident, lo, hi):
    end = incident.resolved_at or hi
    return incident.started_at < hi and end >= lo
