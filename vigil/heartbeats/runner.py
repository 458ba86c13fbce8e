"""`vigil run [--uuid U | --url URL] -- COMMAND...`: run a routine job and report it to its
heartbeat, like runitor: ping /start, run the command with its output passed through as it
comes, then ping /<exit status> with the tail of the output as the body. Exits with the
command's own status, so it can stand in for the command in a crontab or a systemd unit.

It needs no database or settings (it runs on the machine of the job, not of Vigil): it only
talks HTTP. A ping that cannot be delivered is retried a few times with backoff (urllib3's
Retry), then reported on stderr; it never changes the job's exit status.
"""

import argparse
import os
import signal
import subprocess
import sys
import threading
import uuid

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

TAIL_BYTES = 10_000  # runitor's default body size
PING_TIMEOUT = 10


class Tail:
    """The last `size` bytes written, in a ring of chunks."""

    def __init__(self, size=TAIL_BYTES):
        self.size, self.chunks, self.length = size, [], 0
        self.lock = threading.Lock()

    def write(self, data):
        with self.lock:
            self.chunks.append(data)
            self.length += len(data)
            while self.chunks and self.length - len(self.chunks[0]) >= self.size:
                self.length -= len(self.chunks.pop(0))

    def value(self):
        with self.lock:
            return b"".join(self.chunks)[-self.size:]


def session(retries=3):
    """An HTTP session that retries pings on connection errors and 5xx, with backoff (0.5 s, 1 s, 2 s)."""
    retry = Retry(total=retries, backoff_factor=0.5, status_forcelist=[429, 500, 502, 503, 504],
                  allowed_methods=None, respect_retry_after_header=True, raise_on_status=False)
    s = requests.Session()
    s.mount("http://", HTTPAdapter(max_retries=retry))
    s.mount("https://", HTTPAdapter(max_retries=retry))
    s.headers["User-Agent"] = "vigil-run"
    return s


def ping(http, url, body=b""):
    try:
        response = http.post(url, data=body, timeout=PING_TIMEOUT)
    except requests.RequestException as e:
        print(f"vigil run: could not ping {url}: {e}", file=sys.stderr)
        return False
    if response.status_code != 200:
        print(f"vigil run: ping {url} answered {response.status_code} {response.text.strip()[:200]}", file=sys.stderr)
        return False
    return True


def _pump(stream, outputs, tail):
    """Copy the child's output to our stdout as it comes, and keep its tail."""
    for chunk in iter(lambda: stream.read1(65536), b""):
        outputs.write(chunk)
        outputs.flush()
        tail.write(chunk)


def run(command, ping_url, http=None):
    """Run `command` and report it to `ping_url`; returns the exit status to exit with."""
    http = http or session()
    rid = uuid.uuid4()
    ping(http, f"{ping_url}/start?rid={rid}")
    tail = Tail()
    try:
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except OSError as e:
        message = f"vigil run: cannot run {command[0]!r}: {e}\n"
        sys.stderr.write(message)
        # 127 as a shell says for a command not found, 126 for one that cannot run.
        status = 127 if isinstance(e, FileNotFoundError) else 126
        ping(http, f"{ping_url}/{status}?rid={rid}", message.encode())
        return status

    def forward(signum, frame):
        child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    try:
        _pump(child.stdout, sys.stdout.buffer, tail)
        status = child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if status < 0:
        # Killed by a signal: report it as a shell would (128 + the signal's number).
        status = 128 - status
    ping(http, f"{ping_url}/{min(status, 255)}?rid={rid}", tail.value())
    return status


def main(argv):
    parser = argparse.ArgumentParser(
        prog="vigil run",
        description="Run COMMAND and report it to a Vigil heartbeat: start, then success or its exit status with "
                    "the last 10 kB of its output. Exits with COMMAND's status.")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--url", help="the heartbeat's ping URL (default: $VIGIL_PING_URL)")
    where.add_argument("--uuid", help="the heartbeat's UUID, with the server from $VIGIL_BASE_URL")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARG...]")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    if args.uuid:
        try:
            key = uuid.UUID(args.uuid)
        except ValueError:
            parser.error(f"--uuid: not a UUID: {args.uuid!r}")
        base = os.environ.get("VIGIL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
        url = f"{base}/ping/{key}"
    else:
        url = (args.url or os.environ.get("VIGIL_PING_URL") or "").rstrip("/")
        if not url.startswith(("http://", "https://")):
            parser.error("give --url https://.../ping/<uuid> or --uuid (or set VIGIL_PING_URL)")
    return run(command, url)
