import signal

from django.core.management.base import BaseCommand

from vigil.worker import Worker


class Command(BaseCommand):
    help = "Run the background worker loop (timers, escalations, deliveries) until SIGTERM."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run every job until nothing is due, then exit")

    def handle(self, once, **options):
        worker = Worker()
        if once:
            while worker.run_once():
                pass
            return
        # Finish the unit in hand, then stop: nothing is claimed and left half done.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: worker.stop.set())
        worker.run_forever()
