"""Signed one-click links for notifications: acknowledge, resolve or ask for help on one
incident, as the person paged, without logging in. Django's signing (HMAC with the secret key and a salt) makes them
unforgeable; they expire after a day and each names a single action on a single incident."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "vigil.paging.action-link"
MAX_AGE_SECONDS = 24 * 3600
ACTIONS = ("acknowledge", "resolve", "escalate")


def action_url(incident, action, user):
    token = signing.dumps({"i": incident.pk, "a": action, "u": user.pk}, salt=SALT, compress=True)
    return settings.BASE_URL + reverse("action-link", args=[token])


def read(token):
    """(incident id, action, user id), or raise signing.BadSignature (SignatureExpired included)."""
    data = signing.loads(token, salt=SALT, max_age=MAX_AGE_SECONDS)
    if data.get("a") not in ACTIONS:
        raise signing.BadSignature("unknown action")
    return data["i"], data["a"], data["u"]
