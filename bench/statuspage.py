"""Status page under load: requests/s and latency of GET /status/{slug}/ and its summary.json with 50
concurrent keep-alive clients, against one `vigil serve` (SQLite), without and then with an alert
storm of 100 alerts/s into the same server. Writes docs/benchmarks.md (section `statuspage`).

    python bench/statuspage.py            # 3 s warm-up + 10 s per case
    python bench/statuspage.py --quick    # 1 s + 3 s, prints only (unless --write)

The storm: generic-webhook alerts with new dedup keys, paced at 100/s by a separate process-side
thread pool, grouped into one open incident of the page's service (as an Alertmanager storm is).
"""

import argparse
import http.client
import json
import secrets
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadgen  # noqa: E402
import report  # noqa: E402
import run as common  # noqa: E402
from procs import HOST, SERVE_WORKERS, Server, free_port  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
DOC = REPO / "docs" / "benchmarks.md"
SECTION = "statuspage"
SLUG = "bench"
TARGETS = [f"/status/{SLUG}/api/v2/summary.json", f"/status/{SLUG}/"]
CONNECTIONS = 50
STORM_RATE = 100
TARGET_RPS, TARGET_P99 = 2000, 50.0


def say(msg=""):
    print(msg, flush=True)


def seed(port, token):
    """A team, two services, a page with four components (two mapped), an open sev2 incident with a
    public update, and a generic integration grouping every alert into one incident."""
    expect = common.expect
    team = expect(port, token, "POST", "/api/v1/teams", {"name": "Bench"}, 201)
    shop = expect(port, token, "POST", "/api/v1/services", {"name": "Bench Shop", "team_id": team["id"]}, 201)
    api = expect(port, token, "POST", "/api/v1/services", {"name": "Bench API", "team_id": team["id"]}, 201)
    page = expect(port, token, "POST", "/api/v1/status-pages", {"slug": SLUG, "name": "Bench Status", "components": [
        {"name": "Storefront", "service_id": shop["id"], "group": "Customer facing"},
        {"name": "API", "service_id": api["id"], "group": "Customer facing"},
        {"name": "Help centre"}, {"name": "Email"}]}, 201)
    incident = expect(port, token, "POST", "/api/v1/incidents",
                      {"title": "Slow checkout", "service_id": shop["id"], "severity": "sev2"}, 201)
    expect(port, token, "POST", f"/api/v1/incidents/{incident['id']}/public-updates",
           {"status_page_id": page["id"], "status": "identified", "body": "Checkout is slow; a fix is on its way."}, 201)
    hook = expect(port, token, "POST", f"/api/v1/services/{api['id']}/integrations",
                  {"kind": "generic", "name": "storm", "grouping": "service"}, 201)
    return hook["url"].split("/hooks/", 1)[1]


class Storm:
    """Alerts at a fixed rate (open loop: sent on schedule whatever the answers' speed), by 8 threads."""

    def __init__(self, port, path, rate):
        self.port, self.path, self.rate = port, "/hooks/" + path, rate
        self.stop_event = threading.Event()
        self.statuses, self.sent, self.late = Counter(), 0, 0
        self.lock = threading.Lock()
        self.threads = []

    def start(self):
        self.began = time.perf_counter()
        for k in range(8):
            t = threading.Thread(target=self._send, args=(k,), daemon=True)
            t.start()
            self.threads.append(t)

    def _send(self, k):
        conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
        n = k
        while not self.stop_event.is_set():
            due = self.began + n / self.rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            elif wait < -1:
                with self.lock:
                    self.late += 1
            body = json.dumps({"summary": f"disk latency high on db-{n % 40}", "severity": "critical",
                               "dedup_key": f"storm-{n}", "source": f"db-{n % 40}"})
            try:
                conn.request("POST", self.path, body, {"Content-Type": "application/json"})
                resp = conn.getresponse()
                resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException) as e:
                status = type(e).__name__
                conn.close()
                conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
            with self.lock:
                self.statuses[status] += 1
                self.sent += 1
            n += 8
        conn.close()

    def stop(self):
        self.stop_event.set()
        for t in self.threads:
            t.join(timeout=60)
        return self.sent / (time.perf_counter() - self.began)


