"""The background worker loop, shared by `vigil worker` and `vigil serve`.

Apps register jobs with `@job`. A job does one unit of due work and returns True if it did
something, False when nothing was due; the loop calls it again while it returns True, so a
backlog drains at full speed and an idle worker sleeps. Each unit is claimed and finished in
its own transaction (the database is the queue), so stopping between units loses nothing.
"""

import contextlib
import hashlib
import logging
import select
import socket
import threading
import time

from django.conf import settings
from django.db import close_old_connections, transaction

log = logging.getLogger("vigil.worker")

JOBS = []
# Set when new work was committed in this process, so that a page goes out at once instead of at
# the next poll. Other processes on the machine (`vigil serve`'s web processes, or
# `vigil web` beside a `vigil worker`) reach the job loop by a datagram on a Unix socket named
# after the database; where there is no such socket, the loop finds the work at its next poll.
_wake = threading.Event()
_sender = []


def job(fn):
    JOBS.append(fn)
    return fn


@contextlib.contextmanager
def claim_one(due, order_by=(), of=("self",)):
    """The first row of the queryset `due`, locked (SKIP LOCKED: workers share the work), in a
    transaction that lasts the with block; None when nothing is due.

    It first asks without a transaction: on SQLite a transaction takes the database's write lock
    when it begins (BEGIN IMMEDIATE, ADR 3), and an idle pass that opened one per job every 0.25 s
    held up alert ingestion."""
    if not due.exists():
        yield None
        return
    with transaction.atomic():
        yield due.select_for_update(skip_locked=True, of=of).order_by(*order_by).first()


def wake_address():
    """The job loop's socket: Linux's abstract namespace (no file to clean up), one per database."""
    db = settings.DATABASES["default"]
    ident = "|".join(str(db.get(k) or "") for k in ("ENGINE", "HOST", "PORT", "NAME"))
    return "\0vigil-worker-" + hashlib.sha256(ident.encode()).hexdigest()[:32]


def wake():
    _wake.set()
    try:
        if not _sender:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sock.setblocking(False)
            _sender.append(sock)
        _sender[0].sendto(b"!", wake_address())
    except OSError:  # no job loop listening (or not Linux): it polls
        pass


def _listen():
    """The wake socket, if this loop is the first on the machine to claim it."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        sock.bind(wake_address())
    except OSError:
        sock.close()
        return None
    sock.setblocking(False)
    return sock


def job_name(fn):
    """"comms.deliver_due_message": the app and the function, as two apps may name a job alike."""
    return f"{fn.__module__.split('.')[-2]}.{fn.__name__}"


class Worker:
    def __init__(self, stop=None, idle_seconds=0.25, burst=100):
        self.stop = stop or threading.Event()
        self.idle_seconds = idle_seconds
        # A job that always has work must not starve the others: at most `burst` units in a row.
        self.burst = burst

    def run_once(self):
        """Run every job until it has nothing due (or the burst is spent). True if any did work."""
        did_work = False
        for fn in JOBS:
            for _ in range(self.burst):
                if self.stop.is_set():
                    return did_work
                try:
                    if not fn():
                        break
                except Exception:
                    # One failing job must not stop paging; its unit stays due and is retried.
                    log.exception("job %s failed", job_name(fn))
                    break
                did_work = True
            close_old_connections()
        return did_work

    def run_forever(self):
        log.info("worker started with %d jobs: %s", len(JOBS), ", ".join(map(job_name, JOBS)) or "none yet")
        listener = _listen()
        try:
            while not self.stop.is_set():
                started = time.monotonic()
                if not self.run_once():
                    self._sleep(listener, max(0.0, self.idle_seconds - (time.monotonic() - started)))
        finally:
            if listener is not None:
                listener.close()
        log.info("worker stopped")

    @staticmethod
    def _sleep(listener, seconds):
        """Until the poll interval is over or someone wakes the loop."""
        if listener is None:
            _wake.wait(seconds)
        elif select.select([listener], [], [], seconds)[0]:
            try:
                while listener.recv(64):  # one pass answers every wake that came in meanwhile
                    pass
            except BlockingIOError:
                pass
        _wake.clear()
