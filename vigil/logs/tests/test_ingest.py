"""Lines into a service's error groups: counts, levels, samples, states, restarts, the alert rule."""

import gzip
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from django.core.management import call_command

from vigil.alerts.models import Alert
from vigil.logs.ingest import ingest_lines
from vigil.logs.models import ErrorGroup, LogSource, ServiceLogs
from vigil.logs.ranking import ranked

NOW = datetime(2024, 5, 1, 12, 30, tzinfo=timezone.utc)


def shop_lines(n=30, start=0):
    out = []
    for i in range(start, start + n):
        out.append(f"2024-05-01 12:{i % 60:02d}:00 ERROR [pool-{i % 3}] com.acme.db.Pool: connection {1000 + i} refused")
        out.append(f"2024-05-01 12:{i % 60:02d}:01 INFO [main] com.acme.web.Server: GET /items/{i} answered in {i} ms")
    return out


def test_import_counts_groups_with_level_samples_and_trend(personas):
    result = ingest_lines(personas.service, shop_lines(30), now=NOW)
    assert result.lines == 60
    groups = {g.template: g for g in ErrorGroup.objects.filter(service=personas.service)}
    assert set(groups) == {"connection <*> refused", "GET <*> answered in <*>"}
    refused = groups["connection <*> refused"]
    assert (refused.count, refused.level, refused.state) == (30, "ERROR", "new")
    assert len(refused.samples) == 5 and all("refused" in s for s in refused.samples)
    assert refused.components == ["com.acme.db.Pool"]
    hour = str(int(datetime(2024, 5, 1, 12, tzinfo=timezone.utc).timestamp() // 3600))
    assert refused.hourly == {hour: 30}
    assert refused.first_seen == datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    top = ranked(ErrorGroup.objects.filter(service=personas.service), now=NOW)
    assert top[0][0] == refused  # ERROR with error words above INFO
    assert any(reason.startswith("level ERROR") for _, _, reason in top[0][2])


def test_templates_and_groups_are_stable_across_a_restart(personas):
    ingest_lines(personas.service, shop_lines(10), now=NOW)
    before = dict(ErrorGroup.objects.values_list("key", "template"))
    # a new process: nothing in memory, the state comes from the database
    ingest_lines(personas.service, shop_lines(10, start=10), now=NOW)
    after = dict(ErrorGroup.objects.values_list("key", "template"))
    assert after == before
    assert sorted(ErrorGroup.objects.values_list("count", flat=True)) == [20, 20]
    assert ServiceLogs.objects.get(service=personas.service).version == 2


def test_a_fixed_group_that_appears_again_is_regressed(personas):
    ingest_lines(personas.service, shop_lines(5), now=NOW)
    refused = ErrorGroup.objects.get(template="connection <*> refused")
    refused.state, refused.fixed_at = ErrorGroup.State.FIXED, NOW
    refused.save()
    ingest_lines(personas.service, [l for l in shop_lines(3, start=40) if "INFO" in l], now=NOW)
    refused.refresh_from_db()
    assert refused.state == "fixed"  # only the INFO lines came again
    result = ingest_lines(personas.service, shop_lines(3, start=50), now=NOW + timedelta(hours=1))
    refused.refresh_from_db()
    assert refused.state == "regressed"
    assert result.regressed == [refused.pk]
    assert refused.count == 8


def test_the_import_command_reads_gzip_in_batches(personas, tmp_path, capsys):
    path = tmp_path / "app.log.gz"
    with gzip.open(path, "wt") as f:
        f.write("\n".join(shop_lines(200)) + "\n")
        f.write("\x00\x01 binary \n" + "y" * 200_000 + "\n")
    from vigil.logs import ingest

    original = ingest.BATCH
    ingest.BATCH = 50
    try:
        with time_machine.travel(NOW, tick=False):
            call_command("logs", "import", str(path), "--service", "acme-shop", "--source", "shop-app", "--no-progress")
    finally:
        ingest.BATCH = original
    assert "Imported 402 lines into acme-shop" in capsys.readouterr().out
    assert ErrorGroup.objects.get(template="connection <*> refused").count == 200
    source = LogSource.objects.get(name="shop-app")
    assert (source.service, source.lines_received) == (personas.service, 402)
    assert ServiceLogs.objects.get(service=personas.service).version == 9  # 402 lines in batches of 50


def test_the_import_command_names_what_is_wrong(personas, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--service"):
        call_command("logs", "import", str(tmp_path / "x.log"), "--service", "nope")
    with pytest.raises(CommandError, match="x.log"):
        call_command("logs", "import", str(tmp_path / "x.log"), "--service", "acme-shop")
    assert not ErrorGroup.objects.exists()


def test_the_alert_rule_is_opt_in_and_raises_for_new_high_severity_groups(personas):
    ingest_lines(personas.service, shop_lines(3), now=NOW)
    assert not Alert.objects.exists()
    logs = ServiceLogs.objects.get(service=personas.service)
    logs.alert_on_new = True
    logs.save()
    result = ingest_lines(personas.service, shop_lines(3) + [
        "2024-05-01 12:31:00 FATAL [main] com.acme.Billing: ledger 77 corrupt, stopping",
        "2024-05-01 12:31:00 INFO [main] com.acme.Billing: a new info line 5"], now=NOW)
    assert result.alerts == 1
    alert = Alert.objects.get()
    assert alert.service == personas.service
    assert alert.summary == "New error in logs: ledger <*> corrupt, stopping"
    assert alert.severity == "sev2"
    assert alert.incident is not None  # the alert pipeline opened an incident as for any alert
    # not again within the hour
    again = ["2024-05-01 12:32:00 FATAL [main] com.acme.Billing: ledger 78 corrupt, stopping"]
    assert ingest_lines(personas.service, again, now=NOW).alerts == 0
    # marked fixed, it comes back two hours later: alerted again, as regressed
    ErrorGroup.objects.filter(level="FATAL").update(state=ErrorGroup.State.FIXED)
    back = ingest_lines(personas.service, again, now=NOW + timedelta(hours=2))
    assert (back.alerts, len(back.regressed)) == (1, 1)
    assert Alert.objects.get().summary == "Fixed error is back in logs: ledger <*> corrupt, stopping"
    assert ingest_lines(personas.service, again, now=NOW + timedelta(hours=4)).alerts == 0  # still regressed: not again


def test_bursts_raise_an_alert_when_asked(personas):
    logs = ServiceLogs.objects.create(service=personas.service, alert_on_burst=True)
    day_before = [f"2024-05-01 {h:02d}:10:00 ERROR [w] app.Queue: job {h} timed out" for h in range(0, 12)]
    ingest_lines(personas.service, day_before, now=NOW)
    assert not Alert.objects.exists()
    burst = [f"2024-05-01 12:{m:02d}:00 ERROR [w] app.Queue: job {m} timed out" for m in range(20)]
    assert ingest_lines(personas.service, burst, now=NOW).alerts == 1
    assert Alert.objects.get().summary.startswith("Error burst in logs: job <*> timed out")
    assert logs.pk


def test_the_import_command_shows_progress(personas, tmp_path, capsys):
    path = tmp_path / "big.log"
    path.write_text("\n".join(shop_lines(500)) + "\n")
    from vigil.logs import ingest

    original = ingest.BATCH
    ingest.BATCH = 100
    try:
        call_command("logs", "import", str(path), "--service", "acme-shop")
    finally:
        ingest.BATCH = original
    err = capsys.readouterr().err  # not a terminal here: a line at each tenth of the file
    shares = [line.split(":")[0] for line in err.splitlines()]
    assert shares[-1] == "100%" and len(shares) >= 5
    assert "1,000 lines" in err.splitlines()[-1]


def test_groups_new_since_the_last_deploy_rank_higher(personas):
    from vigil.alerts.models import ChangeEvent
    from vigil.logs.ranking import last_deploy

    ingest_lines(personas.service, [f"2024-05-01 08:{m:02d}:00 WARN [w] app.Cache: cache {m} cold" for m in range(5)], now=NOW)
    ChangeEvent.objects.create(service=personas.service, summary="Deploy v42", happened_at=NOW - timedelta(hours=1))
    ingest_lines(personas.service, [f"2024-05-01 12:{m:02d}:00 WARN [w] app.Cart: cart {m} lost its items" for m in range(5)],
                 now=NOW)
    deployed = last_deploy(personas.service, NOW)
    scores = {g.template: (p, [r for f, _, r in why if f == "novelty"])
              for g, p, why in ranked(ErrorGroup.objects.all(), now=NOW, deployed_at=deployed,
                                      data_since=ServiceLogs.objects.get().data_since)}
    assert scores["cart <*> lost its items"][1] == ["new since the last deploy (1 h ago)"]
    assert scores["cache <*> cold"][1] == []
