"""The machine a benchmark ran on, and docs/benchmarks.md: one section per benchmark between markers."""

import datetime
import importlib.metadata
import os
import platform
import sqlite3
import subprocess
from pathlib import Path

HEADER = """\
# Benchmarks

Speed is measured, not asserted. The benchmarks live in `bench/`, run with `make bench`, and each
one rewrites only its own section below (between its `<!-- bench:NAME -->` markers), saying the
command, the machine and the date. Tests never assert timings.

Figures from one machine compare changes on that machine; they are not a promise for another.
"""


def _meminfo():
    info = {}
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, _, rest = line.partition(":")
        info[key] = int(rest.split()[0])  # kB
    return info


def _version(dist):
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine():
    try:
        cpus = subprocess.run(["nproc"], capture_output=True, text=True, timeout=5).stdout.strip()
    except OSError:
        cpus = str(len(os.sched_getaffinity(0)))
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem = _meminfo()
    return {
        "cpus": cpus,
        "cpu_model": model,
        "mem_total_gib": mem["MemTotal"] / 1024 / 1024,
        "mem_available_gib": mem.get("MemAvailable", mem["MemFree"]) / 1024 / 1024,
        "kernel": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "django": _version("django"),
        "django_ninja": _version("django-ninja"),
        "granian": _version("granian"),
    }


def machine_line(m):
    return (f"{m['cpus']} CPUs (`nproc`), {m['cpu_model']}, {m['mem_total_gib']:.1f} GiB RAM "
            f"({m['mem_available_gib']:.1f} GiB available at start), {m['kernel']}; "
            f"Python {m['python']}, SQLite {m['sqlite']}, Django {m['django']}, django-ninja {m['django_ninja']}, "
            f"Granian {m['granian']}")


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def git_commit(repo):
    """'`abc1234`' for the code measured, saying so when the working tree's code differs from it."""
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "-C", str(repo), "status", "--porcelain", "--", "vigil", "pyproject.toml"],
                               capture_output=True, text=True, timeout=5)
    except OSError:
        return None
    commit = head.stdout.strip()
    if not commit:
        return None
    return f"`{commit}`" + (" plus uncommitted changes under `vigil/`" if dirty.stdout.strip() else "")


def write_section(path, name, body):
    """Put `body` between this benchmark's markers in `path`, keeping every other section as it is."""
    path = Path(path)
    begin, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{begin}\n{body.strip()}\n{end}\n"
    text = path.read_text() if path.exists() else HEADER
    if begin in text and end in text and text.index(begin) < text.index(end):
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + block.rstrip("\n") + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)

