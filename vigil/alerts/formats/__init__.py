"""Inbound alert formats: one pure module per sender, each with
`parse(body: bytes | dict) -> list[AlertEvent]`.

    alertmanager  Prometheus Alertmanager webhook, payload version "4"
    grafana       Grafana unified-alerting webhook contact point, payload version "1"
    pagerduty     PagerDuty Events API v2: `parse` for /v2/enqueue, `parse_change` for /v2/change/enqueue
    generic       Vigil's own JSON: {summary, severity, dedup_key?, status?, source?, details?}

A parser does no I/O and touches no model. It returns normalised events or raises
InvalidPayload naming each bad field, and raises nothing else whatever the body (the hypothesis
tests in alerts/tests/ hold every parser to that), so the HTTP layer can answer 400/422 and
change nothing. The body size limit (512 kB) is the HTTP layer's; what a parser bounds is
listed on AlertEvent.

Give a parser the raw request bytes when you have them: `decode()` then also cleans what a JSON
text can carry past json.loads but not into a database (lone surrogates, NUL characters,
NaN/Infinity). A dict is taken as already decoded, e.g. by `decode()` itself when the view needs
a field first (the PagerDuty `routing_key`).
"""

import functools
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

SEVERITIES = ("sev1", "sev2", "sev3", "sev4")
DEFAULT_SEVERITY = "sev3"
STATUSES = ("firing", "resolved")
ACTIONS = ("trigger", "acknowledge", "resolve")

MAX_DEDUP_KEY = 255  # PagerDuty's limit; the other formats fit in it
MAX_SUMMARY = 1024  # PagerDuty's limit on payload.summary
MAX_SOURCE = 255
MAX_LINK_TEXT = 255
MAX_HREF = 2048
MAX_ERRORS = 20  # a 512 kB body of bad alerts should not give a 512 kB error


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One alert as its sender reported it, the same whatever the format.

    Guarantees, so the ingest code can store it without checking again:
    - `dedup_key` has 1 to 255 characters;
    - `status` is "firing" or "resolved"; `action` is "trigger", "acknowledge" or "resolve"
      (only PagerDuty sends "acknowledge", with status "firing": the alert is still open);
    - `severity` is one of SEVERITIES, except on a PagerDuty acknowledge/resolve, which carries
      no payload: there `severity`, `summary` and `source` are "" (keep what is stored);
    - `summary` has at most 1024 characters, `source` at most 255;
    - `labels` and `annotations` map str to str;
    - `links` are {"href", "text"} and `images` {"src", "href", "alt"}, with http(s) URLs only,
      so that no sender can plant a `javascript:` URL in a page;
    - `started_at`/`ended_at` are aware UTC datetimes or None (None: the sender gave no time;
      use the receive time);
    - `group_key` is a sha256 hex (64 characters) of the sender's alert group, or "" when the
      sender names none;
    - `details` is a JSON-serialisable dict (PagerDuty's custom_details, or the sender's context);
    - `fingerprint` is the sender's own alert identity when it gave one.
    """

    dedup_key: str
    status: str
    action: str
    summary: str
    severity: str
    source: str
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    links: list[dict] = field(default_factory=list)
    started_at: datetime | None = None
    ended_at: datetime | None = None
    group_key: str = ""
    details: dict = field(default_factory=dict)
    fingerprint: str | None = None
    images: list[dict] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """A PagerDuty change event (a deploy, a config change): context for the service's
    timeline, never a page. Same bounds as AlertEvent."""

    summary: str
    source: str
    timestamp: datetime | None
    custom_details: dict = field(default_factory=dict)
    links: list[dict] = field(default_factory=list)
    images: list[dict] = field(default_factory=list)


class InvalidPayload(Exception):
    """A body that cannot be turned into events.

    `errors` lists (field, message) pairs; the field is dotted (`alerts.0.labels`,
    `payload.summary`) and "<field> <message>" reads as a sentence. `pagerduty_errors` says the
    same in PagerDuty's words for the `errors` list of a 400 on /v2/enqueue, e.g.
    "'event_action' is missing or blank". `detail()` gives the shape the JSON API uses for 422.
    """

    def __init__(self, errors, pagerduty_errors=None):
        self.errors = list(errors)[:MAX_ERRORS] or [("body", "is invalid")]
        self.pagerduty_errors = list(pagerduty_errors or (f"'{f}' {m}" for f, m in self.errors))
        super().__init__(self.message)

    @property
    def message(self) -> str:
        more = len(self.errors) - 1
        first = "%s %s" % self.errors[0]
        return f"{first} (and {more} more)" if more else first

    def detail(self) -> list[dict]:
        return [{"field": f, "msg": m, "loc": ["body", *f.split(".")]} for f, m in self.errors]


def guarded(parse):
    """Makes `parse` answer a pathologically nested body with InvalidPayload too: json.loads
    takes nesting that re-encoding a label value deeper down the stack may not."""

    @functools.wraps(parse)
    def wrapper(body):
        try:
            return parse(body)
        except RecursionError:
            raise InvalidPayload([("body", "is nested too deeply")]) from None

    return wrapper


# --- decoding -----------------------------------------------------------------------------------

# JSON escapes that json.loads accepts but a database refuses: a lone UTF-16 surrogate (a valid
# pair has already become one character by then) and NUL, which PostgreSQL text cannot hold.
_NEEDS_CLEANING = re.compile(r"\\u(?:[dD][89a-fA-F]|0000)")


def decode(body):
    """The JSON value of a request body (bytes or str); a dict or list is returned as it is.
    Raises InvalidPayload("body", ...) for anything that is not JSON in UTF-8."""
    if isinstance(body, (dict, list)):
        return body
    if isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")  # then refused below if it held surrogates
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise InvalidPayload([("body", "must be a JSON document")])
    try:
        # Strict UTF-8, as RFC 8259 wants: json.loads(bytes) would also guess UTF-16/32 and let
        # encoded surrogates through. A leading BOM is forgiven.
        text = bytes(body).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidPayload([("body", f"is not UTF-8: {exc.reason} at byte {exc.start}")]) from None
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        raise InvalidPayload([("body", "is nested too deeply")]) from None
    except ValueError as exc:  # JSONDecodeError, NaN/Infinity, an integer of thousands of digits
        raise InvalidPayload([("body", f"is not valid JSON: {exc}")]) from None
    if _NEEDS_CLEANING.search(text):
        value = _clean(value)
    return value


def _reject_constant(name):
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text):
    number = float(text)
    if math.isinf(number):  # 1e999: valid JSON, but no database or JSON encoder takes inf back
        raise ValueError(f"number out of range: {text[:40]}")
    return number


def _clean(value):
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, dict):
        return {_clean_text(k) if isinstance(k, str) else k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _clean_text(text):
    if text.isascii():
        return text.replace("\x00", "")
    # Lone surrogates cannot be encoded: "replace" turns each into "?".
    return text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")


# --- small helpers shared by the parsers ----------------------------------------------------------


def as_text(value):
    """A string, or a number written out (senders do send `"source": 1`); None for the rest."""
    if type(value) is str:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _label_value(value):
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return str(value)


def str_map(value, name, errors):
    """An object of labels or annotations as dict[str, str]: values that are not strings are
    written out as JSON (Alertmanager sends only strings; hand-written senders do not)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.append((name, "must be an object"))
        return {}
    out = {}
    for key, item in value.items():
        out[key if type(key) is str else str(key)] = item if type(item) is str else _label_value(item)
    return out


