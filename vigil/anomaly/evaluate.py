"""What a rule says about its series now.

The baseline of a moment is learned from the same hour of the week in the past weeks, on the
rule's clock (its time zone: 9 a.m. in Paris stays 9 a.m. when daylight saving time starts): the
median of those samples, and as the deviation the median absolute deviation scaled by 1.4826 (so
it estimates the standard deviation of normal data, but one outlier or one incident in the
history does not move it, as it would a mean and standard deviation). A daily or weekly rhythm
is then normal by construction: 3 a.m. is compared with past 3 a.m.s on that weekday.

A rule fires when every sample since the streak began is away (beyond the threshold, or more than
N deviations from the baseline, on the rule's side) and the streak has lasted the window.
"""

import statistics
from dataclasses import dataclass
from datetime import UTC, timedelta

from django.db.models import Q

from .models import Rule, Sample

MAD_SCALE = 1.4826
MIN_BASELINE_SAMPLES = 10  # fewer in the hour slot of the past weeks: still learning
MIN_RELATIVE_SCALE = 0.01  # a deviation is at least 1% of the baseline, or a flat series fires on noise
MIN_ABSOLUTE_SCALE = 1e-9


@dataclass
class Baseline:
    median: float
    scale: float
    samples: int

    def band(self, deviations):
        return self.median - deviations * self.scale, self.median + deviations * self.scale


def hour_slot(at, zone=UTC):
    """The start of the hour of `at` on the clock of `zone`."""
    return at.astimezone(zone).replace(minute=0, second=0, microsecond=0)


def baseline(series_id, slot, weeks):
    """The baseline for the hour that starts at `slot` (an hour_slot), learned from the same hour of
    the week on the same clock in the past weeks; None while there is too little history."""
    ranges = Q()
    for k in range(1, weeks + 1):
        # An aware datetime minus days keeps its wall time: this is the same local hour k weeks ago,
        # whatever daylight saving time did in between.
        begin = (slot - timedelta(weeks=k)).astimezone(UTC)
        ranges |= Q(at__gte=begin, at__lt=begin + timedelta(hours=1))
    values = list(Sample.objects.filter(ranges, series_id=series_id).values_list("value", flat=True))
    if len(values) < MIN_BASELINE_SAMPLES:
        return None
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values)
    scale = max(MAD_SCALE * mad, MIN_RELATIVE_SCALE * abs(median), MIN_ABSOLUTE_SCALE)
    return Baseline(median, scale, len(values))


class Baselines:
    """Baselines by hour slot, each computed once."""

    def __init__(self, rule):
        self.rule, self.zone, self.cache = rule, rule.zone, {}

    def __call__(self, at):
        slot = hour_slot(at, self.zone)
        if slot not in self.cache:
            self.cache[slot] = baseline(self.rule.series_id, slot, self.rule.baseline_weeks)
        return self.cache[slot]


def _away(rule, value, base):
    """How far away the value is, signed in deviations (threshold rules: by the threshold), and
    whether that counts, on the rule's side."""
    if rule.kind == Rule.Kind.THRESHOLD:
        if rule.direction == Rule.Direction.BELOW:
            return value < rule.threshold
        return value > rule.threshold
    z = (value - base.median) / base.scale
    if rule.direction == Rule.Direction.ABOVE:
        return z >= rule.deviations
    if rule.direction == Rule.Direction.BELOW:
        return z <= -rule.deviations
    return abs(z) >= rule.deviations


def evaluate(rule, now):
    """(state, why) of the rule at `now`. Reads only; the job stores it."""
    window = timedelta(minutes=rule.window_minutes)
    # Samples of twice the window (at least 15 minutes): enough to see that a streak is older than the window.
    lookback = max(2 * window, timedelta(minutes=15))
    recent = list(Sample.objects.filter(series_id=rule.series_id, at__gt=now - lookback, at__lte=now)
                  .order_by("-at").values_list("at", "value"))
    why = {"window_minutes": rule.window_minutes, "evaluated_at": now.isoformat()}
    if not recent:
        return Rule.State.NO_DATA, {**why, "reason": f"no sample in the last {int(lookback.total_seconds() // 60)} min"}
    latest_at, latest = recent[0]
    why.update(observed=latest, observed_at=latest_at.isoformat())
    baselines = Baselines(rule)
    if rule.kind == Rule.Kind.DEVIATION:
        base = baselines(latest_at)
        if base is None:
            return Rule.State.LEARNING, {**why, "reason": f"fewer than {MIN_BASELINE_SAMPLES} samples in this hour of "
                                                          f"the week over the past {rule.baseline_weeks} weeks"}
        low, high = base.band(rule.deviations)
        why.update(baseline=base.median, deviation=base.scale, band=[low, high], baseline_samples=base.samples,
                   deviations=(latest - base.median) / base.scale, deviations_needed=rule.deviations)
    else:
        why.update(threshold=rule.threshold)

    since = None
    for at, value in recent:
        base = baselines(at) if rule.kind == Rule.Kind.DEVIATION else None
        if rule.kind == Rule.Kind.DEVIATION and base is None:
            break
        if not _away(rule, value, base):
            break
        since = at
    if since is not None:
        why["away_since"] = since.isoformat()
    if since is not None and since <= now - window:
        why["reason"] = summary(rule, why)
        return Rule.State.FIRING, why
    return Rule.State.OK, why


def summary(rule, why):
    observed = f"{why['observed']:.4g}"
    minutes = f"{rule.window_minutes} min" if rule.window_minutes else "now"
    if rule.kind == Rule.Kind.THRESHOLD:
        side = "below" if rule.direction == Rule.Direction.BELOW else "above"
        return f"{rule.series}: {observed} is {side} the threshold {rule.threshold:g} (for {minutes})"
    z = why["deviations"]
    side = "above" if z > 0 else "below"
    return (f"{rule.series}: {observed} is {abs(z):.1f} deviations {side} its usual {why['baseline']:.4g} "
            f"for this hour of the week (band {why['band'][0]:.4g} to {why['band'][1]:.4g}, for {minutes})")
