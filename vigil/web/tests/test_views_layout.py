import re

from django.contrib.auth import get_user_model


def test_the_login_page_logs_a_user_in(personas, client):
    user = get_user_model().objects.create_user("night@ops.test", "correct horse battery")
    html = client.get("/login/").content.decode()
    assert 'name="username"' in html and 'name="password"' in html
    r = client.post("/login/", {"username": "night@ops.test", "password": "wrong password"})
    assert "Please enter a correct email and password." in r.content.decode()
    r = client.post("/login/", {"username": "night@ops.test", "password": "correct horse battery"})
    assert r.status_code == 302 and r["Location"] == "/"
    assert int(client.session["_auth_user_id"]) == user.pk


def test_logout_is_a_post_form(personas, client):
    client.force_login(personas.responder)
    html = client.get("/").content.decode()
    assert re.search(r'<form method="post" action="/logout/"', html)
    client.post("/logout/")
    assert client.get("/").status_code == 302


def test_the_nav_shows_the_admin_link_only_to_staff(personas, client):
    client.force_login(personas.responder)
    html = client.get("/").content.decode()
    for link in ['href="/"', 'href="/services/"', 'href="/teams/"', 'href="/account/tokens/"']:
        assert link in html
    assert 'href="/admin/"' not in html
    client.force_login(personas.site_admin)
    assert 'href="/admin/"' in client.get("/").content.decode()


def test_pages_have_no_inline_script_or_style_and_send_the_csp(personas, client):
    client.force_login(personas.responder)
    for path in ["/", "/incidents/new/", "/services/", "/services/acme-shop/", "/teams/", "/teams/ops/", "/account/tokens/"]:
        r = client.get(path)
        assert r.status_code == 200, path
        html = r.content.decode()
        assert "script-src 'self'" in r["Content-Security-Policy"]
        assert re.findall(r"<script(?![^>]*\bsrc=)", html) == [], path
        assert "<style" not in html and " style=" not in html, path
        assert "/static/vendor/htmx-2.0.11/htmx.min.js" in html
        assert 'hx-headers=\'{"X-CSRFToken": "' in html
        assert '<meta name="htmx-config" content=\'{"includeIndicatorStyles": false}\'>' in html


def test_the_static_files_are_served(personas, client):
    assert client.get("/static/vigil/vigil.css").status_code == 200
    assert client.get("/static/vendor/htmx-2.0.11/htmx.min.js").status_code == 200


def test_a_poll_after_the_session_ended_gets_a_login_fragment_not_a_page(personas, client):
    r = client.get("/?status=open", headers={"HX-Request": "true"}, follow=True)
    html = r.content.decode()
    assert "Your session has ended" in html
    assert "<html" not in html and "topbar" not in html
    assert 'name="next" value="/?status=open"' in html
