"""Lines in, groups out: header parsing plus template mining, and the `group` command's loop."""

import os
import stat
import sys
import time

from .headers import HeaderParser, Record
from .miner import Miner

MAX_MESSAGE = 16 * 1024  # characters of a message that take part in mining; the rest is cut


class LogGrouper:
    """Turns raw log lines into (record, group). `headers=False` takes each line as a bare message."""

    def __init__(self, miner=None, log_format=None, headers=True, cache_size=50_000):
        self.miner = miner or Miner()
        self.parser = HeaderParser(log_format) if headers else None
        self.cache_size = cache_size
        self.lines = {}  # raw line without digits -> group

    def group(self, line):
        """The group of a raw line (bytes or str), without the parsed header.

        Lines that differ only in their digits (time stamps, ids, numbers) are one event: the line
        without digits is looked up first, so most lines cost one translate and one dict look-up.
        """
        raw = line if isinstance(line, bytes) else line.encode("utf-8", "surrogateescape")
        quick = raw.translate(None, b"0123456789")
        group = self.lines.get(quick)
        if group is None:
            record, group = self.add(line)
            if record.format == "plain" and self.parser is not None and self.parser.width is None:
                return group  # still learning the header of this stream: its answer may change
            if len(self.lines) >= self.cache_size:
                self.lines.clear()
            self.lines[quick] = group
        else:
            if group.merged_into is not None:
                group = self.miner._live(group)
                self.lines[quick] = group
            group.count += 1
        return group

    def add(self, line):
        """(record, group) of a raw line: its parsed header and its group."""
        if isinstance(line, bytes):
            line = line.decode("utf-8", "replace")
        line = line.rstrip("\r\n")
        if "\x00" in line:
            line = line.replace("\x00", " ")
        if len(line) > MAX_MESSAGE * 4:
            line = line[: MAX_MESSAGE * 4]
        record = self.parser.parse(line) if self.parser else Record(line)
        message = record.message
        if len(message) > MAX_MESSAGE:
            message = message[:MAX_MESSAGE]
        return record, self.miner.add(message)


def is_regular_file(stream):
    try:
        return stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):
        return False


def group_lines(grouper, inp, out, flush=None, save=None, save_every=60.0):
    """Write `<group id>TAB<template>` for each line of `inp` (binary streams), in order.

    Output is flushed after every line unless the input is a regular file (then at the end), so a
    pipe sees each line's group as soon as the line is read. `save` (a callable) is called every
    `save_every` seconds and at the end.
    """
    if flush is None:
        flush = not is_regular_file(inp)
    write = out.write
    group_of = grouper.group
    last_save = time.monotonic()
    count = 0
    # readline, not iteration over a buffered file: each line is handled as soon as it arrives.
    readline = inp.readline
    while True:
        line = readline()
        if not line:
            break
        group = group_of(line)
        write(b"%d\t%s\n" % (group.id, group.template.encode("utf-8", "replace")))
        count += 1
        if flush:
            out.flush()
        if save is not None and count % 1000 == 0 and time.monotonic() - last_save >= save_every:
            save()
            last_save = time.monotonic()
    out.flush()
    if save is not None:
        save()
    return count


def main(argv=None):
    """`python -m logtriage group [--state FILE] [--format FMT] [--no-headers]`: no Django needed."""
    import argparse

    p = argparse.ArgumentParser(prog="logtriage", description="Group log lines by template.")
    sub = p.add_subparsers(dest="command", required=True)
    g = sub.add_parser("group", help="read log lines on stdin, write `<group id>TAB<template>` per line")
    g.add_argument("--state", help="template state file: loaded if present, saved at the end")
    g.add_argument("--format", dest="log_format", help="a header format such as '<Date> <Time> <Level> <Component>: <Content>'")
    g.add_argument("--no-headers", action="store_true", help="the lines are bare messages: no header parsing")
    args = p.parse_args(argv)
    miner = Miner.load(args.state) if args.state and os.path.exists(args.state) else Miner()
    grouper = LogGrouper(miner, args.log_format, headers=not args.no_headers)
    save = (lambda: miner.save(args.state)) if args.state else None
    try:
        group_lines(grouper, sys.stdin.buffer, sys.stdout.buffer, save=save)
    except BrokenPipeError:
        pass
    except KeyboardInterrupt:
        if save:
            save()
        return 130
    return 0
