"""PyPI `statuspage-prometheus-exporter` 2.6.0, a real consumer of Statuspage's summary.json, reads a
Vigil status page unchanged (one pass, RUN_MODE=once, metrics to a text file)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import missing

pytestmark = pytest.mark.clients

EXPORTER = Path(sys.executable).parent / "statuspage-prometheus-exporter"


def run_exporter(tmp_path, url):
    if not EXPORTER.exists():
        missing("statuspage-prometheus-exporter (PyPI statuspage-prometheus-exporter==2.6.0)")
    (tmp_path / "services.json").write_text('{"acme": {"url": "%s", "name": "Acme Status"}}' % url)
    metrics = tmp_path / "statuspage.prom"
    env = {**os.environ, "SERVICES_JSON_PATH": str(tmp_path / "services.json"), "RUN_MODE": "once",
           "METRICS_TEXTFILE_PATH": str(metrics)}
    done = subprocess.run([str(EXPORTER)], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    return [line for line in metrics.read_text().splitlines() if not line.startswith("#") and "Acme Status" in line]


def test_the_exporter_reads_components_and_incidents(vigil, tmp_path):
    service = vigil.service("Exporter Shop")
    page = vigil.api("POST", "/status-pages", {"slug": "exporter", "name": "Acme Status", "components": [
        {"name": "Checkout", "service_id": service["id"]}, {"name": "Docs"}]}, expect=201)
    url = f"{vigil.base}/status/exporter/api/v2/summary.json"
    lines = run_exporter(tmp_path, url)
    assert any(l.startswith('statuspage_service_status{service_name="Acme Status"} 1.0') for l in lines), lines

    incident = vigil.api("POST", "/incidents", {"title": "Checkout returns 502", "service_id": service["id"],
                                                "severity": "sev1"}, expect=201)
    vigil.api("POST", f"/incidents/{incident['id']}/public-updates",
              {"status_page_id": page["id"], "status": "identified", "body": "Fix in progress"}, expect=201)
    # `vigil serve` has two web processes: the one that did not make the change sees it within
    # statuspage.cache.TTL (0.5 s), so the exporter may read the page as it was just before.
    deadline = time.monotonic() + 10
    while True:
        lines = run_exporter(tmp_path, url)
        down = any(l.startswith('statuspage_service_status{service_name="Acme Status"} 0.0') for l in lines)
        if down or time.monotonic() > deadline:
            break
    assert down, lines
    info = next(l for l in lines if l.startswith("statuspage_incident_info{"))
    assert 'impact="critical"' in info and 'affected_components="Checkout"' in info
    assert f'shortlink="{vigil.base}/status/exporter/incidents/inc_' in info
    components = {l.split('component_name="')[1].split('"')[0]: l.rsplit(" ", 1)[1]
                  for l in lines if l.startswith("statuspage_component_status{")}
    assert components["Checkout"] != components["Docs"] == "1.0"
