from django.core.management.base import BaseCommand

from vigil.web import server


class Command(BaseCommand):
    help = "Run only the web server (scale out with several of these and `vigil worker`)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--access-log", action="store_true", help="log every request (method, path, status, time)")
        parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
        parser.add_argument("--threads", type=int, default=4, help="threads per worker process (default 4)")

    def handle(self, host, port, workers, threads, access_log, **options):
        server.run(host, port, workers=workers, threads=threads, access_log=access_log)
