"""Where the time of an ingestion request goes: the requests of bench/ingest.py, run in-process through
Vigil's WSGI application (what a Granian worker process calls, without Granian's HTTP server), under cProfile.

    python bench/profile_ingest.py                    # SQLite in a temporary data dir
    python bench/profile_ingest.py --requests 300 --top 40
    python bench/profile_ingest.py --pg               # a PostgreSQL database of its own, dropped after
    python bench/profile_ingest.py --case pd-new      # one case only (am-new, am-repeat, pd-group, pd-new)

Prints, per case: the in-process rate on one core without and with the profiler, the time per request
by layer (parse, key lookup, ingest and its steps, the rest of Django), the SQL statements per request
and the top functions by own and cumulative time. Changes nothing in the repository.
"""

import argparse
import cProfile
import io
import os
import pstats
import re
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=200, help="requests per case (after 20 warm-up requests)")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--case", choices=["am-new", "am-repeat", "pd-group", "pd-new"], action="append")
    p.add_argument("--pg", action="store_true", help="PostgreSQL (a database created and dropped here)")
    p.add_argument("--pg-url", default=os.environ.get("VIGIL_BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    p.add_argument("--sql", action="store_true", help="print the SQL of one request of each case")
    return p.parse_args(argv)


class Timers:
    """Wall time spent inside wrapped functions (outermost calls only), per name."""

    def __init__(self):
        self.total = defaultdict(float)
        self.depth = defaultdict(int)

    def wrap(self, module, name, label=None):
        original = getattr(module, name)
        label = label or name

        def timed(*args, **kwargs):
            self.depth[label] += 1
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.depth[label] -= 1
                if not self.depth[label]:
                    self.total[label] += time.perf_counter() - t0

        setattr(module, name, timed)
        return original


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    tmp = Path(tempfile.mkdtemp(prefix="vigil-profile-ingest-"))
    pg = None
    try:
        os.environ["VIGIL_DATA_DIR"] = str(tmp)
        os.environ.pop("VIGIL_DEBUG", None)
        os.environ["DJANGO_SETTINGS_MODULE"] = "vigil.settings"
        if args.pg:
            import ingest as bench

            pg = bench.Postgres(args.pg_url).create()
            os.environ["DATABASE_URL"] = pg.url
        else:
            os.environ.pop("DATABASE_URL", None)
        run(args, tmp)
    finally:
        if pg is not None:
            from django.db import connections

            connections.close_all()
            pg.drop()
        shutil.rmtree(tmp, ignore_errors=True)


def run(args, tmp):
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, reset_queries

    import ingest as bench
    from vigil.accounts.models import Team
    from vigil.alerts import actions, views
    from vigil.alerts import ingest as ingest_module
    from vigil.alerts.models import Alert
    from vigil.catalog.models import Service
    from vigil.incidents import actions as incident_actions
    from vigil.wsgi import application

    call_command("migrate", verbosity=0)
    engine = connection.vendor
    print(f"Database: {engine} ({connection.settings_dict['NAME']})")
    team = Team.objects.create(name="Profile", slug="profile")

    def make(kind, n):
        service = Service.objects.create(team=team, name=f"Profile {kind} {n}", slug=f"profile-{kind}-{n}")
        integration, key = actions.do_create_integration(service, actor=None, kind=kind, rate_limit_per_minute=0)
        return service, key

    def environ(path, body):
        return {
            "REQUEST_METHOD": "POST", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1:8000",
            "SERVER_PROTOCOL": "HTTP/1.1", "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": "127.0.0.1", "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }

    def post(path, body):
        status = []
        chunks = application(environ(path, body), lambda s, h, exc=None: status.append(s))
        out = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
        if not status[0].startswith("2"):
            raise RuntimeError(f"{path}: {status[0]} {out[:500]!r}")

    # Layers, timed from outside (the code under test is not changed).
    timers = Timers()
    from vigil.alerts.formats import alertmanager, pagerduty
    from vigil.alerts.models import Integration

    timers.wrap(Integration, "for_key")
    views.PARSERS["alertmanager"] = _timed(timers, "parse", alertmanager.parse)
    views.pagerduty = _Proxy(pagerduty, parse=_timed(timers, "parse", pagerduty.parse))
    views.decode = _timed(timers, "parse", views.decode)
    views.ingest = _timed(timers, "ingest", ingest_module.ingest)
    for name in ("_fire", "_resolve", "_known", "_open_incidents", "_upsert", "_attach"):
        timers.wrap(ingest_module, name, f"ingest.{name}")
    from vigil.alerts import caches

    timers.wrap(caches, "integration_for_key", "integration_for_key (cached)")
    timers.wrap(caches, "suppression", "suppression (cached)")
    incident_actions_create = incident_actions.do_create_incident
    ingest_module.incident_actions = _Proxy(incident_actions, do_create_incident=_timed(
        timers, "ingest.do_create_incident", incident_actions_create))

    cases = args.case or ["am-new", "am-repeat", "pd-group", "pd-new"]
    n = args.requests
    for name in cases:
        service, key = make("pagerduty" if name.startswith("pd-") else "alertmanager", name)
        if name.startswith("pd-"):
            path, template, per = "/v2/enqueue", bench.pd_body(0, key, group=name == "pd-group"), 1
        else:
            path, template, per = f"/hooks/alertmanager/{key}", bench.am_webhook_body(0), bench.BATCH
        bodies = bench.Bodies([template], unique=name != "am-repeat")
        print(f"\n=== {name}: {per} alert{'s' if per > 1 else ''} per request, {n} requests, one thread, {engine}")
        for _ in range(20):
            post(path, bodies.take(0))

        timers.total.clear()
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(n):
            post(path, bodies.take(0))
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"no profiler: {n / wall:,.0f} requests/s = {n * per / wall:,.0f} alerts/s in-process "
              f"({1000 * wall / n:.2f} ms wall, {1000 * cpu / n:.2f} ms CPU of this process per request)")
        print("time per request by layer (wall ms; nested layers are inside their parent):")
        for label, total in sorted(timers.total.items(), key=lambda kv: -kv[1]):
            print(f"  {label:<28} {1000 * total / n:7.2f} ms  {100 * total / wall:5.1f} %")
        rest = wall - timers.total.get("parse", 0) - timers.total.get("integration_for_key (cached)", 0) - timers.total.get("ingest", 0)
        print(f"  {'(Django, view, response)':<28} {1000 * rest / n:7.2f} ms  {100 * rest / wall:5.1f} %")

        # The statements, timed around the driver's execute (the database's work and the driver's; the ORM's
        # building of the SQL happens before, outside this time). Commits go through the connection, not here.
        m = min(n, 50)
        by_statement = defaultdict(lambda: [0, 0.0])
        last = []

        def timed_execute(execute, sql, params, many, context):
            t0 = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                spent = time.perf_counter() - t0
                key = re.sub(r'"s\d+_x\d+"', '"<savepoint>"', " ".join(sql.split()[:3]))[:70]
                by_statement[key][0] += 1
                by_statement[key][1] += spent
                last.append((spent, sql, params, many))

        commit_time = [0.0]
        original_commit = connection.commit
        connection_commit_timed = _timed_commit(connection, commit_time)
        with connection.execute_wrapper(timed_execute):
            t0 = time.perf_counter()
            try:
                for _ in range(m):
                    del last[:]
                    post(path, bodies.take(0))
            finally:
                connection_commit_timed()
            wall_q = time.perf_counter() - t0
        del original_commit
        statements = sum(c for c, _ in by_statement.values())
        sql_total = sum(t for _, t in by_statement.values())
        print(f"SQL per request: {statements / m:.1f} statements, {1000 * sql_total / m:.2f} ms in execute + "
              f"{1000 * commit_time[0] / m:.2f} ms in COMMIT, of {1000 * wall_q / m:.2f} ms per request:")
        for key, (count, total) in sorted(by_statement.items(), key=lambda kv: -kv[1][1]):
            print(f"  {count / m:5.1f} x {1000 * total / m:6.3f} ms  {key}")
        if args.sql:
            for _, sql, _, _ in last:
                print(f"    {sql[:240]}")
        spent, sql, params, many = max(last, key=lambda q: q[0])
        if sql.lstrip().upper().startswith("SELECT") and not many:
            explain = "EXPLAIN QUERY PLAN " if engine == "sqlite" else "EXPLAIN "
            with connection.cursor() as cursor:
                cursor.execute(explain + sql, params)
                plan = [" ".join(str(c) for c in row) for row in cursor.fetchall()]
            print(f"slowest statement of the last request ({1000 * spent:.2f} ms): {sql[:160]} ...")
            print("  plan: " + "\n        ".join(line[:200] for line in plan))

        profile = cProfile.Profile()
        t0 = time.perf_counter()
        profile.enable()
        for _ in range(n):
            post(path, bodies.take(0))
        profile.disable()
        wall_p = time.perf_counter() - t0
        print(f"under cProfile: {n * per / wall_p:,.0f} alerts/s")
        for order in ("tottime", "cumulative") if args.top > 0 else ():
            out = io.StringIO()
            stats = pstats.Stats(profile, stream=out).strip_dirs().sort_stats(order)
            stats.print_stats(args.top)
            text = out.getvalue()
            print(f"--- top {args.top} by {order}")
            print(text[text.index("   ncalls"):].rstrip())
        reset_queries()
        print(f"rows: {Alert.objects.filter(service=service).count():,} alerts")

    if engine == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT n_tup_ins, n_tup_upd, n_tup_hot_upd, last_autoanalyze FROM pg_stat_user_tables "
                           "WHERE relname = 'alerts_alert'")
            ins, upd, hot, analyzed = cursor.fetchone()
        print(f"\nalerts_alert in pg_stat_user_tables: {ins:,} inserted, {upd:,} updated, of which {hot:,} HOT "
              f"(heap-only: no index entries written); last autoanalyze {analyzed}")


def _timed_commit(connection, total):
    """Time the transaction commits on the connection (SQLite's WAL write, PostgreSQL's WAL flush); returns undo."""
    inner = connection.connection if connection.connection is not None else None
    original = connection._commit

    def timed():
        t0 = time.perf_counter()
        try:
            return original()
        finally:
            total[0] += time.perf_counter() - t0

    connection._commit = timed
    del inner

    def undo():
        connection._commit = original

    return undo


def _timed(timers, label, fn):
    holder = type("H", (), {})()
    setattr(holder, "fn", fn)
    timers.wrap(holder, "fn", label)
    return holder.fn


class _Proxy:
    """A module with some attributes replaced (the view and ingest look them up at call time)."""

    def __init__(self, module, **overrides):
        self._module, self._overrides = module, overrides

    def __getattr__(self, name):
        return self._overrides.get(name) or getattr(self._module, name)


if __name__ == "__main__":
    main()
