"""Killing workers loses no page and puts none in the outbox twice (PostgreSQL, `make test-kill`).

Two `vigil worker` processes page 300 incidents through 3 escalation levels (900 pages) to a
signed-webhook receiver here, while one worker is SIGKILLed and restarted again and again. At the
end every page arrived, the outbox holds each exactly once, and the receiver, deduplicating by
idempotency key, processed none twice.
"""

import hashlib
import hmac
import json
import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from vigil.testing import VIGIL

pytestmark = pytest.mark.kill

PG = os.environ.get("VIGIL_TEST_DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/test"
INCIDENTS, LEVELS = 300, 3

SETUP = """
import json
from vigil.accounts.models import Membership, Team, User
from vigil.catalog.models import Service
from vigil.oncall.models import EscalationPolicy
from vigil.paging.models import ContactMethod
team = Team.objects.create(name="Ops", slug="ops")
users = [User.objects.create_user(f"r{n}@kill.test", name=f"Responder {n}") for n in range(%(levels)d)]
secrets = {}
for user in users:
    Membership.objects.create(user=user, team=team, role="responder")
    secrets[user.email] = ContactMethod.objects.create(user=user, kind="webhook", address="%(url)s").signing_secret
policy = EscalationPolicy.objects.create(team=team, name="Three levels", levels=[
    {"delay_seconds": 1, "targets": [{"type": "user", "id": u.pk}]} for u in users])
Service.objects.create(team=team, name="Shop", slug="shop", escalation_policy=policy)
print(json.dumps(secrets))
"""

OPEN = """
from vigil.catalog.models import Service
from vigil.incidents.actions import do_create_incident
service = Service.objects.get(slug="shop")
for n in range(%(count)d):
    do_create_incident(service, actor=None, title=f"Incident {n}", severity="sev2")
"""


class Receiver:
    """Records every delivery; checks each signature; processes a page once per idempotency key."""

    def __init__(self):
        self.deliveries, self.bad_signatures, self.secrets = [], 0, {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                page = json.loads(body)
                secret = receiver.secrets.get(page["user"]["email"], "")
                expected = hmac.new(secret.encode(), f"{self.headers['X-Vigil-Timestamp']}.".encode() + body,
                                    hashlib.sha256).hexdigest()
                if self.headers["X-Vigil-Signature"] != f"v1={expected}":
                    receiver.bad_signatures += 1
                receiver.deliveries.append(self.headers["Idempotency-Key"])
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/pages"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def database():
    psycopg = pytest.importorskip("psycopg")
    base = PG.rsplit("/", 1)[0]
    name = f"vigil_kill_{os.getpid()}"
    try:
        admin = psycopg.connect(base + "/postgres", autocommit=True)
    except psycopg.OperationalError as e:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is needed for the kill test: {e}")
        pytest.skip(f"PostgreSQL is needed for the kill test: {e}")
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.execute(f'CREATE DATABASE "{name}"')
    yield f"{base}/{name}"
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


class Workers:
    def __init__(self, env, log_dir):
        self.env, self.log_dir, self.processes, self.started = env, log_dir, {}, 0

    def start(self, name):
        self.started += 1
        log = (self.log_dir / f"{name}-{self.started}.log").open("ab")
        self.processes[name] = subprocess.Popen([VIGIL, "worker"], env=self.env, start_new_session=True,
                                                stdout=log, stderr=subprocess.STDOUT)

    def kill(self, name):
        process = self.processes[name]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self):
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)


def test_killed_workers_lose_no_page_and_send_none_twice(database, tmp_path):
    import psycopg

    receiver = Receiver()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIGIL_", "DATABASE_URL", "PYTEST"))}
    env.update(DATABASE_URL=database, VIGIL_DATA_DIR=str(tmp_path), VIGIL_BASE_URL="http://127.0.0.1:9",
               VIGIL_SENDING_DEADLINE_SECONDS="3")

    def vigil(*args):
        return subprocess.run([VIGIL, *args], env=env, capture_output=True, text=True, check=True, timeout=120).stdout

    vigil("migrate", "--verbosity", "0")
    receiver.secrets = json.loads(vigil("shell", "-c", SETUP % {"levels": LEVELS, "url": receiver.url}).splitlines()[-1])

    workers = Workers(env, tmp_path)
    kills = 0
    try:
        workers.start("steady")
        workers.start("victim")
        opener = subprocess.Popen([VIGIL, "shell", "-c", OPEN % {"count": INCIDENTS}], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        rng = random.Random(7)
        deadline = time.monotonic() + 150
        with psycopg.connect(database, autocommit=True) as db:
            def sent():
                return db.execute("SELECT count(*) FROM paging_notification WHERE state = 'sent'").fetchone()[0]

            # Kill the victim at random moments while the pages flow, then let both run to the end.
            while kills < 8 and time.monotonic() < deadline and sent() < INCIDENTS * LEVELS:
                time.sleep(rng.uniform(0.3, 1.5))
                workers.kill("victim")
                kills += 1
                time.sleep(rng.uniform(0, 0.3))
                workers.start("victim")
            assert opener.wait(timeout=60) == 0, opener.stdout.read()
            while sent() < INCIDENTS * LEVELS and time.monotonic() < deadline:
                time.sleep(0.5)

            states = dict(db.execute("SELECT state, count(*) FROM paging_notification GROUP BY state").fetchall())
            keys = {k for (k,) in db.execute("SELECT idempotency_key FROM paging_notification").fetchall()}
            paged_levels = Counter(n for (n,) in db.execute(
                "SELECT count(*) FROM incidents_timelineentry WHERE kind = 'paged' GROUP BY incident_id").fetchall())
    finally:
        workers.stop_all()
        receiver.server.shutdown()

    received = Counter(receiver.deliveries)
    duplicates = sum(n - 1 for n in received.values())
    print(f"\n{kills} kills; {len(receiver.deliveries)} deliveries for {len(received)} pages; "
          f"{duplicates} repeated (at least once: a worker killed between sending and recording)")
    assert kills >= 4
    assert states == {"sent": INCIDENTS * LEVELS}, states
    assert len(keys) == INCIDENTS * LEVELS
    assert set(received) == keys  # every page in the outbox arrived, and nothing else did
    assert receiver.bad_signatures == 0
    assert paged_levels == {LEVELS: INCIDENTS}  # each incident's timeline shows its 3 levels paged
