"""Vigil's generic JSON webhook (POST /hooks/generic/<key>), for any tool that can POST JSON.

The format is Vigil's own (shared/spec/contract.md, "Ingestion"):

    {"summary": "...", "severity": "critical", "dedup_key": "...", "status": "firing",
     "source": "...", "details": {...}}

`summary` and `severity` are required; the rest is optional. A body may also be a JSON array
of such objects, ingested as one batch. Beyond the contract, `labels` (an object, for silences
and grouping) and `links` ([{href, text}]) are read when present.

Quirks handled:
- `severity` takes Vigil's sev1..sev4 or the senders' words (critical/error/warning/info, high,
  major, page, P1..P5, ...), in any case. An unknown word is refused: this is our own format, so
  a mistake is better said than silently paged as sev3.
- Without a `dedup_key`, the key is a hash of summary and source: the same alert sent again
  updates one alert instead of opening another.
- `status` defaults to "firing"; "resolved" resolves the alert with that dedup key.
- Numbers sent where strings are wanted are written out; a summary over 1024 characters or a
  dedup key over 255 is refused, naming the field.
"""

from . import (
    MAX_DEDUP_KEY,
    MAX_ERRORS,
    MAX_SOURCE,
    MAX_SUMMARY,
    STATUSES,
    AlertEvent,
    InvalidPayload,
    as_text,
    cut,
    decode,
    guarded,
    link,
    map_severity,
    stable_hash,
    str_map,
)


@guarded
def parse(body) -> list[AlertEvent]:
    """The events in a generic body: one for an object, one per item for an array."""
    data = decode(body)
    if isinstance(data, dict):
        items, prefix = [data], ""
    elif isinstance(data, list):
        items, prefix = data, "{}."
    else:
        raise InvalidPayload([("body", "must be a JSON object or an array of objects")])
    errors = []
    events = []
    for i, item in enumerate(items):
        if len(errors) >= MAX_ERRORS:
            break
        event = _event(item, prefix.format(i), errors)
        if event is not None:
            events.append(event)
    if errors:
        raise InvalidPayload(errors)
    return events


def _event(item, where, errors):
    if not isinstance(item, dict):
        errors.append((where.rstrip(".") or "body", "must be an object"))
        return None
    count = len(errors)
    summary = _text(item, "summary", where, errors, required=True, limit=MAX_SUMMARY).strip()
    if "summary" in item and not summary and len(errors) == count:
        errors.append((where + "summary", "must not be blank"))
    severity = item.get("severity")
    if severity is None:
        errors.append((where + "severity", "is required"))
    else:
        severity = map_severity(as_text(severity), default=None)
        if severity is None:
            errors.append((where + "severity", "must be one of sev1, sev2, sev3, sev4, critical, error, warning, info"))
    dedup_key = _text(item, "dedup_key", where, errors, limit=MAX_DEDUP_KEY)
    if not dedup_key.strip():
        dedup_key = ""
    status = item.get("status")
    if status is None:
        status = "firing"
    elif status not in STATUSES:
        errors.append((where + "status", "must be firing or resolved"))
    source = _text(item, "source", where, errors).strip()
    details = item.get("details")
    if details is None:
        details = {}
    elif not isinstance(details, dict):
        errors.append((where + "details", "must be an object"))
    labels = str_map(item.get("labels"), where + "labels", errors)
    links = []
    raw_links = item.get("links")
    if raw_links is not None:
        if isinstance(raw_links, list):
            for entry in raw_links:
                made = link(entry.get("href"), as_text(entry.get("text"))) if isinstance(entry, dict) else None
                if made is None:
                    errors.append((where + "links", "must be a list of {href, text} with http(s) URLs"))
                    break
                links.append(made)
        else:
            errors.append((where + "links", "must be a list of {href, text} with http(s) URLs"))
    if len(errors) > count:
        return None
    return AlertEvent(
        dedup_key=dedup_key or stable_hash([summary, source]),
        status=status,
        action="trigger" if status == "firing" else "resolve",
        summary=summary,
        severity=severity,
        source=cut(source, MAX_SOURCE),
        labels=labels,
        links=links,
        details=details,
    )


def _text(item, name, where, errors, *, required=False, limit=None):
    value = item.get(name)
    if value is None:
        if required:
            errors.append((where + name, "is required"))
        return ""
    text = as_text(value)
    if text is None:
        errors.append((where + name, "must be a string"))
        return ""
    if limit is not None and len(text) > limit:
        errors.append((where + name, f"must be at most {limit} characters"))
        return ""
    return text
