"""`make bench`, ingestion: alerts per second accepted (2xx) and committed (counted in the database
afterwards) by Vigil, for Alertmanager webhook batches of 100 alerts and for single PagerDuty
Events v2 events, on SQLite and on PostgreSQL, with 1 and 4 keep-alive sender connections; and, in
the same run, the same batches against Debian's Alertmanager (`/api/v2/alerts`) on this machine,
with the ratio Vigil / Alertmanager. Written to docs/benchmarks.md (section `ingest`).

    python bench/ingest.py              # 2 s warm-up + 8 s measured per case; rewrites its section
    python bench/ingest.py --quick      # 1 s + 2 s per case; prints only (unless --write)
    python bench/run.py --only ingest   # the same through `make bench`'s entry point

Everything runs on 127.0.0.1 through the real CLI and HTTP endpoints: a fresh SQLite data dir in a
temporary folder, a PostgreSQL database of its own (created here, dropped at the end), and an
Alertmanager with a receiver that sends nowhere. Every process started here is stopped again, also
on error. The targets of issue 3 are reported (met or not), never asserted.
"""

import argparse
import http.client
import json
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402
import report  # noqa: E402
import run as common  # noqa: E402  (the API benchmark's helpers: CLI, API calls, quiet-machine wait)
from procs import HOST, SERVE_WORKERS, Server, free_port  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "benchmarks.md"
SECTION = "ingest"
BATCH = 100
CONNECTIONS = [1, 4]
PG_ADMIN_URL = os.environ.get("VIGIL_BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
AM_CONFIG = """\
# A receiver that sends nowhere: Alertmanager takes, stores (in memory) and groups the alerts.
route:
  receiver: blackhole
  group_by: ['alertname']
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
receivers:
  - name: blackhole
"""
# Targets written in issue 3, reported against the figures (not asserted).
TARGET_BATCH_SQLITE = 10_000
TARGET_RATIO = 0.25
TARGET_SINGLE_SQLITE = 1_000

say = common.say


# -- request bodies ---------------------------------------------------------------------------------------
#
# Bodies are serialised once per case and connection, with SEQ where the request's sequence number goes;
# each request costs the sender one bytes.replace, so that the sender is not what is measured.

SEQ = "@@@@@@@@@@@"  # 11 characters, replaced by the zero-padded sequence number of the request
STARTED = "2026-01-01T00:00:00.000000000Z"


def _labels(sender, i, alertname):
    return {"alertname": alertname, "shard": f"s{sender:02d}", "instance": f"host-{sender:02d}-{SEQ}-{i:03d}:9100",
            "job": "node", "severity": "warning"}


def _annotations(sender, i):
    return {"summary": f"Disk 91% full on host-{sender:02d}-{SEQ}-{i:03d}",
            "runbook_url": "https://runbooks.example/disk-full"}


def am_webhook_body(sender, n=BATCH, alertname="BenchLoad"):
    """Alertmanager's webhook (version 4) body, as Alertmanager 0.25 sends it: `n` firing alerts of one
    group (one group per sender), each with its own labels and fingerprint."""
    alerts = [{
        "status": "firing",
        "labels": _labels(sender, i, alertname),
        "annotations": _annotations(sender, i),
        "startsAt": STARTED,
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=disk_used_ratio+%3E+0.9",
        "fingerprint": f"{sender:02d}{SEQ}{i:03d}",  # 16 hex digits, like Alertmanager's
    } for i in range(n)]
    group = {"alertname": alertname, "shard": f"s{sender:02d}"}
    body = {
        "receiver": "vigil", "status": "firing", "alerts": alerts,
        "groupLabels": group,
        "commonLabels": {**group, "job": "node", "severity": "warning"},
        "commonAnnotations": {"runbook_url": "https://runbooks.example/disk-full"},
        "externalURL": "http://alertmanager.example:9093", "version": "4",
        "groupKey": "{}:{" + ", ".join(f'{k}="{v}"' for k, v in group.items()) + "}",
        "truncatedAlerts": 0,
    }
    return json.dumps(body, separators=(",", ":")).encode()


def am_api_body(sender, n=BATCH, alertname="BenchLoad"):
    """The same alerts as Prometheus posts them to Alertmanager's /api/v2/alerts."""
    alerts = [{
        "labels": _labels(sender, i, alertname),
        "annotations": _annotations(sender, i),
        "startsAt": "2026-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=disk_used_ratio+%3E+0.9",
    } for i in range(n)]
    return json.dumps(alerts, separators=(",", ":")).encode()


def pd_body(sender, routing_key, group=False):
    """One PagerDuty Events v2 trigger with its own dedup_key. Without `group`, no payload.group: each event
    opens an incident of its own (as in PagerDuty without alert grouping); with it, one group per sender, so
    a sender's events join one incident."""
    payload = {"summary": f"Checkout p99 above SLO on host-{sender:02d}-{SEQ}", "source": f"host-{sender:02d}-{SEQ}",
               "severity": "warning", "component": "checkout", "class": "latency",
               "custom_details": {"p99_ms": 870, "slo_ms": 500}}
    if group:
        payload["group"] = f"checkout-s{sender:02d}"
    body = {
        "routing_key": routing_key, "event_action": "trigger", "dedup_key": f"bench-{sender:02d}-{SEQ}",
        "payload": payload, "client": "Bench monitor", "client_url": "https://monitoring.example/bench",
    }
    return json.dumps(body, separators=(",", ":")).encode()


class Bodies:
    """Per sender connection: the template, and the next sequence number (new alerts) or a fixed body."""

    def __init__(self, templates, unique):
        self.templates = templates
        self.unique = unique
        self.next = [0] * len(templates)
        self.fixed = [t.replace(SEQ.encode(), b"%011d" % 0) for t in templates]

    def take(self, sender):
        if not self.unique:
            return self.fixed[sender]
        seq = self.next[sender]
        self.next[sender] = seq + 1
        return self.templates[sender].replace(SEQ.encode(), b"%011d" % seq)


# -- the load generator ---------------------------------------------------------------------------------

class Connection:
    """One keep-alive HTTP/1.1 connection that sends prepared bytes and reads the status and body back:
    the sender's CPU per single PagerDuty event went from 0.11 ms with http.client to 0.07 ms, on the same two
    cores as the server. Understands Content-Length and chunked answers."""

    def __init__(self, port, path):
        self.port = port
        self.head = (f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nUser-Agent: vigil-bench\r\n"
                     "Content-Type: application/json\r\nContent-Length: ").encode()
        self.sock = None

    def post(self, body):
        """(status, body). Raises OSError when the connection fails; then the next post reconnects."""
        if self.sock is None:
            self.sock = socket.create_connection((HOST, self.port), timeout=60)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.buf = b""
        try:
            self.sock.sendall(b"%s%d\r\n\r\n%s" % (self.head, len(body), body))
            head = self._until(b"\r\n\r\n")
            status = int(head[9:12])
            fields = {k.strip().lower(): v.strip() for k, _, v in
                      (line.partition(b":") for line in head.split(b"\r\n")[1:])}
            if fields.get(b"transfer-encoding", b"").lower() == b"chunked":
                raw = b""
                while size := int(self._until(b"\r\n").split(b";")[0], 16):
                    raw += self._take(size + 2)[:-2]
                self._until(b"\r\n")  # the empty trailer
            else:
                raw = self._take(int(fields.get(b"content-length", 0)))
            if fields.get(b"connection", b"").lower() == b"close":
                self.close()
            return status, raw
        except (ValueError, IndexError):
            self.close()
            raise OSError("malformed answer") from None
        except OSError:
            self.close()
            raise

    def _more(self):
        chunk = self.sock.recv(262144)
        if not chunk:
            raise ConnectionResetError("closed by the server")
        self.buf += chunk

    def _until(self, mark):
        while (i := self.buf.find(mark)) < 0:
            self._more()
        out, self.buf = self.buf[:i], self.buf[i + len(mark):]
        return out

    def _take(self, n):
        while len(self.buf) < n:
            self._more()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def drive(port, path, bodies, per_request, seconds, connections):
    """Closed loop: `connections` threads, one keep-alive connection each, each posting its next body when
    the previous answer is in, for `seconds`. A request under way at the deadline is finished and counted,
    so what the server took is exactly what is counted here."""
    lock = threading.Lock()
    gate = threading.Event()
    deadline = [0.0]
    latencies, statuses, errors, samples = [], Counter(), Counter(), []

    def sender(k):
        mine, my_status, my_err = [], Counter(), Counter()
        conn = Connection(port, path)
        gate.wait()
        while time.perf_counter() < deadline[0]:
            body = bodies.take(k)
            t0 = time.perf_counter()
            try:
                status, raw = conn.post(body)
            except OSError as e:
                my_err[type(e).__name__] += 1
                continue
            elapsed = time.perf_counter() - t0
            my_status[status] += 1
            if 200 <= status < 300:
                mine.append(elapsed)
            elif len(samples) < 3:
                samples.append(f"{status}: {raw[:300]!r}")
        conn.close()
        with lock:
            latencies.extend(mine)
            statuses.update(my_status)
            errors.update(my_err)

    threads = [threading.Thread(target=sender, args=(k,), daemon=True) for k in range(connections)]
    for t in threads:
        t.start()
    before = resource.getrusage(resource.RUSAGE_SELF)
    began = time.perf_counter()
    deadline[0] = began + seconds
    gate.set()
    for t in threads:
        t.join(timeout=seconds + 120)
    elapsed = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_SELF)
    latencies.sort()
    ms = [v * 1000 for v in latencies]
    ok = len(ms)
    return {
        "seconds": elapsed, "requests": ok, "alerts": ok * per_request,
        "rps": ok / elapsed, "aps": ok * per_request / elapsed,
        "p50": loadgen.percentile(ms, 50), "p99": loadgen.percentile(ms, 99),
        "max": ms[-1] if ms else float("nan"),
        "statuses": statuses, "errors": errors, "samples": samples,
        "non_2xx": sum(v for k, v in statuses.items() if not 200 <= k < 300),
        "client_cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
    }


