"""`vigil logs group` as a real process: streaming through a pipe, one line out per line in."""

import os
import select
import subprocess
import sys
from pathlib import Path

import pytest

VIGIL = str(Path(sys.executable).parent / "vigil")


@pytest.fixture
def env(tmp_path):
    e = dict(os.environ, VIGIL_DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1")
    for name in ("DATABASE_URL", "VIGIL_TEST_DATABASE_URL"):
        e.pop(name, None)
    return e


def read_line(proc, timeout=60):
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "no output line within the timeout although its input line was sent"
    return proc.stdout.readline()


def test_group_answers_each_line_before_the_input_ends(env):
    proc = subprocess.Popen([VIGIL, "logs", "group"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
    try:
        proc.stdin.write(b"2024-05-01 12:00:00 ERROR [main] db.Pool: connection 17 refused\n")
        proc.stdin.flush()
        first = read_line(proc)  # the pipe is still open: the answer came before the input ended
        proc.stdin.write(b"2024-05-01 12:00:03 ERROR [main] db.Pool: connection 23 refused\n")
        proc.stdin.flush()
        second = read_line(proc)
        proc.stdin.write(b"2024-05-01 12:00:04 INFO [main] web.Server: listening on port 8080\n")
        proc.stdin.close()
        third = proc.stdout.readline()
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    gid, template = first.decode().rstrip("\n").split("\t")
    assert template == "connection <*> refused"
    assert second.decode().split("\t")[0] == gid
    assert third.decode().split("\t")[0] != gid


def test_group_writes_exactly_one_line_per_input_line(env):
    lines = [b"Jun 14 15:16:01 combo sshd[1]: session opened for user root", b"", b"\x00\xff\xfe\x80 binary junk",
             b"a\tline\twith\ttabs", b"x" * 300_000, b"{\"msg\": \"json without newline at the end\"}"]
    done = subprocess.run([VIGIL, "logs", "group"], input=b"\n".join(lines), capture_output=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    out = done.stdout.split(b"\n")
    assert out[-1] == b"" and len(out) - 1 == len(lines)
    for row in out[:-1]:
        gid, sep, template = row.partition(b"\t")
        assert sep and gid.isdigit() and b"\t" not in template
    assert out[1] != out[3]


def test_group_keeps_ids_across_runs_with_a_source(env):
    run = lambda text: subprocess.run([VIGIL, "logs", "group", "--source", "shop"], input=text, capture_output=True,  # noqa: E731
                                      env=env, timeout=120, check=True).stdout.decode().splitlines()
    first = run(b"payment 1 declined for card 42\norder 7 shipped\n")
    second = run(b"order 9 shipped\npayment 3 declined for card 77\nnew kind of line here\n")
    assert second[0] == first[1] and second[1] == first[0]
    assert second[2].split("\t")[0] not in {first[0].split("\t")[0], first[1].split("\t")[0]}
    assert (Path(env["VIGIL_DATA_DIR"]) / "logtriage" / "shop.json").exists()
    bad = subprocess.run([VIGIL, "logs", "group", "--source", "../x"], input=b"a\n", capture_output=True, env=env, timeout=60)
    assert bad.returncode != 0 and b"--source" in bad.stderr
