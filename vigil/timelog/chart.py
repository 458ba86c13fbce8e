"""The report page's chart, drawn on the server as SVG geometry for the template: corrective hours
used per month as bars, the approved hours as a line across them."""

import datetime as dt
from decimal import Decimal

from django.db.models import Sum
from django.db.models.functions import TruncMonth

from .models import Kind, TimeEntry, month_bounds

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 16, 36


def months_back(last, count):
    months = [last]
    while len(months) < count:
        first = months[0]
        months.insert(0, dt.date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1))
    return months


def corrective_by_month(service, months):
    start, end = month_bounds(months[0])[0], month_bounds(months[-1])[1]
    rows = (TimeEntry.objects.filter(incident__service=service, kind=Kind.CORRECTIVE, running=False, at__gte=start, at__lt=end)
            .annotate(month=TruncMonth("at", tzinfo=dt.timezone.utc)).values("month").annotate(minutes=Sum("minutes")))
    used = {}
    for row in rows:
        month = row["month"]
        month = month.date() if isinstance(month, dt.datetime) else month
        used[month.replace(day=1)] = row["minutes"]
    return [used.get(m, 0) for m in months]


def used_vs_approved(service, last_month, count=6):
    months = months_back(last_month, count)
    used = [Decimal(m) / 60 for m in corrective_by_month(service, months)]
    approved = Decimal(service.monthly_approved_hours)
    top = max([approved, *used, Decimal(1)]) * Decimal("1.15")
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(value):
        return round(TOP + plot_h - float(value / top) * plot_h, 1)

    slot = plot_w / count
    bars = []
    for i, (month, hours) in enumerate(zip(months, used)):
        x = LEFT + i * slot + slot * 0.2
        bars.append({
            "x": round(x, 1), "y": y(hours), "width": round(slot * 0.6, 1), "height": round(y(0) - y(hours), 1),
            "label_x": round(x + slot * 0.3, 1), "value_y": y(hours) - 4,
            "month": f"{month:%b %Y}", "short": f"{month:%b}", "hours": f"{hours:.1f}",
            "over": approved > 0 and hours > approved,
        })
    ticks = [{"y": y(top * i / 4), "value": f"{top * i / 4:.0f}"} for i in range(5)]
    return {
        "width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT, "baseline": y(0), "bars": bars,
        "ticks": ticks, "tick_x": LEFT - 6, "approved": f"{approved:.1f}",
        "approved_y": y(approved) if approved > 0 else None, "approved_label_y": y(approved) - 5,
        "label_y": HEIGHT - 12,
    }
