"""Demo metrics (`vigil demo`): four weeks of checkout traffic with its daily rhythm, and a rule."""

import math
import random
from datetime import timedelta

from django.utils import timezone

from .actions import do_create_rule
from .metrics import Point, record_many
from .models import Rule


def load(service, *, actor):
    rng = random.Random(7)
    now = timezone.now().replace(second=0, microsecond=0)
    at, points = now - timedelta(weeks=4), []
    while at <= now:
        hour = at.hour + at.minute / 60
        points.append(Point("orders_per_minute", max(0.0, 60 + 45 * math.sin((hour - 8) / 24 * 2 * math.pi)
                                                     + rng.gauss(0, 4)), at, {"service": service.slug}))
        at += timedelta(minutes=20)
    series = record_many(service.team, points, service=service)[0]
    do_create_rule(service, actor=actor, series=series, name="Checkout orders unusual", kind=Rule.Kind.DEVIATION,
                   direction=Rule.Direction.BOTH, deviations=4, window_minutes=20)
    return [f"{service.name}: metric {series} with a deviation rule"]
