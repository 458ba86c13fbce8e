"""The ingestion endpoints skip the middleware made for people's browsers.

Senders post JSON with a key and read JSON back: no session, user, CSRF token, messages, CSP or
frame options apply to them, and for a single PagerDuty event the layers that set those up (and
the walk through every URL pattern) were over a quarter of the request's work. This middleware
comes first: for the ingestion URLs (urls.ingestion_urls) it checks the Host header
(ALLOWED_HOSTS, as CommonMiddleware would) and calls the view itself; every other request goes
down the usual stack. Django still wraps it: a view that raises answers 500 and is logged, and
request_started/finished manage the database connections. With no request channel set, what an
ingestion request changes is audited as done by the system.
"""

from .urls import ingestion_urls

PREFIXES = ("/hooks/", "/v2/")


def _match(path):
    for pattern in ingestion_urls:
        if match := pattern.resolve(path[1:]):
            return match
    return None


def ingestion_fast_path(get_response):
    def middleware(request):
        path = request.path_info
        if path.startswith(PREFIXES) and (match := _match(path)):
            request.get_host()  # DisallowedHost (400) for a host not in ALLOWED_HOSTS
            request.resolver_match = match
            response = match.func(request, *match.args, **match.kwargs)
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            return response
        return get_response(request)

    return middleware
