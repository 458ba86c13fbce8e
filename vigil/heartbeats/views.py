"""The ping endpoints, compatible with healthchecks.io's: the key in the URL is the credential.

Answers as healthchecks.io does (its clients and runitor read them): 200 "OK" as plain text,
404 "not found" for an unknown key, 400 for a bad exit status or rid, 503 when the database is
unavailable (clients retry)."""

import logging
import uuid

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from .actions import record_ping
from .models import PING_BODY_LIMIT, Ping

log = logging.getLogger("vigil.heartbeats")


def _text(body, status=200):
    response = HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    return response


@csrf_exempt
def ping(request, key, action="success", exit_status=None):
    if request.method not in ("GET", "HEAD", "POST"):
        response = _text("method not allowed", 405)
        response["Allow"] = "GET, HEAD, POST"
        return response
    if exit_status is not None:
        if exit_status > 255:
            return _text("invalid url format", 400)
        action = Ping.Kind.SUCCESS if exit_status == 0 else Ping.Kind.FAIL
    rid = None
    if "rid" in request.GET:
        try:
            rid = uuid.UUID(request.GET["rid"])
        except ValueError:
            return _text("invalid rid", 400)
    # Read at most the part we keep: a job may post a gigabyte of logs, which we must not hold.
    body = request.read(PING_BODY_LIMIT) if request.method == "POST" else b""
    size = max(len(body), int(request.META.get("CONTENT_LENGTH") or 0) if request.method == "POST" else 0)
    try:
        recorded = record_ping(
            key, kind=action, exit_status=exit_status, rid=rid, method=request.method, scheme=request.scheme,
            remote_addr=request.META.get("REMOTE_ADDR", ""), user_agent=request.headers.get("User-Agent", ""),
            body=body, body_size=size)
    except (OperationalError, InterfaceError):
        log.exception("ping of %s not recorded", key)
        return _text("the database is unavailable; retry", 503)
    if recorded is None:
        return _text("not found", 404)
    response = _text("OK")
    response["Ping-Body-Limit"] = str(PING_BODY_LIMIT)
    return response
