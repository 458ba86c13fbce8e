"""The web server, embedded: `vigil web` runs N Granian worker processes; `vigil serve` runs them
and a `vigil worker` process beside them, started, restarted and stopped with the server.

Why Granian (ADR 0002): its HTTP server is Rust, so the Python processes only run Vigil. With
gunicorn's gthread workers, reading requests and writing answers in Python was the ceiling of
the status page (2,700 answers/s of fixed bytes per process) and a third of every small
ingestion request. Granian restarts a dead worker and drains requests on SIGTERM too.
"""

import logging
import os
import signal
import subprocess
import sys
import threading

from django.db import connections
from granian.constants import Interfaces
from granian.server import Server

log = logging.getLogger("vigil.server")

ACCESS_LOG_FORMAT = '%(addr)s "%(method)s %(path)s %(protocol)s" %(status)d %(dt_ms).1fms'


def run(host, port, workers, threads=4, with_job_loop=False, access_log=False):
    server = Server(
        "vigil.wsgi:application",
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        websockets=False,
        workers=workers,
        # Python threads per process: Django's ORM blocks, so a few requests wait on the database
        # while another runs.
        blocking_threads=threads,
        respawn_failed_workers=True,
        respawn_interval=1.0,
        workers_kill_timeout=20,
        # Off unless asked for: Granian writes it from Python, a fifth of a small request's time.
        log_access=access_log,
        log_access_format=ACCESS_LOG_FORMAT,
    )
    # Connections opened before the fork (migrations, checks) must not be shared with the workers.
    connections.close_all()
    job_loop = JobLoopProcess() if with_job_loop else None
    if job_loop:
        job_loop.start()
    try:
        server.serve()
    finally:
        if job_loop:
            job_loop.stop()


class JobLoopProcess:
    """`vigil worker` as a child of `vigil serve`: restarted if it dies, stopped after the unit in
    hand when the server stops. Work it has not finished stays due in the database."""

    def __init__(self):
        self.stopping = threading.Event()
        self.proc = None
        self.thread = threading.Thread(target=self._supervise, name="vigil-worker-supervisor", daemon=True)

    def start(self):
        self.thread.start()

    def _supervise(self):
        while not self.stopping.is_set():
            # -u: its log lines reach the terminal as they are written. close_fds=False lets Python
            # use posix_spawn: with fork, a Granian worker forked at the same moment inherited
            # the pipe on which Popen waits for the exec, and the wait never ended.
            self.proc = subprocess.Popen([sys.executable, "-u", "-m", "vigil.cli", "worker"], close_fds=False,
                                         env={**os.environ, "VIGIL_SERVE_PID": str(os.getpid())})
            code = self.proc.wait()
            if not self.stopping.is_set():
                log.warning("the job loop (vigil worker, pid %s) exited with %s; starting it again", self.proc.pid, code)
                self.stopping.wait(1.0)

    def stop(self):
        self.stopping.set()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.thread.join(timeout=5)

