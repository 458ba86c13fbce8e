import os

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from vigil.web import server


class Command(BaseCommand):
    help = "Run the web server and, beside it, the background worker (migrates first)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--access-log", action="store_true", help="log every request (method, path, status, time)")
        parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                            help="web processes (default: 2, or 1 on a one-CPU machine)")

    def handle(self, host, port, workers, access_log, **options):
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(f"Vigil on http://{host}:{port}/ (data in {settings.DATA_DIR}, database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]})")
        if not settings.SMTP_URL:
            self.stdout.write("VIGIL_SMTP_URL is not set: the email channel is disabled.")
        server.run(host, port, workers=workers, with_job_loop=True, access_log=access_log)
