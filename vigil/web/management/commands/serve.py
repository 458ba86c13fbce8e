from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from vigil.web import server


class Command(BaseCommand):
    help = "Run the web server and the background worker in one process (migrates first)."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, host, port, **options):
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(f"Vigil on http://{host}:{port}/ (data in {settings.DATA_DIR}, database {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]})")
        if not settings.SMTP_URL:
            self.stdout.write("VIGIL_SMTP_URL is not set: the email channel is disabled.")
        server.run(host, port, workers=1, with_job_loop=True)
