"""The month report of a service: time by kind and by incident against the approved hours."""

import csv
import io
from collections import defaultdict

from django.db.models import Sum

from .models import Kind, TimeEntry, month_bounds


def empty():
    return {kind: 0 for kind in Kind.values}


def month_report(service, month):
    """`month` is the first day of the month (UTC). Counts stopped entries whose work began in it."""
    start, end = month_bounds(month)
    rows = (TimeEntry.objects.filter(incident__service=service, at__gte=start, at__lt=end, running=False)
            .values("incident_id", "incident__number", "incident__title", "kind").annotate(minutes=Sum("minutes"))
            .order_by("incident__number", "kind"))
    totals, incidents, titles = empty(), defaultdict(empty), {}
    for row in rows:
        totals[row["kind"]] += row["minutes"]
        incidents[row["incident_id"]][row["kind"]] += row["minutes"]
        titles[row["incident_id"]] = (row["incident__number"], row["incident__title"])
    approved = int(service.monthly_approved_hours * 60)
    return {
        "service_id": service.pk,
        "month": f"{month:%Y-%m}",
        "approved_minutes": approved,
        "minutes_by_kind": totals,
        "incidents": [{"incident_id": pk, "number": titles[pk][0], "title": titles[pk][1], "minutes_by_kind": kinds}
                      for pk, kinds in incidents.items()],
        # No approved hours means no monthly budget, as when Vigil asks for reasons.
        "over_budget": approved > 0 and totals[Kind.CORRECTIVE] > approved,
    }


def as_csv(report):
    """One row per incident, then a total row and the approved minutes."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["month", "incident_id", "incident_number", "title", *Kind.values, "total_minutes"])
    for row in report["incidents"]:
        kinds = row["minutes_by_kind"]
        writer.writerow([report["month"], row["incident_id"], row["number"], _safe(row["title"]),
                         *kinds.values(), sum(kinds.values())])
    totals = report["minutes_by_kind"]
    writer.writerow([report["month"], "", "", "total", *totals.values(), sum(totals.values())])
    writer.writerow([report["month"], "", "", "approved corrective", "", report["approved_minutes"], "", ""])
    return out.getvalue()


def _safe(text):
    # A title starting with = + - @ would run as a formula in a spreadsheet (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