def cut(text, limit):
    """`text` shortened to `limit` characters, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_time(value, name, errors):
    """An RFC 3339 / ISO 8601 time as aware UTC; None when absent or the zero time."""
    if value is None or value == "":
        return None
    if type(value) is not str:
        errors.append((name, "must be an RFC 3339 time"))
        return None
    try:
        moment = datetime.fromisoformat(value)  # 3.11 reads nanoseconds, "Z" and any offset
    except ValueError:
        errors.append((name, "must be an RFC 3339 time"))
        return None
    if moment.year == 1:
        return None  # Go's zero time, "0001-01-01T00:00:00Z": Alertmanager's "not set"
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)  # no offset given: take it as UTC
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:  # 9999-12-31T23:00:00-05:00
        errors.append((name, "is out of range"))
        return None


def link(href, text):
    """A link the UI can render as <a href>, or None: http(s) only, bounded."""
    if type(href) is not str or len(href) > MAX_HREF or not href[:8].lower().startswith(("https://", "http://")):
        return None
    return {"href": href, "text": cut(text, MAX_LINK_TEXT) if type(text) is str else ""}


def image(src, href=None, alt=None):
    if type(src) is not str or len(src) > MAX_HREF or not src[:8].lower().startswith(("https://", "http://")):
        return None
    target = link(href, "")
    return {"src": src, "href": target["href"] if target else "", "alt": cut(alt, MAX_LINK_TEXT) if type(alt) is str else ""}


def stable_hash(value) -> str:
    """First 32 hex digits of the sha256 of `value` as canonical JSON (ASCII, so any string hashes)."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def group_hash(text: str) -> str:
    # surrogatepass: a dict handed in without decode() may hold lone surrogates.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# Vigil's sev1..sev4 from the words senders use: PagerDuty's four first, then what people put in
# an Alertmanager/Grafana `severity` label (kube-prometheus "none" for its InfoInhibitor, Zabbix's
# disaster/high/average, Opsgenie-style P1..P5).
_SEVERITY_WORDS = {
    "critical": "sev1", "crit": "sev1", "page": "sev1", "emergency": "sev1", "emerg": "sev1",
    "fatal": "sev1", "disaster": "sev1", "alert": "sev1", "p1": "sev1", "sev1": "sev1",
    "error": "sev2", "err": "sev2", "high": "sev2", "major": "sev2", "p2": "sev2", "sev2": "sev2",
    "warning": "sev3", "warn": "sev3", "medium": "sev3", "moderate": "sev3", "average": "sev3",
    "minor": "sev3", "p3": "sev3", "sev3": "sev3",
    "info": "sev4", "information": "sev4", "informational": "sev4", "notice": "sev4", "low": "sev4",
    "debug": "sev4", "none": "sev4", "p4": "sev4", "p5": "sev4", "sev4": "sev4",
}


def map_severity(word, default=DEFAULT_SEVERITY):
    """sev1..sev4 for a sender's severity word (any case); `default` when unknown or not a string."""
    if type(word) is not str:
        return default
    return _SEVERITY_WORDS.get(word.strip().lower(), default)
