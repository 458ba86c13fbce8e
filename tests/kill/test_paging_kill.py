"""Killing workers loses no page and puts none in the outbox twice (`make test-kill`).

Real `vigil worker` processes page incidents through 3 escalation levels to a signed-webhook
receiver in this process while one worker is SIGKILLed and restarted again and again:

- PostgreSQL (the scale-out path): two workers, 300 incidents, 900 pages, 8 kills;
- SQLite (the default install): one worker, 60 incidents, 180 pages, 4 kills (nothing moves while
  it is down: the restarted worker must pick up what its dead self left).

Half the kills land at a random moment (booting, claiming a step, writing the outbox, sending,
recording, idling); the other half while the victim's page is in flight at the receiver (the
receiver holds the request until the kill), the worst moment: the page has arrived, the outbox
still says `sending`. The claim then runs out (VIGIL_SENDING_DEADLINE_SECONDS, 3 s here) and the
page is sent again with the same Idempotency-Key: delivered at least once, processed once.

At the end: every page (incident x level) is `sent` and arrived, the outbox holds each once, the
receiver (deduplicating by key) processed none twice, each incident's timeline shows its 3 levels
paged in order and no level came early, every signature verified, and every worker still running
stops cleanly on SIGTERM.
"""

import hashlib
import hmac
import json
import os
import random
import signal
import sqlite3
import subprocess
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from vigil.testing import VIGIL

pytestmark = pytest.mark.kill

DELAYS = [1, 2, 1]  # seconds between a level's page and the next level's (the last one is unused)
LEVELS = len(DELAYS)
CLAIM_SECONDS = 3  # VIGIL_SENDING_DEADLINE_SECONDS of the workers: how long a dead worker's claim holds a page
SEED = int(os.environ.get("VIGIL_KILL_SEED") or random.randrange(10**6))

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
policy = EscalationPolicy.objects.create(team=team, name="Three levels", repeat=0, levels=[
    {"delay_seconds": delay, "targets": [{"type": "user", "id": user.pk}]} for user, delay in zip(users, %(delays)r)])
Service.objects.create(team=team, name="Shop", slug="shop", escalation_policy=policy)
print(json.dumps(secrets))
"""

# Incidents open one by one (one transaction each), evenly over `spread` seconds whatever the
# machine's speed, while the workers page: the kills land while pages flow.
OPEN = """
import time
from vigil.catalog.models import Service
from vigil.incidents.actions import do_create_incident
service = Service.objects.get(slug="shop")
start = time.monotonic()
for n in range(%(count)d):
    time.sleep(max(0, start + n * %(spread)r / %(count)d - time.monotonic()))
    do_create_incident(service, actor=None, title=f"Incident {n}", severity="sev2")
