"""Instructions and SQL statements per ingestion request: a measure of the server's work that, unlike a
rate, does not move with what else runs on the machine. For comparing a change before and after it.

    python bench/count_ingest.py                     # SQLite, every case, 30 requests each
    python bench/count_ingest.py --pg                # PostgreSQL (a database created and dropped here)
    python bench/count_ingest.py --case pd-new --requests 50

The requests of bench/ingest.py go in-process through Vigil's WSGI application (what a Granian worker
process calls, without Granian's HTTP server). Per case: 20 warm-up requests; then the statements of
each request are counted (Django's execute wrapper, BEGIN and COMMIT included, as they reach the database); then the same number
of requests is run under Valgrind's callgrind, which counts the instructions this process executes for
them (in Python, Django, the database driver and SQLite's library; not in the PostgreSQL server). The
script starts itself again under `valgrind --tool=callgrind --instr-atstart=no` and switches the
counting on only around the measured requests, through callgrind's client requests (a tiny C library
built here with the system's compiler and valgrind's header).

Needs: valgrind (Debian package `valgrind`, which brings callgrind.h) and a C compiler.
"""

import argparse
import ctypes
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CASES = ["am-new", "am-repeat", "pd-group", "pd-new"]
TOGGLE_C = r"""
#include <valgrind/callgrind.h>
void count_on(void) { CALLGRIND_START_INSTRUMENTATION; CALLGRIND_ZERO_STATS; }
void count_off(const char *name) { CALLGRIND_DUMP_STATS_AT(name); CALLGRIND_STOP_INSTRUMENTATION; }
int under_valgrind(void) { return RUNNING_ON_VALGRIND; }
"""


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=30, help="measured requests per case (after 20 warm-up ones)")
    p.add_argument("--case", choices=CASES, action="append")
    p.add_argument("--pg", action="store_true", help="PostgreSQL (a database created and dropped here)")
    p.add_argument("--pg-url", default=os.environ.get("VIGIL_BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    p.add_argument("--inner", help=argparse.SUPPRESS)  # the run under valgrind: the toggle library's path
    return p.parse_args(argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.inner:
        return inner(args)
    tmp = Path(tempfile.mkdtemp(prefix="vigil-count-ingest-"))
    pg = None
    try:
        lib = tmp / "toggle.so"
        (tmp / "toggle.c").write_text(TOGGLE_C)
        subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-o", str(lib), str(tmp / "toggle.c")], check=True)
        env = {**os.environ, "VIGIL_DATA_DIR": str(tmp / "data"), "DJANGO_SETTINGS_MODULE": "vigil.settings",
               "PYTHONHASHSEED": "0"}
        env.pop("VIGIL_DEBUG", None)
        env.pop("DATABASE_URL", None)
        if args.pg:
            import ingest as bench

            pg = bench.Postgres(args.pg_url).create()
            env["DATABASE_URL"] = pg.url
        out = tmp / "callgrind.out"
        cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}.%p",
               sys.executable, __file__, *argv, "--inner", str(lib)]
        proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        sys.stdout.write(proc.stdout)
        if proc.returncode:
            sys.stderr.write(proc.stderr[-4000:])
            return proc.returncode
        counts = {}
        for dump in tmp.glob("callgrind.out.*"):
            text = dump.read_text(errors="replace")
            trigger = re.search(r"^desc: Trigger: Client Request: (.+)$", text, re.M)
            total = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
            if trigger and total:
                counts[trigger.group(1).strip()] = int(total.group(1))
        print(f"\ninstructions per request (callgrind, {args.requests} requests per case):")
        for name in args.case or CASES:
            n = counts.get(name)
            print(f"  {name:<10} {n / args.requests / 1e6:8.2f} M" if n else f"  {name:<10} (no count)")
        return 0
    finally:
        if pg is not None:
            pg.drop()
        shutil.rmtree(tmp, ignore_errors=True)


def inner(args):
    toggle = ctypes.CDLL(args.inner)
    toggle.count_off.argtypes = [ctypes.c_char_p]
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    import ingest as bench
    from vigil.accounts.models import Team
    from vigil.alerts import actions
    from vigil.catalog.models import Service
    from vigil.wsgi import application

    call_command("migrate", verbosity=0)
    team = Team.objects.create(name="Count", slug="count")

    def post(path, body):
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "HTTP_HOST": "127.0.0.1:8000",
            "SERVER_PROTOCOL": "HTTP/1.1", "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": "127.0.0.1", "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http",
            "wsgi.errors": sys.stderr, "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }
        status = []
        chunks = application(environ, lambda s, h, exc=None: status.append(s))
        out = b"".join(chunks)
        chunks.close()
        if not status[0].startswith("2"):
            raise RuntimeError(f"{path}: {status[0]} {out[:500]!r}")

    print(f"Database: {connection.vendor}; under valgrind: {bool(toggle.under_valgrind())}")
    n = args.requests
    for name in args.case or CASES:
        kind = "pagerduty" if name.startswith("pd-") else "alertmanager"
        service = Service.objects.create(team=team, name=f"Count {name}", slug=f"count-{name}")
        _, key = actions.do_create_integration(service, actor=None, kind=kind, rate_limit_per_minute=0)
        if kind == "pagerduty":
            path, template = "/v2/enqueue", bench.pd_body(0, key, group=name == "pd-group")
        else:
            path, template = f"/hooks/alertmanager/{key}", bench.am_webhook_body(0)
        bodies = bench.Bodies([template], unique=name != "am-repeat")
        for _ in range(20):
            post(path, bodies.take(0))

        statements = []
        with connection.execute_wrapper(lambda execute, sql, *a: statements.append(sql) or execute(sql, *a)):
            for _ in range(n):
                post(path, bodies.take(0))
        # COMMIT goes through the connection, not a cursor: it is not in the list (one per request).
        kinds = {}
        for sql in statements:
            word = re.sub(r'"s\d+_x\d+"', '"<savepoint>"', " ".join(sql.split()[:3]))[:48]
            kinds[word] = kinds.get(word, 0) + 1
        print(f"\n{name}: {len(statements) / n:.1f} statements per request (+ COMMIT)")
        for word, count in sorted(kinds.items(), key=lambda kv: -kv[1]):
            print(f"  {count / n:5.1f} x {word}")

        toggle.count_on()
        for _ in range(n):
            post(path, bodies.take(0))
        toggle.count_off(name.encode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
