import ctypes
import os
import signal
import sys

from django.core.management.base import BaseCommand

from vigil.worker import Worker


class Command(BaseCommand):
    help = "Run the background worker loop (timers, escalations, deliveries) until SIGTERM."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run every job until nothing is due, then exit")

    def handle(self, once, **options):
        if os.environ.get("VIGIL_SERVE_PID"):
            _stop_with_serve(int(os.environ["VIGIL_SERVE_PID"]))
        worker = Worker()
        if once:
            while worker.run_once():
                pass
            return
        # Finish the unit in hand, then stop: nothing is claimed and left half done.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: worker.stop.set())
        worker.run_forever()


def _stop_with_serve(serve_pid):
    """Started by `vigil serve`: on Linux, get SIGTERM when it dies, even by SIGKILL, instead of
    running on alone (PR_SET_PDEATHSIG); and stop now if it is already gone."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux
        return
    if os.getppid() != serve_pid:
        sys.exit(0)
