"""The ranking of a service's error groups (the score is documented in logtriage/triage.py)."""

from django.utils import timezone

from logtriage.triage import score

from vigil.alerts.models import ChangeEvent

from .models import ErrorGroup


def last_deploy(service, now=None):
    """When the service's last deploy or change event (PagerDuty change events) happened, or None."""
    change = ChangeEvent.objects.filter(service=service, happened_at__lte=now or timezone.now()).first()
    return change.happened_at if change else None


def group_score(group, now, data_since=None, deployed_at=None):
    hourly = {int(h): c for h, c in group.hourly.items()}
    return score(group.template, group.level, group.count, group.first_seen.timestamp(), hourly,
                 len(group.hosts) + len(group.components), now.timestamp(),
                 data_since.timestamp() if data_since else None,
                 last_deploy=deployed_at.timestamp() if deployed_at else None)


def ranked(groups, now=None, data_since=None, deployed_at=None):
    """[(group, points, reasons)] best first; ignored groups last."""
    now = now or timezone.now()
    out = []
    for g in groups:
        points, reasons = group_score(g, now, data_since, deployed_at)
        out.append((g, points, reasons))
    out.sort(key=lambda t: (t[0].state == ErrorGroup.State.IGNORED, -t[1], -t[0].count))
    return out


def burst_ratio(group, now):
    """Lines in the current hour against the mean of the 24 hours before (at least 1 a day)."""
    hour = int(now.timestamp() // 3600)
    hourly = group.hourly
    recent = hourly.get(str(hour), 0)
    before = sum(hourly.get(str(h), 0) for h in range(hour - 24, hour))
    return recent, recent / max(before / 24, 1 / 24)


def sparkline(group, now=None, hours=48, width=120, height=24):
    """Lines per hour over the last `hours` as an SVG polyline (numbers only: safe to embed)."""
    now = now or timezone.now()
    end = int(now.timestamp() // 3600)
    counts = [group.hourly.get(str(h), 0) for h in range(end - hours + 1, end + 1)]
    top = max(counts) or 1
    step = width / (hours - 1)
    points = " ".join(f"{i * step:.1f},{height - 1 - (c / top) * (height - 2):.1f}" for i, c in enumerate(counts))
    total = sum(counts)
    return (f'<svg class="sparkline" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
            f'aria-label="{total} lines in the last {hours} hours, at most {max(counts)} in one hour">'
            f'<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{points}"/></svg>')
