"""PagerDuty Events API v2: alert events (POST /v2/enqueue) and change events
(POST /v2/change/enqueue).

Seen from the PyPI `pagerduty` 7.2.0 client and from Alertmanager 0.25.0's `pagerduty_configs`
(fixtures in alerts/tests/fixtures/pagerduty/). One body is one event.

Quirks handled:
- `dedup_key` is optional on a trigger: PagerDuty then makes one (a random uuid4 hex here too),
  and the reply must carry it, because the python client raises when a 2xx has none. It is
  required on acknowledge/resolve, which carry no payload; a payload sent with them anyway
  (Alertmanager sends one with its resolves) is ignored, as PagerDuty ignores it.
- Errors are collected as PagerDuty words them ("'payload.severity' is missing or blank",
  "'payload.severity' is invalid (must be one of the following: ...)") in
  InvalidPayload.pagerduty_errors, for the 400 body `{"status": "invalid event", "message":
  "Event object is invalid", "errors": [...]}`.
- `payload.summary` longer than 1024 characters and `dedup_key` longer than 255 are refused.
- Severity words are taken in any case; senders that send numbers where PagerDuty wants strings
  (`"source": 1`) have them written out.
- `routing_key` must be there and not blank. Whether it names an integration (and PagerDuty's
  "should be 32 characters") is the HTTP layer's business: it reads the key with `decode()`.
- `custom_details` may be any JSON; a value that is not an object is kept as {"details": value}.
- Alertmanager's dedup_key is the sha256 of its groupKey, so `/hooks/alertmanager` events of the
  same group carry the same value as group_key.
- `payload.group` names a group of components: group_key is its sha256. `component`, `group`,
  `class`, `source` and `severity` also go into labels, so silences can match them.
"""

import uuid

from . import (
    ACTIONS,
    MAX_DEDUP_KEY,
    MAX_SOURCE,
    MAX_SUMMARY,
    AlertEvent,
    ChangeEvent,
    InvalidPayload,
    as_text,
    cut,
    decode,
    group_hash,
    guarded,
    image,
    link,
    parse_time,
)

PD_SEVERITIES = {"critical": "sev1", "error": "sev2", "warning": "sev3", "info": "sev4"}
_BAD_ACTION = "is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')"
_BAD_SEVERITY = "is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')"


@guarded
def parse(body) -> list[AlertEvent]:
    """The event in a /v2/enqueue body, as a list of one."""
    data = _object(body)
    errors = []
    _routing_key(data, errors)
    action = data.get("event_action")
    if _blank(action):
        errors.append(("event_action", "is missing or blank"))
    elif action not in ACTIONS:
        errors.append(("event_action", _BAD_ACTION))
    dedup_key = _text(data, "dedup_key", "", errors, required=action in ("acknowledge", "resolve"), limit=MAX_DEDUP_KEY)

    if action != "trigger":
        _raise_if(errors)
        return [
            AlertEvent(
                dedup_key=dedup_key,
                status="resolved" if action == "resolve" else "firing",
                action=action,
                summary="",
                severity="",
                source="",
            )
        ]

    payload = data.get("payload")
    if not isinstance(payload, dict):
        errors.append(("payload", "is missing or blank" if _blank(payload) else "is invalid (must be an object)"))
        payload = None
    if payload is not None:
        summary = _text(payload, "summary", "payload.", errors, required=True, limit=MAX_SUMMARY)
        source = _text(payload, "source", "payload.", errors, required=True)
        severity = payload.get("severity")
        if _blank(severity):
            errors.append(("payload.severity", "is missing or blank"))
        elif type(severity) is not str or severity.lower() not in PD_SEVERITIES:
            errors.append(("payload.severity", _BAD_SEVERITY))
        timestamp = _timestamp(payload, errors)
        labels = {}
        for name in ("component", "group", "class"):
            value = _text(payload, name, "payload.", errors, required=False)
            if value:
                labels[name] = cut(value, MAX_SOURCE)
        details = _custom_details(payload)
    links, images = _links_and_images(data, errors)
    _raise_if(errors)

    pd_severity = severity.lower()
    labels["source"] = cut(source, MAX_SOURCE)
    labels["severity"] = pd_severity
    client_link = link(data.get("client_url"), as_text(data.get("client")) or "Client")
    if client_link:
        links.append(client_link)
    return [
        AlertEvent(
            dedup_key=dedup_key or uuid.uuid4().hex,  # as PagerDuty does for a trigger without one
            status="firing",
            action="trigger",
            summary=summary,
            severity=PD_SEVERITIES[pd_severity],
            source=cut(source, MAX_SOURCE),
            labels=labels,
            links=links,
            images=images,
            started_at=timestamp,
            group_key=group_hash(labels["group"]) if "group" in labels else "",
            details=details,
        )
    ]


