"""`vigil check`: Django's system checks, then whether this Vigil is doing its job: the database
answers and the worker is not behind (no timer overdue by more than --max-lag seconds).

Exit status: 0 all well; 1 the worker is behind; 2 the database is unreachable (and Django's own
system check errors exit 1 as before). Meant for cron, a load balancer or systemd's watchdog."""

import sys

from django.core.management.base import CommandError
from django.core.management.commands import check as django_check
from django.db import DatabaseError, connection

from vigil.selfwatch.timers import lag


class Command(django_check.Command):
    help = "Run Django's system checks, then check that the database answers and the worker keeps up."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--max-lag", type=float, default=60.0, metavar="SECONDS",
                            help="how long a due timer may wait for the worker before it counts as behind (default 60)")
        parser.add_argument("--system-only", action="store_true", help="only Django's system checks")

    def handle(self, *app_labels, max_lag, system_only, **options):
        if options.get("list_tags") or system_only:
            return super().handle(*app_labels, **options)
        if max_lag <= 0:
            raise CommandError("--max-lag must be positive")
        # Only the checks that need no database: if it is down we say so in our own words below.
        options["databases"] = []
        super().handle(*app_labels, **options)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            lags = lag()
        except DatabaseError as e:
            self.stderr.write(f"CRITICAL: the database is unreachable: {str(e).strip() or e.__class__.__name__}")
            sys.exit(2)
        name, worst = max(lags.items(), key=lambda item: item[1])
        if worst > max_lag:
            self.stderr.write(f"CRITICAL: the worker is behind: the oldest due {name} timer has waited {worst:.0f} s "
                              f"(more than {max_lag:g} s). Is `vigil worker` (or `vigil serve`) running?")
            sys.exit(1)
        self.stdout.write(f"OK: database answers ({connection.vendor}); worker keeps up "
                          f"(oldest due timer waited {worst:.1f} s, limit {max_lag:g} s)")