def proc_cpu(pids):
    """user + system CPU seconds of each pid still alive."""
    ticks = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in pids:
        try:
            raw = Path(f"/proc/{pid}/stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        fields = raw[raw.rindex(")") + 2:].split()
        used[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return used


# -- PostgreSQL -----------------------------------------------------------------------------------------

class Postgres:
    """A database of our own on the local server: created at start, dropped (with its sessions) at the end."""

    def __init__(self, admin_url):
        import psycopg  # the project's dependency for PostgreSQL

        self.psycopg = psycopg
        self.admin_url = admin_url
        self.name = f"vigil_bench_ingest_{os.getpid()}"
        self.url = admin_url.rsplit("/", 1)[0] + "/" + self.name
        self.version = None
        self.created = False

    def _admin(self):
        return self.psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5)

    def create(self):
        with self._admin() as conn:
            self.version = conn.execute("SHOW server_version").fetchone()[0]
            conn.execute(f'CREATE DATABASE "{self.name}"')
            self.created = True
            settings = dict(conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN ('synchronous_commit', 'fsync', 'shared_buffers')"
            ).fetchall())
        self.settings = settings
        return self

    def backend_pids(self):
        with self._admin() as conn:
            rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.name]).fetchall()
        return [r[0] for r in rows]

    def drop(self):
        if not self.created:
            return
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self.created = False


