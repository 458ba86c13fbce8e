"""The ingestion endpoints. The integration key in the URL (or PagerDuty's routing_key) is the
credential. Each answers in its sender's conventions, and a rejected request changes nothing."""

import logging

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError, transaction
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import caches
from .formats import InvalidPayload, alertmanager, decode, generic, grafana, pagerduty
from .ingest import ingest
from .models import MAX_BODY_KB, ChangeEvent, Integration
from .ratelimit import RateLimited, count_request

log = logging.getLogger("vigil.alerts")

# Only a database that cannot be reached is "retry later" (503, which every sender retries); any
# other database error is a bug, and answering 503 to it would make senders retry forever.
UNAVAILABLE = (OperationalError, InterfaceError)
PARSERS = {"alertmanager": alertmanager.parse, "grafana": grafana.parse, "generic": generic.parse}
RETRY_AFTER_SECONDS = 5


def _body(request, limit_kb):
    """The raw body, or None when it is over `limit_kb`."""
    limit = limit_kb * 1024
    if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
        return None
    try:
        body = request.body
    except RequestDataTooBig:
        return None
    return body if len(body) <= limit else None


def _retry_later(body, status, seconds=RETRY_AFTER_SECONDS):
    response = JsonResponse(body, status=status)
    response["Retry-After"] = str(seconds)
    return response


def _pagerduty_throttled(limited):
    return _retry_later({"status": "throttle event",
                         "message": "Requests for this service are arriving too quickly. Please retry later."},
                        429, limited.retry_after)


@csrf_exempt
@require_POST
def hook(request, kind, key):
    integration = caches.integration_for_key(key, kind)
    if integration is None:
        return JsonResponse({"detail": f"no enabled {kind} integration has this key"}, status=404)
    body = _body(request, integration.max_body_kb)
    if body is None:
        return JsonResponse({"detail": f"body is over {integration.max_body_kb} kB, this key's limit"}, status=413)
    try:
        events = PARSERS[kind](body)
    except InvalidPayload as e:
        return JsonResponse({"detail": e.detail()}, status=422)
    try:
        result = ingest(integration, events, rate_limit=True)
    except RateLimited as e:
        return _retry_later({"detail": "rate limit reached for this integration key"}, 429, e.retry_after)
    except UNAVAILABLE:
        # Alertmanager and Grafana retry on 5xx: the batch is not lost, and nothing was half-written.
        log.exception("ingest failed for integration %s", integration.pk)
        return _retry_later({"detail": "the database is unavailable; retry"}, 503)
    return JsonResponse({
        "status": "ok", "received": result.received, "firing": result.firing, "resolved": result.resolved,
        "suppressed": result.suppressed, "incidents_opened": result.incidents_opened,
    })


def _pagerduty_too_large():
    return JsonResponse({"status": "invalid request", "message": "Request too large"}, status=413)


def _pagerduty_invalid(errors):
    return JsonResponse({"status": "invalid event", "message": "Event object is invalid", "errors": errors}, status=400)


def _pagerduty_request(request):
    """(integration, decoded body, None), or (None, None, the response to send).

    The integration is None when the body has no routing_key: the parser then says so in
    PagerDuty's words, with whatever else is wrong."""
    # The key is in the body: read up to the most any key may send, then hold it to its own limit.
    body = _body(request, MAX_BODY_KB)
    if body is None:
        return None, None, _pagerduty_too_large()
    try:
        data = decode(body)
    except InvalidPayload as e:
        return None, None, _pagerduty_invalid(e.pagerduty_errors)
    key = data.get("routing_key") if isinstance(data, dict) else None
    if not isinstance(key, str) or not key:
        return None, data, None
    if len(key) != 32:
        return None, None, _pagerduty_invalid(["Length of 'routing_key' is incorrect (should be 32 characters)"])
    integration = caches.integration_for_key(key, Integration.Kind.PAGERDUTY)
    if integration is None:
        return None, None, _pagerduty_invalid(["Invalid routing key"])
    if len(body) > integration.max_body_kb * 1024:
        return None, None, _pagerduty_too_large()
    return integration, data, None


@csrf_exempt
@require_POST
def pagerduty_enqueue(request):
    integration, data, refusal = _pagerduty_request(request)
    if refusal:
        return refusal
    try:
        events = pagerduty.parse(data)
    except InvalidPayload as e:
        return _pagerduty_invalid(e.pagerduty_errors)
    try:
        ingest(integration, events, rate_limit=True)
    except RateLimited as e:
        return _pagerduty_throttled(e)
    except UNAVAILABLE:
        log.exception("ingest failed for integration %s", integration.pk)
        return _retry_later({"status": "error", "message": "Database unavailable, retry"}, 503)
    return JsonResponse({"status": "success", "message": "Event processed", "dedup_key": events[0].dedup_key},
                        status=202)


@csrf_exempt
@require_POST
def pagerduty_change(request):
    integration, data, refusal = _pagerduty_request(request)
    if refusal:
        return refusal
    try:
        change = pagerduty.parse_change(data)
    except InvalidPayload as e:
        return _pagerduty_invalid(e.pagerduty_errors)
    try:
        with transaction.atomic():
            count_request(integration, timezone.now())
            ChangeEvent.objects.create(
                service=integration.service, integration=integration, summary=change.summary, source=change.source,
                happened_at=change.timestamp or timezone.now(), details=change.custom_details, links=change.links,
            )
    except RateLimited as e:
        return _pagerduty_throttled(e)
    except UNAVAILABLE:
        log.exception("change event failed for integration %s", integration.pk)
        return _retry_later({"status": "error", "message": "Database unavailable, retry"}, 503)
    return JsonResponse({"status": "success", "message": "Change event processed"}, status=202)
