# No inline script or style anywhere: htmx and our CSS are files, so the policy can stay strict.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
)


def content_security_policy(get_response):
    def middleware(request):
        response = get_response(request)
        # The API docs page loads Swagger UI with inline script; it gets Django's defaults only.
        if not request.path.startswith("/api/v1/docs") and not request.path.startswith("/admin/"):
            response.setdefault("Content-Security-Policy", POLICY)
        response.setdefault("Referrer-Policy", "same-origin")
        return response

    return middleware