# -- what is measured -----------------------------------------------------------------------------------

class Case:
    def __init__(self, name, title, kind, per_request, unique):
        self.name, self.title, self.kind, self.per_request, self.unique = name, title, kind, per_request, unique


VIGIL_CASES = [
    Case("am-new", f"Alertmanager webhook, {BATCH} new alerts per request", "alertmanager", BATCH, True),
    Case("am-repeat", f"Alertmanager webhook, the same {BATCH} alerts again (dedup)", "alertmanager", BATCH, False),
    # The PagerDuty cases come last: each pd-new event opens an incident (and an escalation for the job loop).
    Case("pd-group", "PagerDuty `/v2/enqueue`, 1 new event per request, joining its sender's incident",
         "pagerduty", 1, True),
    Case("pd-new", "PagerDuty `/v2/enqueue`, 1 new event per request, each opening an incident", "pagerduty", 1, True),
]
AM_CASES = [
    Case("am-new", f"`/api/v2/alerts`, {BATCH} new alerts per request", "alertmanager", BATCH, True),
    Case("am-repeat", f"`/api/v2/alerts`, the same {BATCH} alerts again", "alertmanager", BATCH, False),
]


class VigilTarget:
    """`vigil serve` or `vigil web` (+ `vigil worker`) on one database; each case gets a service of its own,
    so that its rows can be counted exactly."""

    def __init__(self, label, db_label, servers, port, token, pg=None):
        self.label, self.db_label, self.servers, self.port, self.token, self.pg = label, db_label, servers, port, token, pg
        self.team_id = None
        self.backends = []
        self.cases_made = 0

    def start(self):
        for server in self.servers:
            server.start()
        web = self.servers[0]
        web.wait_ready(web.expected_workers, job_loop=web.job_loop)
        self.team_id = common.expect(self.port, self.token, "POST", "/api/v1/teams",
                                     {"name": f"Ingest bench {secrets.token_hex(3)}"}, 201)["id"]

    def prepare(self, case, connections):
        self.cases_made += 1
        service = common.expect(self.port, self.token, "POST", "/api/v1/services",
                                {"name": f"Ingest {case.name} x{connections} #{self.cases_made}", "team_id": self.team_id}, 201)
        integration = common.expect(self.port, self.token, "POST", f"/api/v1/services/{service['id']}/integrations",
                                    {"kind": case.kind, "rate_limit_per_minute": 0}, 201)
        key = integration["key"]
        senders = range(10 * self.cases_made, 10 * self.cases_made + connections)  # distinct labels per case
        if case.kind == "pagerduty":
            path, templates = "/v2/enqueue", [pd_body(s, key, group=case.name == "pd-group") for s in senders]
        else:
            path, templates = f"/hooks/alertmanager/{key}", [am_webhook_body(s) for s in senders]
        return {"service_id": service["id"], "path": path, "bodies": Bodies(templates, case.unique)}

    def committed(self, prepared):
        """(alert rows, incidents) of the case's service, read back through the API after the runs."""
        sid = prepared["service_id"]
        alerts = common.expect(self.port, self.token, "GET", f"/api/v1/alerts?service_id={sid}&limit=1", None, 200)
        incidents = common.expect(self.port, self.token, "GET", f"/api/v1/incidents?service_id={sid}&limit=1", None, 200)
        return alerts["count"], incidents["count"]

    def pids(self):
        out = []
        for server in self.servers:
            out += [server.proc.pid, *server.child_pids()]  # `vigil serve`'s job loop too
        return out

    def note_backends(self):
        self.backends = self.pg.backend_pids() if self.pg else []

    def stop(self):
        for server in reversed(self.servers):
            server.stop()


