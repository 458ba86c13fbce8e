"""`vigil logs group`, without starting Django: it needs no database, and Django with every app
takes seconds to import on a busy machine, which a pipe should not wait for. vigil/cli.py sends
`vigil logs group ...` here; the `logs` management command does the same for `manage.py` users.
"""

import argparse
import os
import re
import sys
from pathlib import Path

from logtriage import LogGrouper, Miner
from logtriage.stream import group_lines

SOURCE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


def add_arguments(parser):
    parser.add_argument("--source", help="keep this source's templates across runs (<data dir>/logtriage/NAME.json)")
    parser.add_argument("--format", dest="log_format", help="header format, e.g. '<Date> <Time> <Level> <Component>: <Content>'")
    parser.add_argument("--no-headers", action="store_true", help="each line is a bare message: no header parsing")


def data_dir():
    # as vigil/settings.py: VIGIL_DATA_DIR or ./var
    return Path(os.environ.get("VIGIL_DATA_DIR") or "./var").resolve()


class Failed(Exception):
    pass


def run(source=None, log_format=None, no_headers=False, stdin=None, stdout=None, folder=None):
    """Group stdin into stdout; returns the exit status. Raises Failed with a message on bad input."""
    state = None
    if source:
        if not SOURCE_NAME.match(source):
            raise Failed("--source: letters, digits, '-' and '_' only (it names a file)")
        state = (folder or data_dir()) / "logtriage" / f"{source}.json"
    try:
        miner = Miner.load(state) if state and state.exists() else Miner()
    except (ValueError, KeyError, TypeError) as exc:
        raise Failed(f"the template state {state} is unreadable: {exc}")
    try:
        grouper = LogGrouper(miner, log_format, headers=not no_headers)
    except ValueError as exc:
        raise Failed(f"--format: {exc}")
    save = (lambda: miner.save(state)) if state else None
    try:
        group_lines(grouper, stdin or sys.stdin.buffer, stdout or sys.stdout.buffer, save=save)
    except BrokenPipeError:
        if save:
            save()
        # the reader went away: nothing more to say, and no traceback about it
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        if save:
            save()
        return 130
    return 0


def main(argv):
    parser = argparse.ArgumentParser(prog="vigil logs group",
                                     description="Read log lines on stdin; write `<group id>TAB<template>` for each, in order.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args.source, args.log_format, args.no_headers)
    except Failed as exc:
        print(f"vigil logs group: error: {exc}", file=sys.stderr)
        return 2