def measure(server, gen, path, args):
    gen.run(server.port, path, args.warmup, CONNECTIONS)
    cpu0, busy0 = server.cpu_seconds(), common.machine_busy_seconds()
    result = gen.run(server.port, path, args.duration, CONNECTIONS)
    cpu1 = server.cpu_seconds()
    result["server_cpu"] = sum(cpu1[p] - cpu0.get(p, 0.0) for p in cpu1)
    # Everything else on the machine (other users' work, and our storm's senders).
    result["other_cpu"] = max(0.0, common.machine_busy_seconds() - busy0 - result["server_cpu"] - result["client_cpu"])
    say(f"    {path}: {result['rps']:,.0f} req/s, p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms, "
        f"max {result['max']:.1f} ms; server CPU {100 * result['server_cpu'] / result['seconds']:.0f} % of a core, "
        f"load generator {100 * result['client_cpu'] / result['seconds']:.0f} %, "
        f"other processes {100 * result['other_cpu'] / result['seconds']:.0f} %"
        + (f"; errors {result['errors']}" if result["errors"] else "")
        + (f"; non-2xx/3xx {result['non_2xx_3xx']}" if result.get("non_2xx_3xx") else ""))
    return result


BASELINE_APP = """\
BODY = open(__file__.replace("baseline_app.py", "summary.json"), "rb").read()


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))])
    return [BODY]
"""


def baseline(tmp, env, gen, args, body):
    """The ceiling of the server itself: Granian as `vigil serve` runs it (WSGI, the same number of
    worker processes, 4 Python threads each, no websockets, access log off) answering the same bytes
    from a three-line WSGI app."""
    (tmp / "baseline_app.py").write_text(BASELINE_APP)
    (tmp / "summary.json").write_bytes(body)
    port = free_port()
    argv = [sys.executable, "-m", "granian", "--interface", "wsgi", "--workers", str(SERVE_WORKERS),
            "--blocking-threads", "4", "--no-ws", "--host", HOST, "--port", str(port), "--working-dir", str(tmp),
            "baseline_app:app"]
    server = Server("Granian baseline", argv, env, tmp / "baseline.log", port)
    try:
        server.start()
        server.wait_ready(SERVE_WORKERS)
        say("  baseline: a bare WSGI app under the same Granian settings")
        return measure(server, gen, "/baseline/summary.json", args)
    finally:
        server.stop()