class AlertmanagerTarget:
    def __init__(self, binary, workdir, version):
        self.binary, self.version = binary, version
        self.port = free_port()
        self.label = "Alertmanager"
        self.db_label = "in memory"
        (workdir / "am.yml").write_text(AM_CONFIG)
        argv = [binary, f"--config.file={workdir / 'am.yml'}", f"--storage.path={workdir / 'am-data'}",
                f"--web.listen-address={HOST}:{self.port}", "--cluster.listen-address=", "--log.level=warn"]
        self.servers = [Server(self.label, argv, dict(os.environ), workdir / "alertmanager.log", self.port)]
        self.backends = []
        self.cases_made = 0

    def start(self):
        self.servers[0].start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.servers[0].proc.poll() is not None:
                raise RuntimeError(f"alertmanager exited:\n{self.servers[0].log_tail()}")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/-/ready")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"alertmanager not ready:\n{self.servers[0].log_tail()}")

    def prepare(self, case, connections):
        self.cases_made += 1
        senders = range(10 * self.cases_made, 10 * self.cases_made + connections)
        alertname = "BenchLoad" if case.unique else "BenchRepeat"
        return {"path": "/api/v2/alerts", "bodies": Bodies([am_api_body(s, alertname=alertname) for s in senders], case.unique),
                "received_before": self.metrics()["received"]}

    def metrics(self):
        conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
        try:
            conn.request("GET", "/metrics")
            text = conn.getresponse().read().decode()
        finally:
            conn.close()
        received = sum(float(v) for v in re.findall(r'^alertmanager_alerts_received_total\{status="firing",version="v2"\} (\S+)$', text, re.M))
        held = sum(float(v) for v in re.findall(r'^alertmanager_alerts\{state="\w+"\} (\S+)$', text, re.M))
        return {"received": int(received), "held": int(held)}

    def committed(self, prepared):
        m = self.metrics()
        return m["received"] - prepared["received_before"], m["held"]

    def pids(self):
        return [self.servers[0].proc.pid]

    def note_backends(self):
        pass

    def stop(self):
        self.servers[0].stop()


def smoke(target, prepared, bodies):
    """One request by hand before the load: it must answer 2xx (else the figures would measure an error page)."""
    conn = http.client.HTTPConnection(HOST, target.port, timeout=60)
    try:
        conn.request("POST", prepared["path"], bodies.take(0), {"Content-Type": "application/json"})
        resp = conn.getresponse()
        raw = resp.read()
    finally:
        conn.close()
    if not 200 <= resp.status < 300:
        raise RuntimeError(f"POST {prepared['path']} answered {resp.status}: {raw[:1000]!r}")
    return resp.status


