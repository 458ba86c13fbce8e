"""Servers the benchmark starts: start, wait until ready, read their memory, stop them for sure."""

import http.client
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

HOST = "127.0.0.1"  # the benchmark only ever targets loopback
# `vigil serve`'s default --workers (vigil/web/management/commands/serve.py): 2, or 1 on a one-CPU machine.
SERVE_WORKERS = min(2, os.cpu_count() or 1)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _stat(pid):
    """(state, ppid, pgrp) of a process from /proc/<pid>/stat, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = raw[raw.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[2])


def _all_pids():
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _status_kib(pid, key):
    """A `kB` field of /proc/<pid>/status (e.g. VmRSS), or None."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def _pss_kib(pid):
    """Proportional set size (shared pages divided among their sharers), or None if unavailable."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return None


class Server:
    """One `vigil serve` / `vigil web` process tree. The process we start is Granian's main process; its
    children are the Granian worker processes (forked) and, for `vigil serve`, the `vigil worker` process
    that runs the job loop."""

    def __init__(self, label, argv, env, log_path, port):
        self.label = label
        self.argv = argv
        self.env = env
        self.log_path = Path(log_path)
        self.port = port
        self.proc = None
        self._log = None

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self):
        self._log = open(self.log_path, "ab")
        # Its own session and process group: a Ctrl-C on the terminal reaches only us, and we stop it.
        self.proc = subprocess.Popen(
            self.argv, env=self.env, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def wait_ready(self, workers, job_loop=False, timeout=60.0):
        """Until /healthz answers 200 and the main process has its `workers` Granian worker processes
        (and, with `job_loop`, its `vigil worker` child)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.label} exited with {self.proc.returncode}:\n{self.log_tail()}")
            if (len(self.worker_pids()) >= workers and (not job_loop or self.job_loop_pid() is not None)
                    and self._healthz()):
                return
            time.sleep(0.2)
        raise RuntimeError(f"{self.label} not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def _healthz(self):
        conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()

    def stop(self, timeout=30.0):
        """SIGTERM (Granian drains and stops its workers, then `vigil serve` stops its job loop), wait;
        SIGKILL the group on timeout."""
        if self.proc is None:
            return
        pgid = self.proc.pid  # start_new_session: the main process leads its own group
        try:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    print(f"  {self.label}: no exit {timeout:.0f} s after SIGTERM, killing it", flush=True)
                    os.killpg(pgid, signal.SIGKILL)
                    self.proc.wait(timeout=10)
            # Anything left in its group (a child that outlived the main process) goes too, by pid.
            deadline = time.monotonic() + 5
            while leftovers := [p for p in _all_pids() if (st := _stat(p)) and st[2] == pgid and st[0] != "Z"]:
                if time.monotonic() > deadline:
                    for pid in leftovers:
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                    break
                time.sleep(0.1)
        finally:
            if self._log:
                self._log.close()
                self._log = None

    # -- introspection -----------------------------------------------------------------------------

    def child_pids(self):
        """Every live child of the main process: the Granian workers and, for `vigil serve`, the job loop."""
        main = self.proc.pid
        return sorted(p for p in _all_pids() if (st := _stat(p)) and st[1] == main and st[0] != "Z")

    def job_loop_pid(self):
        """The `vigil worker` child that `vigil serve` starts (`python -u -m vigil.cli worker`), or None."""
        for pid in self.child_pids():
            try:
                args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue
            if b"vigil.cli" in args and b"worker" in args:
                return pid
        return None

    def worker_pids(self):
        """The Granian worker processes: the children but the job loop."""
        job_loop = self.job_loop_pid()
        return [p for p in self.child_pids() if p != job_loop]

    def memory(self):
        """{'main': (pid, rss, pss), 'workers': [(pid, rss, pss), ...], 'job_loop': (pid, rss, pss) or None,
        'rss': sum, 'pss': sum} in KiB."""
        main, job_loop = self.proc.pid, self.job_loop_pid()
        parts = {"main": (main, _status_kib(main, "VmRSS"), _pss_kib(main)),
                 "workers": [(p, _status_kib(p, "VmRSS"), _pss_kib(p)) for p in self.worker_pids()],
                 "job_loop": (job_loop, _status_kib(job_loop, "VmRSS"), _pss_kib(job_loop)) if job_loop else None}
        every = [parts["main"], *parts["workers"], *([parts["job_loop"]] if job_loop else [])]
        parts["rss"] = sum(rss or 0 for _, rss, _ in every)
        pss = [pss for _, _, pss in every]
        parts["pss"] = sum(pss) if all(v is not None for v in pss) else None
        return parts

    def settled_memory(self, min_wait=2.0, max_wait=15.0, window=2.0):
        """Memory once the summed RSS has stayed within 1 % (or 256 KiB) for `window` seconds."""
        started = time.monotonic()
        samples = []
        while True:
            now = time.monotonic()
            mem = self.memory()
            samples.append((now, mem["rss"]))
            recent = [rss for t, rss in samples if t >= now - window]
            steady = now - samples[0][0] >= window and max(recent) - min(recent) <= max(256, 0.01 * mem["rss"])
            if now - started >= min_wait and steady:
                mem["settled_after"] = now - started
                return mem
            if now - started >= max_wait:
                mem["settled_after"] = None  # still moving; report what we have
                return mem
            time.sleep(0.25)

    def cpu_seconds(self):
        """{pid: user + system CPU seconds so far} for the main process and its live children (the
        Granian workers and, for `vigil serve`, the job loop)."""
        ticks = os.sysconf("SC_CLK_TCK")
        used = {}
        for pid in [self.proc.pid, *self.child_pids()]:
            try:
                raw = Path(f"/proc/{pid}/stat").read_text()
            except (FileNotFoundError, ProcessLookupError):
                continue
            fields = raw[raw.rindex(")") + 2:].split()
            used[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        return used

    def log_offset(self):
        self._log.flush()
        return self.log_path.stat().st_size

    def log_text(self, start=0):
        with open(self.log_path, "rb") as f:
            f.seek(start)
            return f.read().decode("utf-8", "replace")

    def log_tail(self, lines=30):
        return "\n".join(self.log_text().splitlines()[-lines:])
