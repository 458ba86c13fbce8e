"""The pure-Python core (logtriage/): masking, header parsing, mining, state. No database."""

import json

import pytest

from logtriage import HeaderParser, LogGrouper, Miner, UserFormat, mask


def test_masking_replaces_common_variables():
    assert mask("connect to 10.0.0.12:5432 failed after 3 retries") == "connect to <*> failed after <*> retries"
    assert mask("request 3f2b8a9c-1d2e-4f00-9abc-0123456789ab done") == "request <*> done"
    assert mask("free at 0x7ffd1a2b in /var/lib/app/data.db") == "free at <*> in <*>"
    assert mask("user=alice status=ok took 15 ms") == "user=<*> status=<*> took <*>"
    assert mask("fetch https://example.com/a?b=1 from db.internal.example.com") == "fetch <*> from <*>"
    assert mask('tag="View Lock" ready=true') == "tag=<*> ready=<*>"


def test_lines_that_differ_in_variables_share_a_group_and_template():
    miner = Miner()
    a = miner.add("Invalid user admin from 10.0.0.1 port 2201")
    b = miner.add("Invalid user oracle from 10.0.0.9 port 51000")
    c = miner.add("Accepted password for root from 10.0.0.9 port 22 ssh2")
    assert a is b
    assert a.template == "Invalid user <*> from <*> port <*>"
    assert c is not a
    assert a.count == 2


def test_event_words_keep_events_apart():
    miner = Miner()
    started = miner.add("[instance: 42] VM Started (Lifecycle Event)")
    paused = miner.add("[instance: 43] VM Paused (Lifecycle Event)")
    assert started is not paused


def test_state_survives_a_restart_with_the_same_ids(tmp_path):
    lines = [f"job {i} finished in {i * 3} ms on worker-{i % 4}" for i in range(50)]
    lines += [f"Invalid user {u} from 10.0.0.{i}" for i, u in enumerate(["bob", "eve", "mallory", "trent"])]
    lines += [f"disk /dev/sd{c} is {p}% full" for c, p in zip("abcd", (91, 95, 97, 99))]
    one_run = Miner()
    expected = [(g.id, g.template) for g in map(one_run.add, lines)]

    first = Miner()
    got = [(g.id, g.template) for g in map(first.add, lines[:30])]
    first.save(tmp_path / "state.json")
    second = Miner.load(tmp_path / "state.json")
    got += [(g.id, g.template) for g in map(second.add, lines[30:])]
    assert got == expected
    assert {g.id: g.template for g in second.groups.values()} == {g.id: g.template for g in one_run.groups.values()}


def test_groups_merge_as_their_templates_generalise():
    miner = Miner()
    a = miner.add("shard alpha holds beta now ok")
    b = miner.add("shard 1 holds 2 later wait")  # "shard <*> holds <*> later wait": 2 of 6 tokens like a
    assert a is not b
    miner.add("shard gamma holds delta now ok")  # a: "shard <*> holds <*> now ok"
    miner.add("shard 3 holds 4 later ok")  # a: "shard <*> holds <*> <*> ok"
    last = miner.add("shard 5 holds 6 soon never")  # a: "shard <*> holds <*>", which covers b
    assert miner.resolve(a.id) == miner.resolve(b.id) == a.id == last.id  # the older id survives
    assert list(miner.groups) == [a.id]
    assert miner.groups[a.id].template == "shard <*> holds <*>"
    assert miner.groups[a.id].count == 5
    # an absorbed id keeps answering with its survivor, also after a restart
    reloaded = Miner.from_dict(json.loads(json.dumps(miner.to_dict())))
    assert reloaded.resolve(b.id) == a.id
    assert reloaded.add("shard 7 holds 8 later wait").id == a.id
    assert miner.add("shard 9 holds 7 later wait").id == a.id  # the cached form of b's lines now finds a


@pytest.mark.parametrize("line, fmt, level, component, message", [
    ("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; rhost=1.2.3.4",
     "syslog", "", "sshd(pam_unix)", "authentication failure; rhost=1.2.3.4"),
    ("<11>1 2024-05-01T12:00:00Z web01 nginx 123 - - upstream timed out",
     "rfc5424", "ERROR", "nginx", "upstream timed out"),
    ("2024-05-01 12:00:00,123 ERROR [main] com.acme.db.Pool: connection refused",
     "levelled", "ERROR", "com.acme.db.Pool", "connection refused"),
    ("2024-05-01T12:00:00.5Z WARN  Disk almost full",
     "levelled", "WARN", "", "Disk almost full"),
    ("[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6",
     "apache-error", "ERROR", "", "mod_jk child workerEnv in error state 6"),
    ('10.1.2.3 - - [01/May/2024:12:00:00 +0000] "GET /api/items?id=4 HTTP/1.1" 503 12 "-" "curl/8"',
     "access", "ERROR", "", "GET /api/items 503"),
    ("2024/05/01 12:00:00 [crit] 1234#0: *5 connect() failed (111: Connection refused)",
     "nginx-error", "FATAL", "", "connect() failed (111: Connection refused)"),
    ('{"time": "2024-05-01T12:00:00Z", "level": "error", "logger": "billing", "msg": "charge failed"}',
     "json", "ERROR", "billing", "charge failed"),
    ("03-17 16:13:38.811  1702  2395 E WindowManager: Window leaked",
     "android", "ERROR", "WindowManager", "Window leaked"),
])
def test_headers_of_common_formats_are_recognised(line, fmt, level, component, message):
    rec = HeaderParser().parse(line)
    assert (rec.format, rec.level, rec.component, rec.message) == (fmt, level, component, message)


def test_a_user_format_splits_the_header():
    fmt = UserFormat("<Date> <Time> <Level> <Component>: <Content>")
    rec = HeaderParser("<Date> <Time> <Level> <Component>: <Content>").parse(
        "2024-05-01 12:00:00 Error billing.worker: charge 42 failed")
    assert fmt.names == ["Date", "Time", "Level", "Component", "Content"]
    assert (rec.level, rec.component, rec.message, rec.time) == ("ERROR", "billing.worker", "charge 42 failed",
                                                                  "2024-05-01 12:00:00")
    with pytest.raises(ValueError):
        UserFormat("<Date> <Time>")


def test_malformed_binary_and_very_long_lines_each_get_a_group():
    grouper = LogGrouper()
    lines = [b"", b"\x00\x01\x02\xff\xfe binary \x80", "\ufeff\u2028 odd unicode \x0b", b"{not json",
             b'{"message": 5}', b"x" * 5_000_000, ("word " * 300_000).encode(), "Jul 1 not syslog [", b"\r\n"]
    groups = [grouper.group(line) for line in lines]
    assert all(g.id > 0 for g in groups)
    for g in groups:
        assert "\n" not in g.template and "\t" not in g.template and "\r" not in g.template
    assert len(groups[5].template) < 100_000