def run_case(target, case, connections, args):
    prepared = target.prepare(case, connections)
    bodies = prepared["bodies"]
    smoke(target, prepared, bodies)
    say(f"  {case.name} x{connections}: {case.title}; warm-up {args.warmup} s, then {args.duration} s ...")
    common.wait_for_quiet(args)
    warm = drive(target.port, prepared["path"], bodies, case.per_request, args.warmup, connections)
    accepted = warm["alerts"] + case.per_request  # + the smoke request
    failed = warm["non_2xx"] + sum(warm["errors"].values())
    target.note_backends()
    best = None
    for attempt in range(1, args.attempts + 1):
        if attempt > 1:
            common.wait_for_quiet(args)
        pids = target.pids()
        cpu0, pg0, busy0 = proc_cpu(pids), proc_cpu(target.backends), common.machine_busy_seconds()
        r = drive(target.port, prepared["path"], bodies, case.per_request, args.duration, connections)
        cpu1, pg1, busy = proc_cpu(pids), proc_cpu(target.backends), common.machine_busy_seconds() - busy0
        r["server_cpu"] = sum(cpu1[p] - cpu0.get(p, 0.0) for p in cpu1)
        r["db_cpu"] = sum(pg1[p] - pg0.get(p, 0.0) for p in pg1)
        r["other_cpu"] = max(0.0, busy - r["server_cpu"] - r["db_cpu"] - r["client_cpu"])
        accepted += r["alerts"]
        failed += r["non_2xx"] + sum(r["errors"].values())
        say(f"    -> {r['aps']:,.0f} alerts/s ({r['rps']:,.0f} req/s), p50 {r['p50']:.1f} ms, p99 {r['p99']:.1f} ms; "
            f"CPU: server {pct(r, 'server_cpu')}" + (f", PostgreSQL backends {pct(r, 'db_cpu')}" if target.backends else "")
            + f", load generator {pct(r, 'client_cpu')}, other {pct(r, 'other_cpu')}"
            + (f"; non-2xx {dict(r['statuses'])} {r['samples']}" if r["non_2xx"] else "")
            + (f"; socket errors {dict(r['errors'])}" if r["errors"] else ""))
        if best is None or r["other_cpu"] < best["other_cpu"]:
            best = r
        if r["other_cpu"] / r["seconds"] <= common.OTHER_CPU_LIMIT or attempt == args.attempts:
            break
        say(f"    other processes used {pct(r, 'other_cpu')} of a core: measuring again ({attempt + 1}/{args.attempts})")
    time.sleep(0.3)
    best["attempts"] = attempt
    best["accepted_total"] = accepted
    best["failed_total"] = failed
    rows, extra = target.committed(prepared)
    best["rows"], best["extra"] = rows, extra
    if isinstance(target, AlertmanagerTarget):
        best["expected"] = accepted
        best["check"] = rows == accepted
        say(f"    Alertmanager counted {rows:,} alerts received (accepted {accepted:,}); it holds {extra:,} alerts")
    else:
        expected = accepted if case.unique else BATCH * connections
        best["expected"] = expected
        # A request that failed on the wire may or may not have landed; without failures it must be exact.
        best["check"] = rows == expected if not failed else expected <= rows <= expected + failed * case.per_request
        say(f"    committed: {rows:,} alert rows in the database ({'as expected' if best['check'] else 'EXPECTED ' + format(expected, ',')}), "
            f"{extra:,} incidents; {accepted:,} alerts accepted over warm-up and runs")
    best["case"], best["connections"] = case, connections
    return best


def pct(r, key):
    return f"{100 * r[key] / r['seconds']:.0f} %"


# -- starting the targets ------------------------------------------------------------------------------

