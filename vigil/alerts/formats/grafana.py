"""Grafana unified-alerting webhook contact point, payload version "1".

Not captured here (Grafana is not packaged for Debian bookworm): written from the documented
body of Grafana 9 to 12 and from `grafana/alerting` receivers/webhook/v1 (fixtures in
alerts/tests/fixtures/grafana/, marked as written). Grafana's notifier is a fork of
Alertmanager's, so the body is Alertmanager's (see alertmanager.py, whose rules all apply: dedup
by `fingerprint`, zero `endsAt` is None, group_key is the sha256 of `groupKey`) plus fields.

Quirks handled:
- Per alert `dashboardURL`, `panelURL` and `silenceURL` are strings that are often empty: they
  become links only when they are http(s) URLs. `imageURL` (newer versions, omitempty) becomes
  an image.
- `values` (refId -> float) and the legacy `valueString` text are what fired: kept in details,
  with `ruleUID` and `orgId` when present.
- The top-level `title` (from the contact point's template) is the summary of last resort.
- A body with `version` "4" is Alertmanager's own and reads the same way here.
- A contact point with a custom payload template (12.0+) sends any text: that belongs on the
  generic endpoint and is refused here for having no `alerts`.
"""

from . import AlertEvent, decode, guarded, image, link
from .alertmanager import CONTEXT_FIELDS, parse_group

ALERT_DETAIL_FIELDS = ("values", "valueString", "ruleUID", "orgId")
ALERT_LINK_FIELDS = (("dashboardURL", "Dashboard"), ("panelURL", "Panel"), ("silenceURL", "Silence"))


@guarded
def parse(body) -> list[AlertEvent]:
    """Events for each alert in a Grafana webhook body."""
    data = decode(body)
    title = data.get("title") if isinstance(data, dict) else None
    return parse_group(
        data,
        sender="grafana",
        context_fields=CONTEXT_FIELDS + ("orgId", "state"),
        extras=_alert_extras,
        fallback_summary=title if type(title) is str else "",
    )


def _alert_extras(alert, where, errors, links, images, details):
    for name, text in ALERT_LINK_FIELDS:
        href = alert.get(name)
        if href:
            item = link(href, text)
            if item:
                links.append(item)
    src = alert.get("imageURL")
    if src:
        item = image(src, src, "Panel image")
        if item:
            images.append(item)
    for name in ALERT_DETAIL_FIELDS:
        if name in alert:
            details[name] = alert[name]
