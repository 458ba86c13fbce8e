"""What the browser tests share: a real `vigil serve` with a data dir of its own and one site
admin, and a page in Debian's Chromium driven by Playwright that records what went wrong."""

import os
from contextlib import contextmanager

import pytest

from vigil.testing import VigilServer

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
PHONE = {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True}


@contextmanager
def vigil_server(tmp_path, email, name, password, **env):
    """A running `vigil serve` whose one user is a site admin; `server.api_token` is theirs."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("needs Debian's Chromium: apt-get install chromium")
    server = VigilServer(tmp_path, **env)
    server.cli("migrate", "--verbosity", "0")
    server.cli("createuser", email, "--name", name, "--password", password, "--admin")
    server.api_token = server.token(email)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def browser_page(timeout_ms=15000, **context_options):
    """A page in Chromium. `page.errors` collects console errors (a CSP violation, such as an inline
    script or style slipping in, is one), uncaught exceptions and 4xx/5xx answers; `page.dialogs`
    the messages of dialogs, which are dismissed."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(**context_options)
        page = context.new_page()
        page.set_default_timeout(timeout_ms)
        page.dialogs, page.errors = [], []
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        page.on("console", lambda msg: msg.type == "error" and page.errors.append(msg.text))
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        page.on("response", lambda r: r.status >= 400 and page.errors.append(f"{r.status} {r.url}"))
        try:
            yield page
        finally:
            context.close()
            browser.close()