def find_alertmanager(install=True):
    path = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if path or not install:
        return path
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("prometheus-alertmanager is missing; installing the Debian package (apt-get install -y prometheus-alertmanager) ...")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        argv = ["apt-get", "install", "-y", "-qq", "prometheus-alertmanager"]
        try:
            if subprocess.run(argv, env=env, capture_output=True, timeout=600).returncode != 0:
                subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
                subprocess.run(argv, env=env, capture_output=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as e:
            say(f"  apt-get failed: {e}")
    return shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")


def alertmanager_version(binary):
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
    first = (out.stdout + out.stderr).strip().splitlines()[0]  # "alertmanager, version 0.25.0 (branch: ..., revision: ...)"
    m = re.search(r"version (\S+).*revision: ([^)]+)\)", first)
    return f"{m.group(1)} ({m.group(2)})" if m else first


def make_vigil_target(vigil, label, db_label, extra, workers, env, tmp, token, pg=None, with_worker=False):
    port = free_port()
    tag = re.sub(r"\W+", "-", f"{label}-{db_label}").strip("-")
    web = Server(label, [vigil, *extra, "--host", HOST, "--port", str(port)], env, tmp / f"{tag}.log", port)
    web.expected_workers = workers
    web.job_loop = extra[0] == "serve"  # `vigil serve` starts `vigil worker` as its child
    servers = [web]
    if with_worker:
        servers.append(Server("vigil worker", [vigil, "worker"], env, tmp / f"{tag}-worker.log", port))
    return VigilTarget(label, db_label, servers, port, token, pg)


def setup_user(vigil, env):
    """Migrate, a site admin, a token for it (`--password=`: a random password may start with "-")."""
    common.cli(vigil, env, "migrate")
    common.cli(vigil, env, "createuser", "bench@example.com", f"--password={secrets.token_urlsafe(18)}", "--admin")
    return common.cli(vigil, env, "token", "create", "--user", "bench@example.com", "--name", "bench").strip().splitlines()[-1].strip()


# -- docs/benchmarks.md ---------------------------------------------------------------------------------

def fmt_rate(v):
    return f"{v:,.0f}"


def verdict(ok):
    return "**met**" if ok else "**not met**"


def section(results, am_results, machine, when, commit, args, info):
    am_by = {(r["case"].name, r["connections"]): r for r in am_results}
    lines = [
        "## Alerts in: ingestion throughput",
        "",
        "- Command: `make bench` (runs `bench/run.py`, which runs `bench/ingest.py`; alone: `python bench/ingest.py`)",
        f"- Date: {when:%Y-%m-%d %H:%M} UTC" + (f", code at commit {commit}" if commit else ""),
        f"- Machine: {report.machine_line(machine)}",
        f"- Databases: SQLite {machine['sqlite']} (WAL, `synchronous=NORMAL`, Vigil's settings) in a fresh data dir; "
        + (f"PostgreSQL {info['pg_version']} on 127.0.0.1 (`synchronous_commit={info['pg_settings'].get('synchronous_commit')}`, "
           f"`fsync={info['pg_settings'].get('fsync')}`), a database made for the run and dropped after it."
           if info.get("pg_version") else "PostgreSQL: not measured (" + info.get("pg_skip", "skipped") + ")."),
        f"- Servers: `vigil serve` = {SERVE_WORKERS} Granian worker processes (4 threads each) and the `vigil worker` "
        "child process that runs the job loop (its CPU is counted in the server's); `vigil web --workers 2` = 2 such "
        "Granian worker processes without job loop, run beside a `vigil worker` process (its CPU is counted in the "
        "server's too). Access log off (the default).",
        f"- Alertmanager: Debian `prometheus-alertmanager` {info.get('am_version', 'n/a')}, `--cluster.listen-address=` "
        "(no gossip), a route to a receiver with no notifier; it keeps alerts in memory.",
        f"- Load: a Python load generator in the benchmark process (HTTP/1.1 written to the socket directly, one thread and one keep-alive "
        f"connection per sender, bodies serialised before the run), closed loop; loopback only, on the same "
        f"{machine['cpus']} CPUs as the servers. Per case a {args.warmup} s warm-up, then {args.duration} s measured.",
        f"- Bodies: Alertmanager webhook v4 with {BATCH} firing alerts (labels `alertname`, `shard`, `instance`, `job`, "
        "`severity`; summary and runbook annotations; 16-digit fingerprint), one alert group (`groupKey`) per sender "
        "connection, so each sender's alerts join one incident (the integration's default grouping). *new*: every "
        "request carries 100 alerts never seen before; *repeat*: each sender posts the same 100 alerts over and over "
        "(Alertmanager resending a group: the dedup path, only `last_seen` moves). PagerDuty: one `trigger` per request, "
        "each with a new `dedup_key`; *pd-group*: with a `payload.group` per sender, so a sender's events join one "
        "incident; *pd-new*: without, so each event opens an incident (with its timeline, audit entry and escalation, "
        "which the job loop then works on). Alertmanager gets the same "
        f"{BATCH} alerts per request as Prometheus posts them (labels, annotations, `startsAt`, `generatorURL`).",
        "- Each case has a service and an integration of its own (`rate_limit_per_minute: 0`).",
        "",
        "| target | database | case | senders | alerts/s | requests/s | p50 ms | p99 ms | non-2xx | committed | "
        "ratio to Alertmanager | server CPU | PostgreSQL CPU | load-gen CPU | other CPU |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        case = r["case"]
        am = am_by.get((case.name, r["connections"])) if case.kind == "alertmanager" else None
        ratio = f"{r['aps'] / am['aps']:.2f}" if am and am["aps"] else "—"
        unit = "event" if case.per_request == 1 else "alerts"
        committed = (f"{r['rows']:,} rows = {'accepted' if case.unique else 'distinct'} ✓" if r["check"]
                     else f"**{r['rows']:,} rows, expected {r['expected']:,}**")
        committed += f"; {r['extra']:,} incident{'s' if r['extra'] != 1 else ''}"
        lines.append(
            f"| `{r['target']}` | {r['db']} | {case.name} ({case.per_request} {unit}/request) | {r['connections']} | "
            f"**{fmt_rate(r['aps'])}** | {fmt_rate(r['rps'])} | {r['p50']:.1f} | {r['p99']:.1f} | {r['non_2xx']} | "
            f"{committed} | {ratio} | {pct(r, 'server_cpu')} | {pct(r, 'db_cpu') if r['db'] == 'PostgreSQL' else '—'} | "
            f"{pct(r, 'client_cpu')} | {pct(r, 'other_cpu')} |")
    for r in am_results:
        case = r["case"]
        committed = (f"{r['rows']:,} received = accepted ✓" if r["check"]
                     else f"**{r['rows']:,} received, accepted {r['expected']:,}**")
        lines.append(
            f"| Alertmanager {info.get('am_version', '').split(' ')[0]} | in memory | {case.name} ({BATCH} alerts/request) | "
            f"{r['connections']} | **{fmt_rate(r['aps'])}** | {fmt_rate(r['rps'])} | {r['p50']:.1f} | {r['p99']:.1f} | "
            f"{r['non_2xx']} | {committed} | — | {pct(r, 'server_cpu')} | — | {pct(r, 'client_cpu')} | {pct(r, 'other_cpu')} |")

    lines += ["", "Targets of issue 3 (for `vigil serve` on SQLite, the one-machine default), in this run:", ""]
    lines += targets_lines(results, am_by)
    lines += [
        "",
        "*alerts/s* counts alerts in requests answered 2xx during the measured run, divided by its length (the "
        "requests under way at the end are finished and counted). *committed*: after the runs the service's alert rows "
        "are counted through `GET /api/v1/alerts?service_id=…` (incidents through `/api/v1/incidents`): for *new*, "
        "the rows must equal every alert accepted over warm-up and runs; for *repeat*, "
        f"{BATCH} per sender. For Alertmanager, its `alertmanager_alerts_received_total` counter must equal the alerts "
        "accepted. CPU columns: user + system time over the measured run, in % of one core "
        f"({machine['cpus']} cores = {100 * int(machine['cpus'])} %): the server's processes (Granian's main process "
        "and its worker processes, `vigil worker`; Alertmanager), the PostgreSQL backends serving the bench database, the load "
        "generator, and everything else on the machine (from `/proc/stat`). A run during which other processes used "
        f"more than {common.OTHER_CPU_LIMIT:.0%} of a core is repeated (up to {args.attempts} runs; the least disturbed "
        "is shown). Ratio = Vigil's alerts/s over Alertmanager's in the same case and sender count.",
        "",
        "Durability differs: Vigil answers after its transaction commits (SQLite WAL with `synchronous=NORMAL` survives "
        "a crash of Vigil, not necessarily of the machine; PostgreSQL as configured above); Alertmanager answers once "
        "the alerts are in memory. These figures move between runs on a shared virtual machine: compare changes by "
        "running the benchmark before and after on the same machine.",
        "",
        "Where the time goes inside a request (per layer, per SQL statement, cProfile): "
        "`python bench/profile_ingest.py [--pg]`, which runs the same bodies in-process through Vigil's WSGI application. "
        "The work per request whatever else the machine runs (instructions counted by callgrind, SQL statements): "
        "`python bench/count_ingest.py [--pg]`.",
    ]
    return "\n".join(lines) + "\n"


def targets_lines(results, am_by):
    out = []
    sqlite_serve = [r for r in results if r["db"] == "SQLite" and r["target"] == "vigil serve"]
    for r in sqlite_serve:
        case = r["case"]
        if case.name == "am-new":
            am = am_by.get(("am-new", r["connections"]))
            ratio = r["aps"] / am["aps"] if am and am["aps"] else None
            out.append(f"- Batches of {BATCH} new alerts, {r['connections']} sender(s): {fmt_rate(r['aps'])} alerts/s "
                       f"(target ≥ {TARGET_BATCH_SQLITE:,}: {verdict(r['aps'] >= TARGET_BATCH_SQLITE)}); ratio to "
                       + (f"Alertmanager {ratio:.2f} (target ≥ {TARGET_RATIO}: {verdict(ratio >= TARGET_RATIO)})"
                          if ratio is not None else "Alertmanager: not measured"))
        elif case.name == "pd-group":
            out.append(f"- Single PagerDuty events (pd-group: new alerts joining their sender's incident, as the batch "
                       f"cases' alerts do), {r['connections']} sender(s): {fmt_rate(r['aps'])} events/s "
                       f"(target ≥ {TARGET_SINGLE_SQLITE:,}: {verdict(r['aps'] >= TARGET_SINGLE_SQLITE)})")
        elif case.name == "pd-new":
            out.append(f"- Single PagerDuty events each opening an incident (pd-new), {r['connections']} sender(s): "
                       f"{fmt_rate(r['aps'])} events/s (reported, not held to the target: each is a new incident with "
                       "its timeline, audit entry, escalation, SLA clocks and update reminder, which the job loop then pages)")
    if not all(r["check"] for r in results):
        out.append("- **Some cases did not commit exactly what was accepted: see the committed column.**")
    else:
        out.append("- Every accepted alert was found committed in the database, in every case.")
    return out


def chosen(cases, args):
    return [c for c in cases if not args.case or c.name in args.case]


# -- main -----------------------------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="1 s warm-up and 2 s runs; does not write the docs unless --write")
    p.add_argument("--write", action="store_true", help="write docs/benchmarks.md even with --quick")
    p.add_argument("--no-write", action="store_true", help="print the figures only")
    p.add_argument("--no-postgres", action="store_true", help="SQLite only")
    p.add_argument("--no-alertmanager", action="store_true", help="do not run Alertmanager")
    p.add_argument("--pg-url", default=PG_ADMIN_URL,
                   help="PostgreSQL server to create the bench database on (a database on it to connect to first)")
    p.add_argument("--attempts", type=int, default=2,
                   help="measured runs per case at most when other processes disturb it (the least disturbed is kept)")
    p.add_argument("--quiet-wait", type=float, default=90,
                   help="seconds in all the run may wait for other processes to go quiet before a measurement")
    p.add_argument("--keep", action="store_true", help="keep the temporary data dir and logs (the bench database is dropped)")
    p.add_argument("--case", action="append", choices=[c.name for c in VIGIL_CASES],
                   help="only this case (repeatable); Alertmanager runs the am-* ones given. Does not write the docs")
    args = p.parse_args(argv)
    args.warmup, args.duration = (1, 2) if args.quick else (2, 8)
    args.quiet_budget = 0 if args.quick else args.quiet_wait
    args.write_doc = not args.no_write and not args.case and (args.write or not args.quick)
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    machine, when, commit = report.machine(), report.utc_now(), report.git_commit(REPO)
    say(f"Vigil benchmark: alerts in per second ({'quick' if args.quick else 'full'} run)")
    say(f"Machine: {report.machine_line(machine)}")
    say(f"Date: {when:%Y-%m-%d %H:%M} UTC")

    vigil = common.vigil_exe()
    tmp = Path(tempfile.mkdtemp(prefix="vigil-bench-ingest-"))
    targets, pg, info = [], None, {}
    results, am_results = [], []
    try:
        env = common.bench_env(tmp / "data")
        say(f"SQLite data dir {tmp / 'data'}: vigil migrate, createuser, token create ...")
        token = setup_user(vigil, env)
        targets.append(make_vigil_target(vigil, "vigil serve", "SQLite", ["serve"], SERVE_WORKERS, env, tmp, token))

        if args.no_postgres:
            info["pg_skip"] = "--no-postgres"
        else:
            try:
                pg = Postgres(args.pg_url).create()
            except Exception as e:  # no server, no psycopg: say so and go on with SQLite
                info["pg_skip"] = f"no PostgreSQL at {args.pg_url}: {type(e).__name__}: {str(e).strip()[:120]}"
                say(f"PostgreSQL not measured: {info['pg_skip']}")
                pg = None
            if pg:
                info["pg_version"], info["pg_settings"] = pg.version, pg.settings
                pg_env = {**env, "DATABASE_URL": pg.url}
                say(f"PostgreSQL {pg.version}: database {pg.name}: vigil migrate, createuser, token create ...")
                pg_token = setup_user(vigil, pg_env)
                targets.append(make_vigil_target(vigil, "vigil serve", "PostgreSQL", ["serve"], SERVE_WORKERS, pg_env, tmp,
                                                 pg_token, pg))
                targets.append(make_vigil_target(vigil, "vigil web --workers 2", "PostgreSQL", ["web", "--workers", "2"], 2,
                                                 pg_env, tmp, pg_token, pg, with_worker=True))

        for target in targets:
            say(f"\n== {target.label} on {target.db_label}")
            try:
                target.start()
                say(f"  ready on {HOST}:{target.port}: pids {target.pids()}")
                for case in chosen(VIGIL_CASES, args):
                    for n in CONNECTIONS:
                        r = run_case(target, case, n, args)
                        r["target"], r["db"] = target.label, target.db_label
                        results.append(r)
            except Exception:
                for server in target.servers:
                    if server.proc is not None:
                        say(f"  {server.label} failed; the end of its log:\n" + server.log_tail(40))
                raise
            finally:
                target.stop()
                say(f"  stopped {target.label} on {target.db_label}")

        binary = None if args.no_alertmanager else find_alertmanager()
        if binary:
            info["am_version"] = alertmanager_version(binary)
            am = AlertmanagerTarget(binary, tmp, info["am_version"])
            targets.append(am)
            say(f"\n== Alertmanager {info['am_version']} on {HOST}:{am.port}")
            try:
                am.start()
                for case in chosen(AM_CASES, args):
                    for n in CONNECTIONS:
                        r = run_case(am, case, n, args)
                        r["target"], r["db"] = am.label, am.db_label
                        am_results.append(r)
            finally:
                am.stop()
                say("  stopped Alertmanager")
        else:
            say("\nAlertmanager not measured (no prometheus-alertmanager binary, and not root to install it)")

        say("\nFigures")
        text = section(results, am_results, machine, when, commit, args, info)
        say(text)
        if args.write_doc:
            report.write_section(DOC, SECTION, text)
            say(f"Wrote {DOC.relative_to(REPO)} (section <!-- bench:{SECTION} -->)")
        else:
            say("Not writing docs/benchmarks.md (quick run; add --write to write it anyway)")
        bad = [r for r in results + am_results if not r["check"] or r["non_2xx"] or r["errors"]]
        if bad:
            say(f"WARNING: {len(bad)} case(s) with non-2xx answers, socket errors or a committed count that differs")
        return results, am_results
    finally:
        for target in targets:
            target.stop()  # no-op for those already stopped
        if pg is not None:
            try:
                pg.drop()
                say(f"Dropped database {pg.name}")
            except Exception as e:
                say(f"Could not drop database {pg.name}: {e}")
        if args.keep:
            say(f"Kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