def section(rows, storm_rates, machine, when, commit, gen, args):
    lines = [
        "## Status page under load",
        "",
        "- Command: `make bench` (runs `bench/run.py`, which runs `bench/statuspage.py`; alone: `python bench/statuspage.py`)",
        f"- Date: {when:%Y-%m-%d %H:%M} UTC" + (f", code at commit {commit}" if commit else ""),
        f"- Machine: {report.machine_line(machine)}; shared with other work, so figures are noisy: compare the two "
        "columns of one run rather than runs with each other",
        f"- Server: one `vigil serve` (Granian: {SERVE_WORKERS} worker processes, 4 Python threads each, access log "
        "off; and the `vigil worker` child process that runs the job loop), SQLite in a fresh data dir. Server CPU "
        "counts all of them.",
        f"- Load: {gen.describe(CONNECTIONS)}; {args.warmup:.0f} s warm-up, {args.duration:.0f} s measured per case",
        f"- Storm: generic-webhook alerts at {STORM_RATE}/s (new dedup keys, one incident), sent on schedule by 8 "
        f"threads while measuring; achieved " + ", ".join(f"{r:.0f}/s" for r in storm_rates),
        f"- Target: at least {TARGET_RPS:,} req/s for summary.json and p99 under {TARGET_P99:.0f} ms without the storm",
        "",
        "| path | storm | req/s | p50 ms | p99 ms | max ms | server CPU | other processes' CPU |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for path, storm, r in rows:
        path = "bare WSGI app under Granian, same bytes (baseline)" if path.startswith("/baseline") else f"`{path}`"
        lines.append(f"| {path} | {'100 alerts/s' if storm else 'none'} | {r['rps']:,.0f} | {r['p50']:.1f} | "
                     f"{r['p99']:.1f} | {r['max']:.1f} | {100 * r['server_cpu'] / r['seconds']:.0f} % | "
                     f"{100 * r['other_cpu'] / r['seconds']:.0f} % |")
    quiet = next(r for path, storm, r in rows if path == TARGETS[0] and not storm)
    base = rows[0][2]
    ok = quiet["rps"] >= TARGET_RPS and quiet["p99"] < TARGET_P99
    lines += ["", f"Target {'met' if ok else 'not met'} in this run: summary.json {quiet['rps']:,.0f} req/s, "
              f"p99 {quiet['p99']:.1f} ms without the storm; the bare WSGI app under the same Granian settings "
              f"answering the same bytes made {base['rps']:,.0f} req/s (p99 {base['p99']:.1f} ms) in the same run: "
              f"the status page reached {100 * quiet['rps'] / base['rps']:.0f} % of what the server itself can answer "
              "here (the rest: Vigil's own work per request, the `vigil worker` process on the same cores, and noise). "
              "CPU columns are shares of one core during the measured run (the machine has "
              f"{machine['cpus']}); a high share for other processes means the figures are depressed by other work.", "",
              "The page and its JSON are answered from memory by a small WSGI layer in front of Django "
              "(vigil/statuspage/cache.py), re-rendered only when the page's version moves; see docs/status-pages.md."]
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true")
    p.add_argument("--write", action="store_true")
    p.add_argument("--no-write", action="store_true")
    p.add_argument("--keep", action="store_true")
    args = p.parse_args(argv)
    args.warmup, args.duration = (1, 3) if args.quick else (3, 10)
    write = (args.write or not args.quick) and not args.no_write
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    machine, when, commit = report.machine(), report.utc_now(), report.git_commit(REPO)
    say(f"Vigil benchmark: status page, {CONNECTIONS} clients, with and without a {STORM_RATE} alerts/s storm")
    vigil = common.vigil_exe()
    tmp = Path(tempfile.mkdtemp(prefix="vigil-bench-sp-"))
    env = common.bench_env(tmp / "data")
    common.cli(vigil, env, "migrate")
    common.cli(vigil, env, "createuser", "bench@example.com", f"--password={secrets.token_urlsafe(18)}", "--admin")
    token = common.cli(vigil, env, "token", "create", "--user", "bench@example.com").strip().splitlines()[-1].strip()
    wrk = loadgen.find_wrk()
    gen = loadgen.Wrk(wrk, token, str(tmp)) if wrk else loadgen.PythonLoad(token)
    port = free_port()
    server = Server("vigil serve", [vigil, "serve", "--host", HOST, "--port", str(port)], env, tmp / "serve.log", port)
    rows, storm_rates = [], []
    try:
        server.start()
        server.wait_ready(SERVE_WORKERS, job_loop=True)
        hook = seed(port, token)
        for path in TARGETS:
            status, raw = common.api(port, token, "GET", path)
            if status != 200:
                raise RuntimeError(f"GET {path}: {status} {raw[:300]!r}")
        rows.append(("/baseline/summary.json", False, baseline(tmp, env, gen, args, common.api(port, token, "GET", TARGETS[0])[1])))
        for storm in (False, True):
            say(f"  {'with' if storm else 'without'} the storm")
            s = Storm(port, hook, STORM_RATE) if storm else None
            if s:
                s.start()
            try:
                for path in TARGETS:
                    rows.append((path, storm, measure(server, gen, path, args)))
            finally:
                if s:
                    storm_rates.append(s.stop())
                    say(f"    storm: {storm_rates[-1]:.0f} alerts/s achieved, answers {dict(s.statuses)}")
        text = section(rows, storm_rates, machine, when, commit, gen, args)
        say("\n" + text)
        if write:
            report.write_section(DOC, SECTION, text)
            say(f"Wrote {DOC.relative_to(REPO)} (section <!-- bench:{SECTION} -->)")
    except Exception:
        say("failed; the end of the server log:\n" + server.log_tail(40))
        raise
    finally:
        server.stop()
        if args.keep:
            say(f"Kept {tmp}")


if __name__ == "__main__":
    main()
