"""A server-side SVG chart of a series with its baseline band (and a rule's threshold)."""

from datetime import UTC, timedelta

from .evaluate import Baselines, hour_slot

WIDTH, HEIGHT, PAD = 800, 240, 4
MAX_POINTS = 400


def chart(series, now, hours=24, rule=None):
    """What the template draws: SVG path strings in a WIDTH x HEIGHT box, and the axis labels."""
    start = now - timedelta(hours=hours)
    samples = list(series.samples.filter(at__gt=start, at__lte=now).order_by("at").values_list("at", "value"))
    step = max(1, len(samples) // MAX_POINTS)
    samples = samples[::step]
    band = []
    if rule is not None and rule.kind == rule.Kind.DEVIATION:
        baselines = Baselines(rule)
        slot = hour_slot(start, baselines.zone).astimezone(UTC)  # an hour of the rule's clock, as UTC
        while slot <= now:
            base = baselines(slot)
            end = slot + timedelta(hours=1)
            if base is not None:
                band.append((max(slot, start), min(end, now), *base.band(rule.deviations), base.median))
            slot = end
    values = [v for _, v in samples] + [b[2] for b in band] + [b[3] for b in band]
    if rule is not None and rule.kind == rule.Kind.THRESHOLD and rule.threshold is not None:
        values.append(rule.threshold)
    if not values:
        return None
    low, high = min(values), max(values)
    if high == low:
        low, high = low - 1, high + 1
    span = (now - start).total_seconds()

    def x(at):
        return round(PAD + (WIDTH - 2 * PAD) * (at - start).total_seconds() / span, 1)

    def y(value):
        return round(HEIGHT - PAD - (HEIGHT - 2 * PAD) * (value - low) / (high - low), 1)

    line = " ".join(f"{'M' if i == 0 else 'L'}{x(at)},{y(v)}" for i, (at, v) in enumerate(samples))
    bands = [f"M{x(a)},{y(hi)} L{x(b)},{y(hi)} L{x(b)},{y(lo)} L{x(a)},{y(lo)} Z" for a, b, lo, hi, _ in band]
    medians = " ".join(f"M{x(a)},{y(m)} L{x(b)},{y(m)}" for a, b, _, _, m in band)
    threshold = None
    if rule is not None and rule.kind == rule.Kind.THRESHOLD and rule.threshold is not None:
        threshold = y(rule.threshold)
    return {"width": WIDTH, "height": HEIGHT, "line": line, "bands": " ".join(bands), "medians": medians,
            "threshold": threshold, "low": low, "high": high, "start": start, "end": now, "points": len(samples),
            "last": samples[-1] if samples else None}
