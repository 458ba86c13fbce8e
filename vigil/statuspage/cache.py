"""A small WSGI layer in front of Django that answers the public status page, its JSON and its
feeds from memory, so that they stay fast while the rest of Vigil is busy with an incident storm.

Django renders each document once; the bytes and headers are kept, keyed on the page's `version`
(bumped in the transaction of every change the page shows) and the UTC day (the 90-day bars move
at midnight). A request costs one indexed read of the version, at most every `TTL` seconds per page
and process (a change made in this process is seen at once: `forget()` on commit), and no Django
middleware, URL resolving or template. Private pages, query strings and anything else go to Django.

If the database does not answer, the last bytes are served: the page stays up during an outage.
It also serves a page on its custom domain: `Host: status.example.com` maps to /status/<slug>/.
"""

import logging
import re
import threading
import time

from django.db import connection

log = logging.getLogger("vigil.statuspage")

TTL = 0.5
CACHEABLE = re.compile(r"^/status/([-\w]+)/(?:api/v2/[-a-z/]+\.json|history\.atom|history\.rss|theme\.css)?$")
MARK = "X-Vigil-Cache"

_versions = {}  # slug -> (checked at, version); version None: no such public page
_domains = [0.0, {}]  # checked at, {host: slug}
_lock = threading.Lock()


def forget(slug):
    """The page changed in this process: look its version up again on the next request."""
    _versions.pop(slug, None)
    _domains[0] = 0.0


def _read_version(slug, now):
    hit = _versions.get(slug)
    if hit is not None and now - hit[0] < TTL:
        return hit[1]
    with connection.cursor() as cursor:
        cursor.execute("SELECT version, public FROM statuspage_statuspage WHERE slug = %s", [slug])
        row = cursor.fetchone()
    version = row[0] if row and row[1] else None
    if row:  # not for unknown slugs: made-up ones must not grow the dict
        _versions[slug] = (now, version)
    return version


def _slug_for_host(host, now):
    if now - _domains[0] >= TTL * 20:
        with connection.cursor() as cursor:
            cursor.execute("SELECT custom_domain, slug FROM statuspage_statuspage WHERE custom_domain <> ''")
            _domains[1] = dict(cursor.fetchall())
        _domains[0] = now
    return _domains[1].get(host.split(":", 1)[0].lower())


class Entry:
    __slots__ = ("key", "status", "headers", "body", "etag")

    def __init__(self, key, status, headers, body):
        self.key, self.status, self.headers, self.body = key, status, headers, body
        self.etag = next((v for k, v in headers if k.lower() == "etag"), None)


class PublicCache:
    def __init__(self, app):
        self.app = app
        self.entries = {}
        self.filling = set()

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD") or environ.get("QUERY_STRING"):
            return self.app(environ, start_response)
        now = time.monotonic()
        path = environ.get("PATH_INFO", "")
        if not path.startswith(("/status/", "/static/")) and environ.get("HTTP_HOST"):
            try:
                slug = _slug_for_host(environ["HTTP_HOST"], now)
            except Exception:
                slug = None
            if slug:
                environ = {**environ, "PATH_INFO": f"/status/{slug}{path}"}
                path = environ["PATH_INFO"]
        match = CACHEABLE.match(path)
        if not match:
            return self.app(environ, start_response)
        entry = self.entries.get(path)
        try:
            version = _read_version(match.group(1), now)
        except Exception:
            # The database is away: the last known page is better than an error page.
            log.warning("status page version unavailable; serving what is cached", exc_info=True)
            if entry is not None:
                return self._serve(entry, environ, start_response)
            return self.app(environ, start_response)
        if version is None:
            return self.app(environ, start_response)
        key = (version, time.gmtime()[:3])
        if entry is not None and (entry.key == key or path in self.filling):
            # Fresh, or being re-rendered by another thread: the previous bytes until it is done.
            return self._serve(entry, environ, start_response)
        self.filling.add(path)
        try:
            return self._fill(path, key, environ, start_response)
        finally:
            self.filling.discard(path)

    def _serve(self, entry, environ, start_response):
        if entry.etag and environ.get("HTTP_IF_NONE_MATCH") == entry.etag:
            start_response("304 Not Modified", [h for h in entry.headers if h[0].lower() not in ("content-type", "content-length")])
            return []
        start_response(entry.status, entry.headers)
        return [] if environ["REQUEST_METHOD"] == "HEAD" else [entry.body]

    def _fill(self, path, key, environ, start_response):
        # Render a full GET even for a HEAD or a conditional request, so that the bytes can be kept.
        inner = {k: v for k, v in environ.items() if k not in ("HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE")}
        inner["REQUEST_METHOD"] = "GET"
        captured = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return lambda data: None

        result = self.app(inner, capture)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        headers = captured["headers"]
        mark = any(k == MARK for k, _ in headers)
        headers = [(k, v) for k, v in headers if k != MARK]
        entry = Entry(key, captured["status"], headers, body)
        cookies = any(k.lower() == "set-cookie" or (k.lower() == "vary" and "cookie" in v.lower()) for k, v in headers)
        if mark and captured["status"].startswith("200") and not cookies:
            with _lock:
                self.entries[path] = entry
        return self._serve(entry, environ, start_response)
