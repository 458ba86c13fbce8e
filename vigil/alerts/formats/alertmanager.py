"""Prometheus Alertmanager webhook receiver, payload version "4".

Seen from Alertmanager 0.25.0 (Debian bookworm), directly and with Prometheus 2.42.0 behind it
(fixtures in alerts/tests/fixtures/alertmanager/). Each alert becomes one AlertEvent.

Quirks handled:
- A delivery is a snapshot of the whole group, not a diff, and the same snapshot comes again
  after retries, after repeat_interval and from each member of an HA pair: every event is meant
  for an idempotent upsert by dedup key, and nothing here depends on what came before.
- The per-alert `status` is the truth; the top-level one only says whether any alert fires
  (it is used only when an alert has none).
- Dedup key: the alert's `fingerprint` (a hash of its label set, the same on every
  Alertmanager); when it is missing, a hash of the labels (`stable_hash`).
- `endsAt` is the zero time "0001-01-01T00:00:00Z" while an alert fires, even when Prometheus
  sent an end: that is None. Times carry nanoseconds and any offset.
- `groupKey` is opaque and can be long: group_key is its sha256, which is also the key
  Alertmanager's own PagerDuty and Opsgenie senders use, so one group sent to both /hooks/ and
  /v2/enqueue shares it. Without a groupKey, the hash of `groupLabels`.
- `truncatedAlerts` > 0 means max_alerts left alerts out: it is passed on in `details`, so that
  nobody takes a missing alert as resolved.
- Summaries come from user templates and can be long: they are cut to 1024 characters rather
  than refused, because a 4xx does not stop Alertmanager, it resends the group every
  group_interval.
- Grafana's notifier is a fork of this one: a body with `version` "1" goes to grafana.parse.
"""

import json

from . import (
    MAX_DEDUP_KEY,
    MAX_ERRORS,
    MAX_SOURCE,
    MAX_SUMMARY,
    STATUSES,
    AlertEvent,
    InvalidPayload,
    cut,
    decode,
    group_hash,
    guarded,
    link,
    map_severity,
    parse_time,
    stable_hash,
    str_map,
)

# Top-level fields kept in each event's details: where it came from and whether alerts are missing.
CONTEXT_FIELDS = ("receiver", "externalURL", "groupKey", "truncatedAlerts")


@guarded
def parse(body) -> list[AlertEvent]:
    """Events for each alert in an Alertmanager (or Grafana) webhook body."""
    data = decode(body)
    if isinstance(data, dict) and data.get("version") == "1":
        from . import grafana  # imported here: grafana imports this module

        return grafana.parse(data)
    return parse_group(data, sender="alertmanager")


def parse_group(data, *, sender, context_fields=CONTEXT_FIELDS, extras=None, fallback_summary=""):
    """The shared reader of the Alertmanager-shaped body. `extras(alert, where, errors, links,
    images, details)` adds what a fork sends besides (Grafana); `fallback_summary` is used when
    an alert has no summary, description or alertname."""
    if not isinstance(data, dict):
        raise InvalidPayload([("body", "must be a JSON object")])
    alerts = data.get("alerts")
    if not isinstance(alerts, list):
        raise InvalidPayload([("alerts", "is required" if alerts is None else "must be a list")])

    errors = []
    group_key = ""
    raw_group_key = data.get("groupKey")
    if type(raw_group_key) is str and raw_group_key:
        group_key = group_hash(raw_group_key)
    elif raw_group_key is not None and raw_group_key != "":
        errors.append(("groupKey", "must be a string"))
    else:
        group_labels = str_map(data.get("groupLabels"), "groupLabels", errors)
        if group_labels:
            group_key = group_hash(json.dumps(group_labels, sort_keys=True))
    context = {name: data[name] for name in context_fields if name in data}
    default_status = data.get("status") if data.get("status") in STATUSES else "firing"

    events = []
    for i, alert in enumerate(alerts):
        if len(errors) >= MAX_ERRORS:
            break
        where = f"alerts.{i}"
        if not isinstance(alert, dict):
            errors.append((where, "must be an object"))
            continue
        count = len(errors)
        labels = str_map(alert.get("labels"), f"{where}.labels", errors)
        annotations = str_map(alert.get("annotations"), f"{where}.annotations", errors)
        if len(errors) > count:
            continue

        status = alert.get("status")
        if status is None:
            status = default_status
        elif status not in STATUSES:
            errors.append((f"{where}.status", "must be firing or resolved"))
            continue

        fingerprint = alert.get("fingerprint")
        if fingerprint is None or fingerprint == "":
            if not labels:
                errors.append((f"{where}.labels", "needs at least one label pair when there is no fingerprint"))
                continue
            fingerprint = None
            dedup_key = stable_hash(labels)
        elif type(fingerprint) is str and len(fingerprint) <= MAX_DEDUP_KEY:
            dedup_key = fingerprint
        else:
            errors.append((f"{where}.fingerprint", f"must be a string of at most {MAX_DEDUP_KEY} characters"))
            continue

        summary = (
            annotations.get("summary")
            or annotations.get("description")
            or annotations.get("message")
            or labels.get("alertname")
            or fallback_summary
            or dedup_key
        ).strip() or dedup_key
        # `instance` is what PagerDuty calls the source ("the unique location of the affected
        # system"); `job` names at least the kind of target.
        source = labels.get("instance") or labels.get("job") or sender

        links = []
        for href, text in ((alert.get("generatorURL"), "Source"), (annotations.get("runbook_url"), "Runbook")):
            if href:
                item = link(href, text)
                if item:
                    links.append(item)
        images = []
        # One context dict for the whole batch unless a fork adds to it per alert (ingest then
        # encodes it once for the batch).
        details = context
        if extras is not None:
            details = dict(context)
            extras(alert, where, errors, links, images, details)

        events.append(
            AlertEvent(
                dedup_key=dedup_key,
                status=status,
                action="trigger" if status == "firing" else "resolve",
                summary=cut(summary, MAX_SUMMARY),
                severity=map_severity(labels.get("severity") or labels.get("priority")),
                source=cut(source, MAX_SOURCE),
                labels=labels,
                annotations=annotations,
                links=links,
                started_at=parse_time(alert.get("startsAt"), f"{where}.startsAt", errors),
                ended_at=parse_time(alert.get("endsAt"), f"{where}.endsAt", errors),
                group_key=group_key,
                details=details,
                fingerprint=fingerprint,
                images=images,
            )
        )
    if errors:
        raise InvalidPayload(errors)
    return events