"""


class Receiver:
    """A signed-webhook receiver on loopback. Records every request's Idempotency-Key and which worker
    sent it (each worker process has its own VIGIL_BASE_URL, which the page's links carry); checks
    every signature; processes each key once, as a receiver that wants exactly once would. `catch`
    holds a worker's next request so that the test can kill that worker while its page is in flight."""

    def __init__(self):
        self.lock = threading.Lock()
        self.secrets = {}
        self.deliveries = []  # (key, sender) of every request that arrived, signed correctly
        self.processed, self.processed_set = [], set()  # the keys acted on: a repeat is answered 200 and dropped
        self.rejected = []  # (key, why) of requests that failed the checks
        self.truncated = []  # keys of requests cut short by a kill
        self.trap, self.held_key, self.caught, self.release = None, None, threading.Event(), threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                try:
                    receiver.handle(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender was killed while it waited for the answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/pages"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def handle(self, request):
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length)
        key = request.headers.get("Idempotency-Key", "")
        if len(body) < length:  # the sender was killed halfway through the request: not a delivery
            with self.lock:
                self.truncated.append(key)
            return
        page = json.loads(body)
        sender = urllib.parse.urlsplit(page["incident"]["url"]).hostname.split(".")[0]
        timestamp = request.headers.get("X-Vigil-Timestamp", "0")
        secret = self.secrets.get(page["user"]["email"], "")
        expected = "v1=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        held = False
        with self.lock:
            if not hmac.compare_digest(request.headers.get("X-Vigil-Signature", ""), expected):
                self.rejected.append((key, "bad signature"))
            elif abs(time.time() - int(timestamp)) > 300:
                self.rejected.append((key, "stale timestamp"))
            elif not key or page.get("idempotency_key") != key:
                self.rejected.append((key, "Idempotency-Key header missing or not the body's"))
            else:
                self.deliveries.append((key, sender))
                if key not in self.processed_set:
                    self.processed_set.add(key)
                    self.processed.append(key)
                held = sender == self.trap and not self.caught.is_set()
                if held:
                    self.held_key = key
                    self.caught.set()
        if held:
            self.release.wait(10)  # the test kills the sender meanwhile
        request.send_response(200)
        request.end_headers()

    def catch(self, sender, timeout):
        """Hold `sender`'s next request (once it has arrived and been recorded); its key, or None if
        none came within `timeout` seconds."""
        with self.lock:
            self.caught.clear()
            self.release.clear()
            self.trap, self.held_key = sender, None
        return self.held_key if self.caught.wait(timeout) else None

    def let_go(self):
        with self.lock:
            self.trap = None
        self.release.set()

    def close(self):
        self.let_go()
        self.server.shutdown()
        self.server.server_close()


class Workers:
    """`vigil worker` processes, each in its own session; a restarted worker is a new process with a
    new name (victim1, victim2, ...) in its base URL, so that the receiver can tell them apart."""

    def __init__(self, env, log_dir):
        self.env, self.log_dir = env, log_dir
        self.current = {}  # role -> (name, process)
        self.everyone = []  # (name, process), started in order
        self.incarnations = Counter()

    def start(self, role):
        self.incarnations[role] += 1
        name = f"{role}{self.incarnations[role]}"
        env = dict(self.env, VIGIL_BASE_URL=f"http://{name}.kill.test")
        with (self.log_dir / f"{name}.log").open("ab") as log:
            process = subprocess.Popen([VIGIL, "worker"], env=env, start_new_session=True, stdout=log,
                                       stderr=subprocess.STDOUT)
        self.current[role] = (name, process)
        self.everyone.append((name, process))
        return name

    def name(self, role):
        return self.current[role][0]

    def kill(self, role):
        name, process = self.current[role]
        assert process.poll() is None, f"{name} died on its own:\n{self.log(name)}"
        os.killpg(process.pid, signal.SIGKILL)  # the whole process, at once, with no chance to clean up
        process.wait(timeout=10)

    def stop(self):
        """SIGTERM the running workers (each finishes the unit in hand, then exits): {name: exit code}."""
        running = [(n, p) for n, p in self.current.values() if p.poll() is None]
        for _, process in running:
            os.killpg(process.pid, signal.SIGTERM)
        codes = {}
        for name, process in running:
            try:
                codes[name] = process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                codes[name] = "did not stop within 20 s of SIGTERM"
        return codes

    def kill_all(self):
        for _, process in self.everyone:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def log(self, name):
        return (self.log_dir / f"{name}.log").read_text(errors="replace")

    def logs(self):
        return {name: self.log(name) for name, _ in self.everyone}


def clean_env(tmp_path, **extra):
    # Nothing of pytest's: with PYTEST_* in the environment, settings switch to the test database.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIGIL_", "DATABASE_URL", "PYTEST"))}
    env.update(VIGIL_DATA_DIR=str(tmp_path / "data"), VIGIL_SECRET_KEY="kill-test-" + "k" * 40,
               VIGIL_SENDING_DEADLINE_SECONDS=str(CLAIM_SECONDS), **extra)
    return env


@pytest.fixture
def postgres():
    """A database of our own on the PostgreSQL server of VIGIL_TEST_DATABASE_URL, dropped at the end."""
    psycopg = pytest.importorskip("psycopg")
    configured = os.environ.get("VIGIL_TEST_DATABASE_URL")
    base = (configured or "postgres://postgres@127.0.0.1:5432/test").rsplit("/", 1)[0]
    try:
        admin = psycopg.connect(base + "/postgres", autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as e:
        if configured:  # `make test-kill` (and so CI) sets it: a missing server is a failure there
            pytest.fail(f"PostgreSQL is needed for the kill test: {e}")
        pytest.skip(f"PostgreSQL is needed for the kill test (set VIGIL_TEST_DATABASE_URL): {e}")
    name = f"vigil_kill_{os.getpid()}"
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_postgresql_two_workers_one_killed_8_times(postgres, tmp_path):
    import psycopg

    env = clean_env(tmp_path, DATABASE_URL=postgres)
    run(env, tmp_path, lambda: psycopg.connect(postgres, autocommit=True), "PostgreSQL",
        incidents=300, spread=12, roles=["steady", "victim"], kills=8)


def test_sqlite_one_worker_killed_4_times(tmp_path):
    env = clean_env(tmp_path)
    path = tmp_path / "data" / "vigil.sqlite3"
    run(env, tmp_path, lambda: sqlite3.connect(path, timeout=20, isolation_level=None), "SQLite",
        incidents=60, spread=8, roles=["victim"], kills=4)


def when(value):
    """A timestamp column as a datetime (SQLite gives text)."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def percentile(values, p):
    return values[min(len(values) - 1, int(len(values) * p / 100))] if values else float("nan")


def run(env, tmp_path, connect, backend, *, incidents, spread, roles, kills):
    expected = incidents * LEVELS
    rng = random.Random(SEED)
    (tmp_path / "data").mkdir()

    def vigil(*args):
        return subprocess.run([VIGIL, *args], env=env, capture_output=True, text=True, check=True, timeout=120).stdout

    began = time.monotonic()
    vigil("migrate", "--verbosity", "0")
    receiver = Receiver()
    receiver.secrets = json.loads(vigil("shell", "-c", SETUP % {"levels": LEVELS, "url": receiver.url,
                                                                 "delays": DELAYS}).splitlines()[-1])
    workers = Workers(env, tmp_path)
    opener = None
    done = []  # (kind of kill, name of the worker killed, key of the page it had in flight or None)
    try:
        for role in roles:
            workers.start(role)
        opener = subprocess.Popen([VIGIL, "shell", "-c", OPEN % {"count": incidents, "spread": spread}], env=env,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
        paging_began = time.monotonic()
        deadline = paging_began + 120
        db = connect()

        def sent():
            return db.execute("SELECT count(*) FROM paging_notification WHERE state = 'sent'").fetchone()[0]

        # Kill the victim again and again while pages flow; restart it a moment later each time.
        while len(done) < kills and time.monotonic() < deadline - 60 and (opener.poll() is None or sent() < expected):
            victim, held = workers.name("victim"), None
            if len(done) % 2 == 0:
                time.sleep(rng.uniform(1.0, 2.5))
            else:
                time.sleep(rng.uniform(0.3, 1.0))
                held = receiver.catch(victim, timeout=5)
            workers.kill("victim")
            receiver.let_go()
            done.append(("mid-delivery" if held else "random", victim, held))
            time.sleep(rng.uniform(0.0, 0.3))
            workers.start("victim")
        last_kill = time.monotonic() - paging_began

        assert opener.wait(timeout=max(1, deadline - time.monotonic())) == 0, opener.stdout.read().decode()
        while sent() < expected and time.monotonic() < deadline:
            time.sleep(0.25)
        all_sent = time.monotonic() - paging_began
        # Stop the workers before counting: nothing may still be on its way to the receiver.
        exit_codes = workers.stop()

        rows = db.execute("SELECT n.id, n.incident_id, u.email, n.reason, n.idempotency_key, n.state, n.attempts, "
                          "n.created_at, n.sent_at FROM paging_notification n JOIN accounts_user u ON u.id = n.user_id").fetchall()
        paged = db.execute("SELECT incident_id, data FROM incidents_timelineentry WHERE kind = 'paged' "
                           "ORDER BY at, id").fetchall()
        recorded = dict(db.execute("SELECT notification_id, count(*) FROM paging_deliveryattempt WHERE ok "
                                   "GROUP BY notification_id").fetchall())
        opened = db.execute("SELECT count(*) FROM incidents_incident").fetchone()[0]
        db.close()
    finally:
        receiver.close()
        workers.kill_all()
        if opener is not None and opener.poll() is None:
            os.killpg(opener.pid, signal.SIGKILL)
            opener.wait(timeout=10)

    logs = workers.logs()
    received = Counter(key for key, _ in receiver.deliveries)
    repeats = sum(n - 1 for n in received.values())
    # Every claim but the last of a page was lost with a killed worker (the receiver never fails).
    lost_claims = sum(row[6] - 1 for row in rows)
    held = Counter(key for _, _, key in done if key)
    # From the step that put a page in the outbox to its delivery being recorded.
    latency = sorted((when(row[8]) - when(row[7])).total_seconds() for row in rows if row[8] is not None)
    in_flight = sum(held.values())
    by_worker = Counter(sender.rstrip("0123456789") for _, sender in receiver.deliveries)
    print(f"\n{backend} (seed {SEED}): {len(done)} kills ({in_flight} mid-delivery) in the first {last_kill:.1f} s; "
          f"all {expected} pages sent {all_sent:.1f} s after the first incident opened "
          f"({time.monotonic() - began:.1f} s in all); {len(receiver.deliveries)} deliveries of {len(received)} keys, "
          f"{repeats} repeated, {len(receiver.truncated)} cut short by a kill; {lost_claims} claims lost with a killed worker "
          f"and sent again ({sum(log.count('was stuck in sending') for log in logs.values())} requeued); "
          f"{sum(n > 1 for n in recorded.values())} recorded as sent twice; by worker: {dict(by_worker)}; "
          f"outbox to sent: p50 {percentile(latency, 50):.2f} s, p99 {percentile(latency, 99):.2f} s, max {max(latency, default=float('nan')):.2f} s")

    assert len(done) >= kills // 2 + 1 and in_flight >= 2, done
    assert exit_codes and set(exit_codes.values()) == {0}, exit_codes  # SIGTERM stops a worker cleanly
    for name, log in logs.items():
        assert "Traceback" not in log and " ERROR " not in log, f"{name}:\n{log}"
    assert opened == incidents

    # The outbox: each page (incident x level) exactly once, to the level's responder, and sent.
    assert Counter(row[5] for row in rows) == {"sent": expected}
    assert len({row[4] for row in rows}) == len(rows) == expected
    pages = defaultdict(dict)
    for _, incident, email, reason, _, _, _, created, _ in rows:
        assert reason not in pages[incident], (incident, reason)
        pages[incident][reason] = (email, when(created))
    assert len(pages) == incidents
    for incident, levels in pages.items():
        assert {reason: email for reason, (email, _) in levels.items()} == {
            f"level {n + 1}": f"r{n}@kill.test" for n in range(LEVELS)}, incident
        # No restart made a level come early.
        for n in range(1, LEVELS):
            waited = (levels[f"level {n + 1}"][1] - levels[f"level {n}"][1]).total_seconds()
            assert waited >= DELAYS[n - 1], (incident, n, waited)
    assert len(recorded) == expected  # each has its successful attempt on record

    # The receiver: every key in the outbox arrived, nothing else did, and, deduplicating by key,
    # it processed each page once. Repeats (a worker killed after sending, before recording) are
    # allowed: at least once. A page caught in flight by a kill was claimed and sent again.
    assert receiver.rejected == []
    assert set(received) == {row[4] for row in rows}
    assert sorted(receiver.processed) == sorted(set(receiver.processed)) and len(receiver.processed) == expected
    attempts = {row[4]: row[6] for row in rows}
    for key, times in held.items():
        assert received[key] > times and attempts[key] > times, (key, times, received[key], attempts[key])
    assert repeats >= in_flight and lost_claims >= in_flight

    # Each incident's timeline shows its 3 levels paged, in order, once each.
    timeline = defaultdict(list)
    for incident, data in paged:
        timeline[incident].append((json.loads(data) if isinstance(data, str) else data)["reason"])
    assert Counter(tuple(reasons) for reasons in timeline.values()) == {
        tuple(f"level {n + 1}" for n in range(LEVELS)): incidents}
