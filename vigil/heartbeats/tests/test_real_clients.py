"""Heartbeats as users run them: a real `vigil serve`, pinged by a real curl and by `vigil run`
wrapping real commands. The worker inside `vigil serve` turns pings into alerts."""

import shutil
import subprocess
import time

import pytest

from vigil.testing import VIGIL, VigilServer

# A real `vigil serve` on its own SQLite data dir: the PostgreSQL leg skips it (it would run the same again).
pytestmark = pytest.mark.serve


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = VigilServer(tmp_path_factory.mktemp("vigil"))
    server.start()
    server.cli("createuser", "ops@vigil.test", "--name", "Ops", "--admin")
    server.api_token = server.token("ops@vigil.test")
    team = server.request("POST", "/api/v1/teams", server.api_token, {"name": "Ops"})[1]
    server.service = server.request("POST", "/api/v1/services", server.api_token,
                                     {"name": "Backups", "slug": "backups", "team_id": team["id"]})[1]
    yield server
    server.stop()


def new_heartbeat(server, name):
    status, body = server.request("POST", "/api/v1/heartbeats", server.api_token, {
        "service_id": server.service["id"], "name": name, "period_seconds": 3600, "grace_seconds": 600})
    assert status == 201, body
    return body


def pings(server, heartbeat):
    return server.request("GET", f"/api/v1/heartbeats/{heartbeat['id']}/pings", server.api_token)[1]["items"]


def wait_for(check, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.2)
    raise AssertionError("timed out")


def alerts(server, status):
    return server.request("GET", f"/api/v1/alerts?service_id={server.service['id']}&status={status}",
                          server.api_token)[1]["items"]


def curl(*args):
    if shutil.which("curl") is None:
        pytest.fail("curl is not installed (.ci/run installs it)")
    return subprocess.run(["curl", "-sS", "-m", "10", *args], capture_output=True, text=True, timeout=30)


def test_curl_pings_with_get_head_and_post(server):
    heartbeat = new_heartbeat(server, "curl job")
    url = heartbeat["ping_url"]
    get = curl(url)
    assert get.stdout == "OK"
    head = curl("-I", url)
    assert head.stdout.startswith("HTTP/1.1 200") and "ping-body-limit: 102400" in head.stdout.lower()
    post = curl("--data-binary", "rows: 1204\nall good", url + "/0")
    assert post.stdout == "OK"
    assert curl(url.replace(heartbeat["uuid"][:8], "00000000")).stdout == "not found"
    log = pings(server, heartbeat)
    assert [(p["method"], p["kind"]) for p in reversed(log)] == [("GET", "success"), ("HEAD", "success"),
                                                                 ("POST", "success")]
    assert log[0]["body"] == "rows: 1204\nall good" and log[0]["exit_status"] == 0
    assert server.request("GET", f"/api/v1/heartbeats/{heartbeat['id']}", server.api_token)[1]["status"] == "up"


def vigil_run(url, *command):
    return subprocess.run([VIGIL, "run", "--url", url, "--", *command], capture_output=True, text=True, timeout=60)


def test_vigil_run_false_alerts_with_its_output_and_true_resolves(server):
    heartbeat = new_heartbeat(server, "nightly backup")
    failed = vigil_run(heartbeat["ping_url"], "sh", "-c", "echo dumping 12 tables; echo 'pg_dump: disk full' >&2; false")
    assert failed.returncode == 1
    assert failed.stdout == "dumping 12 tables\npg_dump: disk full\n"  # passed through as it came
    alert = wait_for(lambda: alerts(server, "firing"))[0]
    assert alert["summary"] == "nightly backup: exited with status 1"
    # The alert (and so the incident page) links to the heartbeat page, where the output is shown.
    assert alert["links"] == [{"href": heartbeat["url"], "text": "Heartbeat and its pings"}]
    start, end = sorted(pings(server, heartbeat), key=lambda p: p["n"])
    assert start["kind"] == "start" and end["kind"] == "fail" and end["exit_status"] == 1
    assert end["body"] == "dumping 12 tables\npg_dump: disk full\n"
    assert end["duration_seconds"] is not None and end["user_agent"] == "vigil-run"

    plain = vigil_run(heartbeat["ping_url"], "false")
    assert plain.returncode == 1

    ok = vigil_run(heartbeat["ping_url"], "true")
    assert ok.returncode == 0
    assert pings(server, heartbeat)[0]["kind"] == "success"
    wait_for(lambda: not alerts(server, "firing"))
    assert alerts(server, "resolved")[0]["summary"] == "nightly backup: exited with status 1"
    assert server.request("GET", f"/api/v1/heartbeats/{heartbeat['id']}", server.api_token)[1]["status"] == "up"


def test_vigil_run_keeps_only_the_tail_of_a_long_output(server):
    heartbeat = new_heartbeat(server, "chatty job")
    done = vigil_run(heartbeat["ping_url"], "sh", "-c", "seq 1 20000")
    assert done.returncode == 0 and done.stdout.endswith("19999\n20000\n") and done.stdout.startswith("1\n2\n")
    body = pings(server, heartbeat)[0]["body"]
    assert len(body) == 10_000 and body.endswith("19999\n20000\n")


def test_vigil_run_passes_a_missing_command_through_as_127(server):
    heartbeat = new_heartbeat(server, "typo job")
    done = vigil_run(heartbeat["ping_url"], "/no/such/command")
    assert done.returncode == 127 and "cannot run" in done.stderr
    assert pings(server, heartbeat)[0]["exit_status"] == 127
