"""The JSON API under /api/v1/: authentication, the error conventions of the contract, the routers."""

import json

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer, django_auth

from vigil.accounts.models import ApiToken, TeamNeedsAnAdmin, validate_time_zone
from vigil.incidents.models import TransitionNotAllowed


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        user = ApiToken.authenticate(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Vigil API",
    version="1",
    urls_namespace="api",
    auth=[BearerToken(), django_auth],
    docs_url="/docs",
)


def invalid(field, message):
    """Raise a 422 naming `field`, shaped like the ones pydantic produces."""
    raise ValidationError([{"loc": ["body", "payload", field], "msg": message, "type": "value_error"}])


def check_time_zone(value):
    try:
        validate_time_zone(value)
    except DjangoValidationError:
        invalid("time_zone", f"unknown time zone {value!r}; use an IANA name like Europe/London")


def _field_name(loc):
    # ["body", "payload", "levels", 0, "delay_seconds"] -> "levels.0.delay_seconds"
    parts = list(loc)
    if parts[:1] == ["body"]:
        parts = parts[2:] if len(parts) > 1 and parts[1] == "payload" else parts[1:]
    elif parts[:1] in (["query"], ["path"]):
        parts = parts[1:]
    return ".".join(str(p) for p in parts) or "body"


@api.exception_handler(ValidationError)
def validation_error(request, exc):
    detail = [{"field": _field_name(e.get("loc", [])), "msg": e.get("msg", "invalid"), "loc": list(e.get("loc", []))}
              for e in exc.errors]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(HttpError)
def http_error(request, exc):
    # ninja answers an unparsable body with 400; the contract wants 422 naming what is wrong.
    if isinstance(exc.__cause__, (json.JSONDecodeError, UnicodeDecodeError)):
        detail = [{"field": "body", "msg": f"malformed JSON: {exc.__cause__}", "loc": ["body"]}]
        return api.create_response(request, {"detail": detail}, status=422)
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, exc):
    response = api.create_response(request, {"detail": "authentication required: send Authorization: Bearer <token>"}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="vigil"'
    return response


@api.exception_handler(PermissionDenied)
def forbidden(request, exc):
    return api.create_response(request, {"detail": str(exc) or "not permitted"}, status=403)


def conflict(request, exc):
    return api.create_response(request, {"detail": str(exc)}, status=409)


for _exc in (TransitionNotAllowed, TeamNeedsAnAdmin):
    api.add_exception_handler(_exc, conflict)


@api.exception_handler(IntegrityError)
def integrity_error(request, exc):
    # A unique constraint caught a duplicate that validation let through (two requests at once).
    return api.create_response(request, {"detail": "conflicts with an existing record"}, status=409)


def register_routers():
    from vigil.accounts.api import router as accounts
    from vigil.alerts.api import router as alerts
    from vigil.catalog.api import router as catalog
    from vigil.heartbeats.api import router as heartbeats
    from vigil.anomaly.api import router as anomaly
    from vigil.comms.api import router as comms
    from vigil.incidents.api import router as incidents
    from vigil.logs.api import router as logs
    from vigil.monitors.api import router as monitors
    from vigil.oncall.api import router as oncall
    from vigil.paging.api import router as paging
    from vigil.reviews.api import router as reviews
    from vigil.sla.api import router as sla
    from vigil.statuspage.api import router as statuspage
    from vigil.timelog.api import router as timelog

    api.add_router("/", accounts)
    api.add_router("/", catalog)
    api.add_router("/", incidents)
    api.add_router("/", alerts)
    api.add_router("/", paging)
    api.add_router("/", oncall)
    api.add_router("/", reviews)
    api.add_router("/", heartbeats)
    api.add_router("/", anomaly)
    api.add_router("/", comms)
    api.add_router("/", sla)
    api.add_router("/", timelog)
    api.add_router("/", monitors)
    api.add_router("/", statuspage)
    api.add_router("/", logs)


register_routers()
