"""`GET /metrics`: Vigil's health in the Prometheus text format, for a site admin's API token.

The numbers span every team, so only a site admin's token may read them (403 for others)."""

from django.db import DatabaseError
from django.http import HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry

from vigil.accounts.models import ApiToken

from .collector import VigilCollector

registry = CollectorRegistry(auto_describe=False)
registry.register(VigilCollector())


def _text(body, status):
    return HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")


def metrics(request):
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    try:
        user = ApiToken.authenticate(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
    except DatabaseError as e:
        return _text(f"the database is unavailable: {e}\n", 503)
    if user is None:
        response = _text("authentication required: send Authorization: Bearer <token>\n", 401)
        response["WWW-Authenticate"] = 'Bearer realm="vigil"'
        return response
    if not user.is_superuser:
        return _text("the metrics span all teams: use a site admin's token\n", 403)
    try:
        body = generate_latest(registry)
    except DatabaseError as e:
        return _text(f"the database is unavailable: {e}\n", 503)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
