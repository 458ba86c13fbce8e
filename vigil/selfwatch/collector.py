"""Vigil's own health as Prometheus metrics, read from the database at each scrape.

Counters come from rows that only grow (delivery attempts, alert firings, pings); gauges from
the current state. A custom collector (prometheus_client's documented way for values that live
elsewhere) keeps every web process answering the same numbers: nothing is counted in memory."""

from django.db.models import Count, Sum
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from .timers import lag


class VigilCollector:
    def collect(self):
        from vigil.alerts.models import Alert, Integration
        from vigil.anomaly.models import Rule, Sample
        from vigil.heartbeats.models import Heartbeat
        from vigil.incidents.models import Incident
        from vigil.monitors.models import Monitor
        from vigil.paging.models import DeliveryAttempt, Escalation, Notification
        from vigil.sla.models import SlaClock

        now = timezone.now()

        firings = CounterMetricFamily("vigil_alert_firings", "Times an alert fired (a new alert, or one firing again).")
        firings.add_metric([], Alert.objects.aggregate(n=Sum("count"))["n"] or 0)
        yield firings

        alerts = GaugeMetricFamily("vigil_alerts", "Alerts by status.", labels=["status"])
        by_status = dict(Alert.objects.order_by().values_list("status").annotate(n=Count("id")))
        for status in Alert.Status.values:
            alerts.add_metric([status], by_status.get(status, 0))
        yield alerts

        integrations = GaugeMetricFamily("vigil_integrations", "Integrations by kind.", labels=["kind"])
        for kind, n in Integration.objects.order_by().values_list("kind").annotate(n=Count("id")):
            integrations.add_metric([kind], n)
        yield integrations

        incidents = GaugeMetricFamily("vigil_incidents", "Incidents by status.", labels=["status"])
        for status, n in Incident.objects.order_by().values_list("status").annotate(n=Count("id")):
            incidents.add_metric([status], n)
        yield incidents

        notifications = GaugeMetricFamily("vigil_notifications", "Notifications in the outbox by state.", labels=["state"])
        by_state = dict(Notification.objects.order_by().values_list("state").annotate(n=Count("id")))
        for state in Notification.State.values:
            notifications.add_metric([state], by_state.get(state, 0))
        yield notifications

        due = GaugeMetricFamily("vigil_queue_due", "Work due now and not yet done (the queue depth).", labels=["queue"])
        due.add_metric(["notifications"], Notification.objects.filter(state=Notification.State.PENDING, due_at__lte=now).count())
        due.add_metric(["escalations"], Escalation.objects.filter(active=True, next_step_at__lte=now).count())
        due.add_metric(["heartbeats"], Heartbeat.objects.filter(alert_after__lte=now).count())
        due.add_metric(["metric_rules"], Rule.objects.filter(enabled=True, next_evaluation_at__lte=now).count())
        due.add_metric(["sla_clocks"], SlaClock.objects.filter(next_due_at__lte=now).count())
        due.add_metric(["monitors"], Monitor.objects.filter(paused=False, next_due_at__lte=now).count())
        yield due

        attempts = CounterMetricFamily("vigil_delivery_attempts", "Notification delivery attempts by outcome.",
                                       labels=["outcome"])
        by_ok = dict(DeliveryAttempt.objects.order_by().values_list("ok").annotate(n=Count("id")))
        attempts.add_metric(["ok"], by_ok.get(True, 0))
        attempts.add_metric(["failed"], by_ok.get(False, 0))
        yield attempts

        failures = CounterMetricFamily("vigil_delivery_failures", "Failed notification delivery attempts.")
        failures.add_metric([], by_ok.get(False, 0))
        yield failures

        lags = lag(now)
        timer_lag = GaugeMetricFamily("vigil_timer_lag_seconds", "How long the oldest due row of each timer has waited.",
                                      labels=["timer"])
        for name, seconds in lags.items():
            timer_lag.add_metric([name], seconds)
        yield timer_lag
        yield GaugeMetricFamily("vigil_engine_lag_seconds", "How far behind the worker is: the oldest due timer's wait.",
                                value=max(lags.values(), default=0.0))

        pings = CounterMetricFamily("vigil_heartbeat_pings", "Pings received by heartbeats that exist.")
        pings.add_metric([], Heartbeat.objects.aggregate(n=Sum("n_pings"))["n"] or 0)
        yield pings

        heartbeats = GaugeMetricFamily("vigil_heartbeats", "Heartbeats by status.", labels=["status"])
        by_hb = dict(Heartbeat.objects.order_by().values_list("status").annotate(n=Count("id")))
        for status in Heartbeat.Status.values:
            heartbeats.add_metric([status], by_hb.get(status, 0))
        yield heartbeats

        rules = GaugeMetricFamily("vigil_metric_rules", "Metric rules by state.", labels=["state"])
        for state, n in Rule.objects.order_by().values_list("state").annotate(n=Count("id")):
            rules.add_metric([state], n)
        yield rules

        yield GaugeMetricFamily("vigil_metric_samples", "Metric samples kept.", value=Sample.objects.count())
