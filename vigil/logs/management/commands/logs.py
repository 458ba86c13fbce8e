"""`vigil logs group` and `vigil logs import`.

    vigil logs group [--source NAME] [--format FMT] [--no-headers] < app.log
        One `<group id>TAB<template>` line per input line, in order, as the lines come in.
        With --source the templates are kept in <data dir>/logtriage/NAME.json across runs.
    vigil logs import FILE --service SLUG [--source NAME] [--format FMT]
        Mine FILE (`-` for stdin; .gz read as gzip) into the service's error groups, streaming,
        with a progress bar on stderr.
"""

import gzip
import io
import os
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from vigil.logs import group_command


class Command(BaseCommand):
    help = "Log triage: group log lines by template (stdin to stdout), or import a log file into a service."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        g = sub.add_parser("group", help="read log lines on stdin, write `<group id>TAB<template>` for each")
        group_command.add_arguments(g)
        i = sub.add_parser("import", help="mine a log file into a service's error groups")
        i.add_argument("file", help="a log file, .gz accepted; - for stdin")
        i.add_argument("--service", required=True, help="the service's slug (or id)")
        i.add_argument("--source", help="the log source to count the lines under (made for the service if new)")
        i.add_argument("--format", dest="log_format", default="", help="header format when Vigil does not know it")
        i.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options):
        if options["action"] == "group":
            return self.group(options)
        return self.import_file(options)

    # -- group -------------------------------------------------------------------------------------

    def group(self, options):
        try:
            status = group_command.run(options["source"], options["log_format"], options["no_headers"],
                                       folder=settings.DATA_DIR)
        except group_command.Failed as exc:
            raise CommandError(str(exc))
        if status:
            raise CommandError("interrupted")

    # -- import ------------------------------------------------------------------------------------

    def import_file(self, options):
        from vigil.catalog.models import Service
        from vigil.logs.ingest import ingest_lines
        from vigil.logs.models import LogSource

        ref = options["service"]
        service = Service.objects.filter(slug=ref).first() or (
            Service.objects.filter(pk=int(ref)).first() if ref.isdigit() else None)
        if service is None:
            raise CommandError(f"--service: no service {ref!r}")
        source = None
        if options["source"]:
            source, _ = LogSource.objects.get_or_create(name=options["source"], defaults={"service": service})
            if source.service_id != service.pk:
                raise CommandError(f"--source: {source.name!r} belongs to another service")
        if options["log_format"]:
            from logtriage import UserFormat

            try:
                UserFormat(options["log_format"])
            except ValueError as exc:
                raise CommandError(f"--format: {exc}")
        path = options["file"]
        try:
            raw, total = open_input(path)
        except OSError as exc:
            raise CommandError(f"{path}: {exc.strerror or exc}")
        bar = None if options["no_progress"] else Progress(raw, total, sys.stderr)
        try:
            with raw:
                stream = gzip.GzipFile(fileobj=raw) if is_gzip(raw) else raw
                result = ingest_lines(service, iter(stream.readline, b""), source=source, log_format=options["log_format"],
                                      progress=bar.update if bar else None)
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise CommandError(f"{path}: cannot read it: {exc}")
        if bar:
            bar.done()
        self.stdout.write(f"Imported {result.lines} lines into {service.slug}: {result.groups} groups touched, "
                          f"{len(result.new_groups)} new, {len(result.regressed)} regressed"
                          + (f", {result.alerts} alerts raised" if result.alerts else "") + ".")


def open_input(path):
    if path == "-":
        return io.BufferedReader(sys.stdin.buffer.raw if hasattr(sys.stdin.buffer, "raw") else sys.stdin.buffer), None
    f = open(path, "rb")
    try:
        total = os.fstat(f.fileno()).st_size
    except OSError:
        total = None
    return f, total


def is_gzip(raw):
    try:
        return raw.peek(2)[:2] == b"\x1f\x8b"
    except (AttributeError, OSError):
        return False


class Progress:
    """A one-line progress bar on a terminal (bytes of the file read), or a line every 10 % when not."""

    def __init__(self, raw, total, out):
        self.raw, self.total, self.out = raw, total, out
        self.tty = hasattr(out, "isatty") and out.isatty()
        self.t0 = time.monotonic()
        self.last_decile = -1

    def position(self):
        try:
            return self.raw.tell()
        except (OSError, ValueError):
            return None

    def update(self, lines):
        rate = lines / max(time.monotonic() - self.t0, 1e-6)
        pos = self.position()
        if self.total and pos is not None:
            share = min(pos / self.total, 1.0)
            if self.tty:
                filled = int(share * 30)
                self.out.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {share:4.0%} {lines:,} lines, {rate:,.0f}/s ")
            elif int(share * 10) > self.last_decile:
                self.last_decile = int(share * 10)
                self.out.write(f"{share:.0%}: {lines:,} lines, {rate:,.0f}/s\n")
        elif self.tty:
            self.out.write(f"\r{lines:,} lines, {rate:,.0f}/s ")
        self.out.flush()

    def done(self):
        if self.tty:
            self.out.write("\n")
            self.out.flush()