@guarded
def parse_change(body) -> ChangeEvent:
    """The change event in a /v2/change/enqueue body."""
    data = _object(body)
    errors = []
    _routing_key(data, errors)
    payload = data.get("payload")
    if isinstance(payload, dict):
        summary = _text(payload, "summary", "payload.", errors, required=True, limit=MAX_SUMMARY)
    else:
        errors.append(("payload", "is missing or blank" if _blank(payload) else "is invalid (must be an object)"))
        payload, summary = {}, ""
    source = _text(payload, "source", "payload.", errors, required=False)
    timestamp = _timestamp(payload, errors)
    links, images = _links_and_images(data, errors)
    _raise_if(errors)
    return ChangeEvent(
        summary=summary,
        source=cut(source, MAX_SOURCE),
        timestamp=timestamp,
        custom_details=_custom_details(payload),
        links=links,
        images=images,
    )


def _object(body):
    data = decode(body)
    if not isinstance(data, dict):
        raise InvalidPayload([("body", "must be a JSON object")])
    return data


def _raise_if(errors):
    if errors:
        raise InvalidPayload(errors)


def _blank(value):
    return value is None or (type(value) is str and not value.strip())


def _routing_key(data, errors):
    key = data.get("routing_key")
    if _blank(key):
        errors.append(("routing_key", "is missing or blank"))
    elif type(key) is not str:
        errors.append(("routing_key", "is invalid (must be a string)"))


def _text(container, name, prefix, errors, *, required, limit=None):
    """container[name] as a string ("" when absent and not required), recording PagerDuty-worded errors."""
    value = container.get(name)
    if _blank(value):
        if required:
            errors.append((prefix + name, "is missing or blank"))
        return ""
    text = as_text(value)
    if text is None:
        errors.append((prefix + name, "is invalid (must be a string)"))
        return ""
    if limit is not None and len(text) > limit:
        errors.append((prefix + name, f"is too long (must be at most {limit} characters)"))
        return ""
    return text


def _timestamp(payload, errors):
    problems = []
    moment = parse_time(payload.get("timestamp"), "payload.timestamp", problems)
    if problems:
        errors.append(("payload.timestamp", "is invalid (must be an ISO 8601 date and time)"))
    return moment


def _custom_details(payload):
    details = payload.get("custom_details")
    if details is None:
        return {}
    return details if isinstance(details, dict) else {"details": details}


def _links_and_images(data, errors):
    """`links` [{href, text}] and `images` [{src, href, alt}]; entries whose URL is not http(s)
    are dropped rather than refused (PagerDuty takes them; Vigil will not render them)."""
    links = []
    for i, item in _entries(data, "links", errors):
        if _blank(item.get("href")):
            errors.append((f"links.{i}.href", "is missing or blank"))
            continue
        made = link(item.get("href"), as_text(item.get("text")) or "")
        if made:
            links.append(made)
    images = []
    for i, item in _entries(data, "images", errors):
        if _blank(item.get("src")):
            errors.append((f"images.{i}.src", "is missing or blank"))
            continue
        made = image(item.get("src"), item.get("href"), as_text(item.get("alt")))
        if made:
            images.append(made)
    return links, images


def _entries(data, name, errors):
    value = data.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append((name, "is invalid (must be an array)"))
        return []
    entries = []
    for i, item in enumerate(value):
        if isinstance(item, dict):
            entries.append((i, item))
        else:
            errors.append((f"{name}.{i}", "is invalid (must be an object)"))
    return entries
