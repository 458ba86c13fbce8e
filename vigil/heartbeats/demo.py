"""Demo heartbeats (`vigil demo`): a nightly ETL that ran, a backup that failed last night."""

from datetime import timedelta

from django.utils import timezone

from .actions import do_create_heartbeat, record_ping
from .models import Heartbeat


def load(service, *, actor):
    now = timezone.now()
    etl = do_create_heartbeat(service, actor=actor, name="Nightly ETL", kind=Heartbeat.Kind.CRON, cron="0 2 * * *",
                              time_zone="Europe/Berlin", grace=timedelta(hours=1),
                              description="Loads yesterday's orders into the warehouse.")
    backup = do_create_heartbeat(service, actor=actor, name="Database backup", period=timedelta(days=1),
                                 grace=timedelta(hours=2))
    # The last two 02:00s in Berlin, so that it is up now.
    last = now.astimezone(etl.zone).replace(hour=2, minute=0, second=0, microsecond=0)
    if last > now:
        last -= timedelta(days=1)
    for days in (1, 0):
        ran = last - timedelta(days=days)
        record_ping(etl.uuid, kind="start", method="POST", user_agent="vigil-run", now=ran)
        record_ping(etl.uuid, kind="success", exit_status=0, method="POST", user_agent="vigil-run",
                    body=b"extracted 18204 orders\nloaded 18204 rows into fact_orders\n", body_size=58,
                    now=ran + timedelta(minutes=7))
    record_ping(backup.uuid, kind="success", method="GET", user_agent="curl/8.5.0", now=now - timedelta(days=1, hours=3))
    log = b"pg_dump: dumping contents of table public.orders\npg_dump: error: could not write to output file: No space left on device\n"
    record_ping(backup.uuid, kind="fail", exit_status=1, method="POST", user_agent="vigil-run", body=log,
                body_size=len(log), now=now - timedelta(hours=3))
    return [f"{service.name}: heartbeat {etl.name} -> {etl.ping_url}", f"{service.name}: heartbeat {backup.name} -> {backup.ping_url}"]
