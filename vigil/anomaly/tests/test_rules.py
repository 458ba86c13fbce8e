"""Rules on synthetic series: a step change fires once it has lasted the window, a daily rhythm
alone does not, thresholds fire and resolve, and every firing says why."""

import math
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from vigil.alerts.models import Alert
from vigil.anomaly.actions import do_create_rule
from vigil.anomaly.evaluate import evaluate
from vigil.anomaly.jobs import evaluate_due_rule
from vigil.anomaly.metrics import Point, record_many
from vigil.anomaly.models import Rule

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)  # a Monday noon
STEP = timedelta(minutes=5)


def daily(at, rng):
    """Requests a second: a day/night rhythm between about 20 and 180, with noise."""
    hour = at.hour + at.minute / 60
    return 100 + 80 * math.sin((hour - 6) / 24 * 2 * math.pi) + rng.gauss(0, 4)


def history(personas, weeks=4, until=NOW, value=daily, seed=1):
    rng = random.Random(seed)
    points, at = [], until - timedelta(weeks=weeks)
    while at <= until:
        points.append(Point("requests_per_second", value(at, rng), at))
        at += STEP
    return record_many(personas.team, points, service=personas.service)[0]


def rule_on(personas, series, **fields):
    return do_create_rule(personas.service, actor=personas.admin, series=series, name="Traffic unusual",
                          **{"kind": Rule.Kind.DEVIATION, "direction": Rule.Direction.BOTH, "deviations": 4,
                             "window_minutes": 15, **fields})


def run_rules():
    while evaluate_due_rule():
        pass


def test_daily_seasonality_alone_does_not_fire(personas):
    series = history(personas)
    rule = rule_on(personas, series)
    # Every 40 minutes of the last two days, morning rise and evening fall included.
    at = NOW - timedelta(days=2)
    while at <= NOW:
        state, why = evaluate(rule, at)
        assert state == Rule.State.OK, (at, why)
        at += timedelta(minutes=40)
    # Because the baseline is the usual for that hour: night and afternoon have their own.
    night, afternoon = evaluate(rule, NOW - timedelta(hours=9))[1], evaluate(rule, NOW + timedelta(hours=0))[1]
    assert night["baseline"] < afternoon["baseline"] - 50


def test_a_step_change_fires_once_it_lasted_the_window_and_says_why(personas):
    def stepped(at, rng):
        return daily(at, rng) + (150 if at >= NOW - timedelta(minutes=20) else 0)

    series = history(personas, value=stepped)
    step_at = NOW - timedelta(minutes=20)
    with time_machine.travel(NOW, tick=False):
        rule = rule_on(personas, series)
        assert evaluate(rule, step_at + timedelta(minutes=10))[0] == Rule.State.OK  # not yet the window
        run_rules()
    rule.refresh_from_db()
    assert rule.state == Rule.State.FIRING
    why = rule.why
    assert why["away_since"] == step_at.isoformat()
    assert why["window_minutes"] == 15
    assert why["band"][0] < why["baseline"] < why["band"][1] < why["observed"]
    assert why["deviations"] > 4
    alert = Alert.objects.get()
    assert alert.status == "firing" and alert.dedup_key == f"metric-rule:{rule.pk}"
    assert "deviations above its usual" in alert.summary and "for this hour of the week" in alert.summary
    assert alert.details["baseline"] == why["baseline"] and alert.integration.name == "Anomaly rules"


def test_a_dip_below_fires_only_a_below_or_both_rule(personas):
    def dipped(at, rng):
        return daily(at, rng) * (0.2 if at >= NOW - timedelta(minutes=30) else 1)

    series = history(personas, value=dipped)
    assert evaluate(rule_on(personas, series, direction=Rule.Direction.ABOVE), NOW)[0] == Rule.State.OK
    assert evaluate(rule_on(personas, series, direction=Rule.Direction.BELOW), NOW)[0] == Rule.State.FIRING


def test_the_baseline_keeps_local_hours_across_daylight_saving_time(personas):
    """Busy from 9 to 10 in Amsterdam. Summer time ended on Sunday 2026-10-25: 9:00 there was 07:00 UTC
    before and is 08:00 UTC after. On the Monday a week later, at 9:30 there, a rule on Amsterdam's
    clock compares with past 9 o'clocks; one on UTC's with past 08:00 UTCs, mostly 10:00 there."""
    amsterdam = ZoneInfo("Europe/Amsterdam")
    at = datetime(2026, 11, 2, 9, 30, tzinfo=amsterdam)
    series = history(personas, weeks=5, until=at.astimezone(UTC),
                     value=lambda t, rng: (100 if t.astimezone(amsterdam).hour == 9 else 10) + rng.gauss(0, 1))
    local = rule_on(personas, series, time_zone="Europe/Amsterdam")
    utc = rule_on(personas, series, time_zone="UTC")
    state, why = evaluate(local, at)
    assert state == Rule.State.OK and round(why["baseline"]) == 100, why
    state, why = evaluate(utc, at)
    assert round(why["baseline"]) == 10, why  # three weeks of 10:00 there against one of 9:00


def test_without_history_it_is_learning_and_does_not_fire(personas):
    series = history(personas, weeks=0, until=NOW)
    series_rule = rule_on(personas, series)
    state, why = evaluate(series_rule, NOW)
    assert state == Rule.State.LEARNING and "fewer than" in why["reason"]


def test_a_threshold_fires_after_its_window_and_resolves(personas):
    from vigil.anomaly.metrics import record

    for minute in range(0, 12):
        record("disk_used_percent", 97, at=NOW + timedelta(minutes=minute), service=personas.service)
    series = record("disk_used_percent", 97, at=NOW + timedelta(minutes=12), service=personas.service)
    with time_machine.travel(NOW + timedelta(minutes=12), tick=False):
        rule = rule_on(personas, series, kind=Rule.Kind.THRESHOLD, direction=Rule.Direction.ABOVE, threshold=90,
                       window_minutes=10)
        run_rules()
    rule.refresh_from_db()
    assert rule.state == Rule.State.FIRING and rule.why["threshold"] == 90 and rule.why["observed"] == 97
    assert Alert.objects.get().summary == "disk_used_percent: 97 is above the threshold 90 (for 10 min)"
    record("disk_used_percent", 60, at=NOW + timedelta(minutes=13), service=personas.service)
    with time_machine.travel(NOW + timedelta(minutes=14), tick=False):
        run_rules()  # due again a minute after the last evaluation
    rule.refresh_from_db()
    assert rule.state == Rule.State.OK and Alert.objects.get().status == "resolved"


def test_no_recent_data_is_said(personas):
    from vigil.anomaly.metrics import record

    series = record("queue_depth", 5, at=NOW - timedelta(hours=2), service=personas.service)
    rule = rule_on(personas, series, kind=Rule.Kind.THRESHOLD, threshold=10)
    assert evaluate(rule, NOW)[0] == Rule.State.NO_DATA


def test_record_rejects_a_value_that_is_not_a_number(personas):
    from vigil.anomaly.metrics import record

    with pytest.raises(ValueError):
        record("latency_ms", float("nan"), service=personas.service)
