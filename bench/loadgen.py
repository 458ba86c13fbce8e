"""Load generators: wrk when it is installed (C, epoll: one thread drives 8 connections with a small
share of one core), else a Python fallback (http.client, keep-alive, one thread per connection).

Both are closed-loop: each connection sends its next request when the previous answer is in, so
req/s is what the server sustains at that concurrency and the latencies are per request.
Both return the same dict: requests, seconds, rps, p50/p90/p99/max in milliseconds, errors.
"""

import http.client
import json
import os
import resource
import shutil
import subprocess
import threading
import time

from procs import HOST


def find_wrk(install=True):
    """The wrk binary; installs Debian's package when missing and we are root (allowed to apt-get)."""
    path = shutil.which("wrk")
    if path or not install:
        return path
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is missing; installing the Debian package `wrk` (apt-get install -y wrk) ...", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        try:
            done = subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, capture_output=True, timeout=300)
            if done.returncode != 0:  # the package lists may be missing on a fresh machine
                subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=300)
                subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, capture_output=True, timeout=300)
        except (OSError, subprocess.TimeoutExpired) as e:
            print(f"  apt-get failed: {e}", flush=True)
    return shutil.which("wrk")


def wrk_version(wrk):
    out = subprocess.run([wrk, "-v"], capture_output=True, text=True, timeout=10)
    first = (out.stdout + out.stderr).strip().splitlines()[0]
    # "wrk debian/4.1.0-3+b2 [epoll] Copyright (C) 2012 Will Glozer"
    return first.split(" Copyright")[0]


# done() prints one machine-readable line; latencies come in microseconds.
_LUA = """\
wrk.headers["Authorization"] = "Bearer %(token)s"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %%.0f, "duration_us": %%.0f, "bytes": %%.0f, "connect": %%.0f, "read": %%.0f, ' ..
    '"write": %%.0f, "status": %%.0f, "timeout": %%.0f, "p50_us": %%.0f, "p90_us": %%.0f, "p99_us": %%.0f, ' ..
    '"max_us": %%.0f, "mean_us": %%.1f}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


class Wrk:
    def __init__(self, wrk, token, workdir):
        self.wrk = wrk
        self.version = wrk_version(wrk)
        self.script = os.path.join(workdir, "auth.lua")
        with open(self.script, "w") as f:
            f.write(_LUA % {"token": token})
        os.chmod(self.script, 0o600)

    def describe(self, connections):
        return f"wrk ({self.version}), 1 thread, {connections} keep-alive connections, `--latency`, Lua script adding the bearer token"

    def run(self, port, path, seconds, connections):
        url = f"http://{HOST}:{port}{path}"
        argv = [self.wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency", "-s", self.script, url]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        line = next((l for l in out.stdout.splitlines() if l.startswith("BENCH_JSON ")), None)
        if out.returncode != 0 or line is None:
            raise RuntimeError(f"wrk failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
        r = json.loads(line[len("BENCH_JSON "):])
        secs = r["duration_us"] / 1e6
        return {
            "requests": int(r["requests"]), "seconds": secs, "rps": r["requests"] / secs,
            "p50": r["p50_us"] / 1000, "p90": r["p90_us"] / 1000, "p99": r["p99_us"] / 1000, "max": r["max_us"] / 1000,
            "errors": {k: int(r[k]) for k in ("connect", "read", "write", "timeout") if r[k]},
            "non_2xx_3xx": int(r["status"]),
            "client_cpu": cpu,
            "raw": out.stdout,
        }


def percentile(sorted_values, q):
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, -(-len(sorted_values) * q // 100))  # ceil(n*q/100)
    return sorted_values[int(rank) - 1]


class PythonLoad:
    """Fallback: N threads, each one keep-alive http.client connection, for a fixed duration."""

    version = "python http.client"

    def __init__(self, token):
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def describe(self, connections):
        return (f"Python fallback load generator (http.client, {connections} threads, one keep-alive connection "
                "each; wrk not used), whose own CPU use competes with the server's")

    def run(self, port, path, seconds, connections):
        latencies, statuses, errors = [], {}, {}
        lock = threading.Lock()
        start_gate = threading.Event()
        deadline = [0.0]

        def client():
            mine, my_status, my_err = [], {}, {}
            conn = http.client.HTTPConnection(HOST, port, timeout=10)
            start_gate.wait()
            while True:
                t0 = time.perf_counter()
                if t0 >= deadline[0]:
                    break
                try:
                    conn.request("GET", path, headers=self.headers)
                    resp = conn.getresponse()
                    resp.read()
                except (OSError, http.client.HTTPException) as e:
                    my_err[type(e).__name__] = my_err.get(type(e).__name__, 0) + 1
                    conn.close()
                    conn = http.client.HTTPConnection(HOST, port, timeout=10)
                    continue
                mine.append(time.perf_counter() - t0)
                my_status[resp.status] = my_status.get(resp.status, 0) + 1
                if resp.will_close:
                    conn.close()
                    conn = http.client.HTTPConnection(HOST, port, timeout=10)
            conn.close()
            with lock:
                latencies.extend(mine)
                for k, v in my_status.items():
                    statuses[k] = statuses.get(k, 0) + v
                for k, v in my_err.items():
                    errors[k] = errors.get(k, 0) + v

        threads = [threading.Thread(target=client, daemon=True) for _ in range(connections)]
        for t in threads:
            t.start()
        before = resource.getrusage(resource.RUSAGE_SELF)
        began = time.perf_counter()
        deadline[0] = began + seconds
        start_gate.set()
        for t in threads:
            t.join(timeout=seconds + 30)
        elapsed = time.perf_counter() - began
        after = resource.getrusage(resource.RUSAGE_SELF)
        latencies.sort()
        ms = [v * 1000 for v in latencies]
        return {
            "requests": len(ms), "seconds": elapsed, "rps": len(ms) / elapsed,
            "p50": percentile(ms, 50), "p90": percentile(ms, 90), "p99": percentile(ms, 99),
            "max": ms[-1] if ms else float("nan"),
            "errors": errors,
            "non_2xx_3xx": sum(v for k, v in statuses.items() if not 200 <= k < 400),
            "client_cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            "raw": f"statuses {statuses} errors {errors}",
        }
