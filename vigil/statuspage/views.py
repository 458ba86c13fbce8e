"""The public side: the page, its Statuspage v2 JSON, feeds, subscribing. No login for public pages.

Responses of public pages carry `X-Vigil-Cache: public` and the page's version in the ETag: the
cache in front of Django (cache.py) keeps their bytes until the version moves."""

import hashlib

from django.contrib.syndication.views import Feed
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import services
from .documents import PageState, dumps
from .models import PublicUpdate, StatusPage, Subscriber

SESSION_KEY = "statuspage_keys"


def viewable_page(request, slug):
    """The page if this request may read it: public; or the secret link (`?key=`, then remembered
    in the session); or a member of the page's team. Otherwise 404 (or the login page)."""
    page = get_object_or_404(StatusPage, slug=slug)
    if page.public:
        return page
    allowed = request.session.get(SESSION_KEY, [])
    if page.pk in allowed:
        return page
    if page.secret_matches(request.GET.get("key", "")):
        request.session[SESSION_KEY] = [*allowed, page.pk]
        return page
    user = request.user
    if user.is_authenticated and (user.is_superuser or page.team_id in user.team_ids()):
        return page
    raise Http404("no such status page")


def _respond(request, page, body, content_type, cors=False):
    """Conditional GET, caching headers, and the mark that lets the front cache keep public bytes."""
    etag = '"%s"' % hashlib.sha256(body).hexdigest()[:20]
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type=content_type)
    response["ETag"] = etag
    response["Last-Modified"] = http_date(page.updated_at.timestamp())
    response["X-Content-Type-Options"] = "nosniff"
    if page.public:
        response["Cache-Control"] = "public, no-cache"  # kept, but revalidated (ETag: a cheap 304) so a change shows at once
        if response.status_code == 200:
            response["X-Vigil-Cache"] = f"{page.pk}:{page.version}"
    else:
        response["Cache-Control"] = "private, no-cache"
    if cors:
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
    return response


@require_http_methods(["GET", "HEAD"])
def status_page(request, slug):
    page = viewable_page(request, slug)
    state = PageState(page)
    body = render(request, "statuspage/public.html", {
        "page": page, "state": state, "history": state.history(),
        "incidents": [i for i in state.incidents if i not in state.unresolved][:10],
    }).content
    return _respond(request, page, body, "text/html; charset=utf-8")


@require_http_methods(["GET", "HEAD"])
def incident_page(request, slug, code):
    page = viewable_page(request, slug)
    if not code.startswith("inc_") or not code[4:].isdigit():
        raise Http404("no such incident")
    public = get_object_or_404(page.incidents.prefetch_related("updates", "components"), pk=int(code[4:]))
    body = render(request, "statuspage/public_incident.html", {"page": page, "incident": public}).content
    return _respond(request, page, body, "text/html; charset=utf-8")


DOCUMENTS = {"summary", "status", "components", "incidents", "incidents/unresolved", "scheduled-maintenances",
             "scheduled-maintenances/upcoming", "scheduled-maintenances/active"}


@require_http_methods(["GET", "HEAD", "OPTIONS"])
def document(request, slug, name):
    if name not in DOCUMENTS:
        raise Http404("no such document")
    page = viewable_page(request, slug)
    if request.method == "OPTIONS":
        return _respond(request, page, b"", "text/plain")
    return _respond(request, page, dumps(PageState(page).document(name)), "application/json", cors=True)


def theme(request, slug):
    """The accent colour as a stylesheet: the strict CSP allows no inline style."""
    page = viewable_page(request, slug)
    css = f":root {{ --accent: {page.accent_colour}; }}\n".encode()
    return _respond(request, page, css, "text/css; charset=utf-8")


def logo(request, slug):
    page = viewable_page(request, slug)
    if not page.logo:
        raise Http404("no logo")
    return _respond(request, page, bytes(page.logo), page.logo_type)


class HistoryFeed(Feed):
    """Every update of the page's incidents and maintenances, newest first (Atom or RSS 2.0)."""

    feed_type = Atom1Feed

    def get_object(self, request, slug):
        self.request = request
        return viewable_page(request, slug)

    def __call__(self, request, *args, **kwargs):
        response = super().__call__(request, *args, **kwargs)
        return _respond(request, self.get_object(request, *args, **kwargs), response.content, response["Content-Type"], cors=True)

    def title(self, page):
        return f"{page.name} status history"

    def link(self, page):
        return reverse("statuspage-public", args=[page.slug])

    def description(self, page):
        return f"Incidents and maintenances of {page.name}"

    def items(self, page):
        return (PublicUpdate.objects.filter(public_incident__page=page).select_related("public_incident").order_by("-display_at", "-id")[:50])

    def item_title(self, update):
        return f"{update.public_incident.name}: {update.status.replace('_', ' ')}"

    def item_description(self, update):
        # Text, not markup: the feed generator escapes it, so a reader shows "<b>" as typed.
        return update.body

    def item_link(self, update):
        page = update.public_incident.page
        return reverse("statuspage-incident", args=[page.slug, update.public_incident.code]) + f"#{update.code}"

    def item_guid(self, update):
        return f"{update.public_incident.page.public_url().rstrip('/')}/incidents/{update.public_incident.code}#{update.code}"

    item_guid_is_permalink = False

    def item_pubdate(self, update):
        return update.display_at

    def item_updateddate(self, update):
        return update.display_at


class RssHistoryFeed(HistoryFeed):
    feed_type = Rss201rev2Feed


@require_http_methods(["GET", "POST"])
def subscribe(request, slug):
    """Email subscription (double opt-in) and the feed links. Not cached: it carries a CSRF token."""
    page = viewable_page(request, slug)
    components = list(page.components.filter(is_group=False))
    error = None
    if request.method == "POST":
        address = request.POST.get("email", "").strip()
        chosen = [c for c in components if str(c.pk) in request.POST.getlist("components")]
        try:
            validate_email(address)
        except ValidationError:
            error = "Enter a valid email address."
        else:
            services.subscribe(page, kind=Subscriber.Kind.EMAIL, address=address.lower(), components=chosen)
            return render(request, "statuspage/subscribed.html", {"page": page, "address": address})
    return render(request, "statuspage/subscribe.html", {"page": page, "components": components, "error": error},
                  status=422 if error else 200)


def confirm(request, slug, token):
    subscriber = services.confirm(token)
    if subscriber is None or subscriber.page.slug != slug:
        return render(request, "statuspage/token.html", {"title": "This link is not valid",
                      "text": "It may be older than 7 days, or cut short. Subscribe again to get a new one."}, status=404)
    return render(request, "statuspage/token.html", {"page": subscriber.page, "title": "Subscription confirmed",
                  "text": f"{subscriber.address} will get the news of {subscriber.page.name}."})


@csrf_exempt  # the signed token is the credential; mail clients POST without a CSRF token
@require_http_methods(["GET", "POST"])
def unsubscribe(request, slug, token):
    """One click, from the mail's link (GET) or the mail client's List-Unsubscribe-Post (POST)."""
    page = services.unsubscribe(token)
    if page is None:
        return render(request, "statuspage/token.html", {"title": "Already unsubscribed",
                      "text": "This address gets nothing more from this page."})
    return render(request, "statuspage/token.html", {"page": page, "title": "Unsubscribed",
                  "text": f"You will get no more mail from {page.name}.", "resubscribe": True})

