"""Per-group statistics and the ranking of "the errors that are important".

The score of a group is a sum of points, each with its reason, so a page can say why a group ranks
where it does:

| factor | points |
| --- | --- |
| level (the highest seen) | FATAL 40, ERROR 30, WARN 15, INFO 0, DEBUG -10 |
| error words in the template (error, failed, exception, refused, timeout, ...) | 15 |
| novelty: first seen since the last deploy, or within the last `novelty` (7 days), after data from before that | 15 |
| burst: lines in the last hour against the group's own mean of the 24 hours before | 7 x log2(ratio), at most 20, from a ratio of 2 |
| spread: distinct hosts and components | 4 x log2(n), at most 10, from 2 |
| volume: lines in all | 2.5 x log10(1 + count), at most 10 |

Everything here is bounded per group (hourly counts for a week, a reservoir of samples, at most 50
hosts and components remembered), so memory grows with groups, not lines.
"""

import math
import random
import re
from datetime import datetime, timedelta, timezone

LEVEL_ORDER = {"": 0, "DEBUG": 0, "INFO": 1, "WARN": 2, "ERROR": 3, "FATAL": 4}
LEVEL_POINTS = {"FATAL": 40, "ERROR": 30, "WARN": 15, "INFO": 0, "DEBUG": -10, "": 0}
ERROR_WORDS = re.compile(
    r"\b(?:errors?|fail(?:s|ed|ure|ures|ing)?|fatal|exceptions?|panic|time[d ]?out|timeout|refused|denied|"
    r"corrupt\w*|crash\w*|abort\w*|unavailable|unreachable|lost|killed|segfault|overflow|cannot|can't|unable|"
    r"invalid|critical|severe|traceback|oom|out of memory|interrupt|declined|rejected|deadlock)\b",
    re.I,
)
HOURS_KEPT = 24 * 7
SAMPLES = 5
SPREAD_KEPT = 50
NOVELTY = timedelta(days=7)


def level_max(a, b):
    return a if LEVEL_ORDER.get(a, 0) >= LEVEL_ORDER.get(b, 0) else b


class GroupStats:
    __slots__ = ("group_id", "template", "level", "count", "first_seen", "last_seen", "hourly", "samples",
                 "sampled", "hosts", "components", "extra")

    def __init__(self, group_id, template=""):
        self.group_id = group_id
        self.template = template
        self.level = ""
        self.count = 0
        self.first_seen = None  # epoch seconds
        self.last_seen = None
        self.hourly = {}  # hour (epoch // 3600) -> lines
        self.samples = []
        self.sampled = 0  # lines the reservoir has seen
        self.hosts = set()
        self.components = set()
        self.extra = None  # free for callers (the benchmark counts alert lines here)

    def add(self, record, line, when, rng=random):
        self.count += 1
        if record.level and LEVEL_ORDER.get(record.level, 0) > LEVEL_ORDER.get(self.level, 0):
            self.level = record.level
        if self.first_seen is None or when < self.first_seen:
            self.first_seen = when
        if self.last_seen is None or when > self.last_seen:
            self.last_seen = when
        hour = int(when // 3600)
        hourly = self.hourly
        hourly[hour] = hourly.get(hour, 0) + 1
        if len(hourly) > HOURS_KEPT:
            del hourly[min(hourly)]
        # Reservoir sampling (Algorithm R): every line has the same chance to be kept.
        self.sampled += 1
        if len(self.samples) < SAMPLES:
            self.samples.append(line)
        else:
            j = int(rng.random() * self.sampled)
            if j < SAMPLES:
                self.samples[j] = line
        if record.host and len(self.hosts) < SPREAD_KEPT:
            self.hosts.add(record.host)
        if record.component and len(self.components) < SPREAD_KEPT:
            self.components.add(record.component)


def score(template, level, count, first_seen, hourly, spread, now, data_since=None, novelty=NOVELTY, last_deploy=None):
    """(points, [(factor, points, reason)]) for one group; times are epoch seconds.

    Novelty: first seen since the last deploy (when there was data before it), or else within the
    last `novelty` when the data goes back further.
    """
    parts = []
    points = LEVEL_POINTS.get(level, 0)
    parts.append(("level", points, f"level {level or 'unknown'}"))
    words = sorted({w.lower() for w in ERROR_WORDS.findall(template)})
    if words:
        parts.append(("error words", 15, "error words: " + ", ".join(words[:4])))
    if (first_seen is not None and last_deploy is not None and data_since is not None
            and first_seen >= last_deploy > data_since):
        parts.append(("novelty", 15, f"new since the last deploy ({_ago(now - last_deploy)} ago)"))
    elif first_seen is not None and now - first_seen <= novelty.total_seconds() and (
            data_since is not None and first_seen - data_since > novelty.total_seconds() / 7):
        parts.append(("novelty", 15, f"new: first seen {_ago(now - first_seen)} ago"))
    this_hour = int(now // 3600)
    recent = hourly.get(this_hour, 0)
    before = sum(hourly.get(h, 0) for h in range(this_hour - 24, this_hour))
    baseline = max(before / 24, 1 / 24)
    ratio = recent / baseline
    if recent >= 3 and ratio >= 2:
        parts.append(("burst", round(min(20.0, 7 * math.log2(ratio)), 1),
                      f"burst: {recent} lines in the last hour against {before / 24:.1f}/h before"))
    if spread >= 2:
        parts.append(("spread", round(min(10.0, 4 * math.log2(spread)), 1), f"spread over {spread} hosts/components"))
    parts.append(("volume", round(min(10.0, 2.5 * math.log10(1 + count)), 1), f"{count} lines"))
    return round(sum(p for _, p, _ in parts), 1), parts


def _ago(seconds):
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 86400:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


_ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T -](\d\d)[:.](\d\d)[:.](\d\d)")
_SLASHED = re.compile(r"(\d{4})/(\d\d)/(\d\d)[ T](\d\d):(\d\d):(\d\d)")
_EPOCH = re.compile(r"(?<!\d)(1\d{9})(?!\d)")
_SYSLOG = re.compile(r"([A-Z][a-z]{2}) +(\d{1,2}) (\d\d):(\d\d):(\d\d)")
_MONTHS = {m: i + 1 for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())}


def parse_time(text, default):
    """Epoch seconds of a header's time (UTC when it has no zone), or `default`."""
    if not text:
        return default
    m = _ISO.search(text) or _SLASHED.search(text)
    try:
        if m:
            return datetime(*map(int, m.groups()), tzinfo=timezone.utc).timestamp()
        m = _EPOCH.search(text)
        if m:
            return float(m.group(1))
        m = _SYSLOG.search(text)
        if m and m.group(1) in _MONTHS:
            year = datetime.fromtimestamp(default, timezone.utc).year
            t = datetime(year, _MONTHS[m.group(1)], int(m.group(2)), int(m.group(3)), int(m.group(4)),
                         int(m.group(5)), tzinfo=timezone.utc).timestamp()
            return t if t <= default + 86400 else t - 365 * 86400  # no year: not in the future
    except ValueError:
        pass
    return default


_DIGIT = re.compile(r"\d").search


class Triage:
    """Lines in; per-group statistics out, ranked. Pure Python: the benchmark and the app share it."""

    def __init__(self, grouper, seed=0):
        self.grouper = grouper
        self.stats = {}
        self.known = {}  # line without digits -> (record, group) of the first such line
        self.rng = random.Random(seed)
        self.data_since = None
        self.latest = None

    def add(self, line, now):
        # Lines that differ only in digits share group, level, host and component: parse one of
        # them; of the others only the time (at the start of the line).
        quick = line.encode("utf-8", "surrogateescape").translate(None, b"0123456789")
        known = self.known.get(quick)
        if known is None:
            record, group = self.grouper.add(line)
            if len(self.known) >= 50_000:
                self.known.clear()
            learning = record.format == "plain" and self.grouper.parser is not None and self.grouper.parser.width is None
            # a host or component with digits (web-1, web-2) varies among such lines: parse each
            if not learning and not _DIGIT(record.host) and not _DIGIT(record.component):
                self.known[quick] = (record, group)
            when = parse_time(record.time, now)
        else:
            record, group = known
            if group.merged_into is not None:
                group = self.grouper.miner._live(group)
                self.known[quick] = (record, group)
            group.count += 1
            when = parse_time(line[:64], now) if record.time else now
        if self.data_since is None or when < self.data_since:
            self.data_since = when
        if self.latest is None or when > self.latest:
            self.latest = when
        st = self.stats.get(group.id)
        if st is None:
            st = self.stats[group.id] = GroupStats(group.id)
        st.template = group.template
        st.add(record, line if len(line) <= 2000 else line[:2000], when, self.rng)
        return record, group, st

    def merged(self):
        """Fold statistics of groups the miner has merged into their survivors."""
        miner = self.grouper.miner
        for gid in list(self.stats):
            live = miner.resolve(gid)
            if live != gid and gid in self.stats:
                src = self.stats.pop(gid)
                dst = self.stats.setdefault(live, GroupStats(live, src.template))
                dst.count += src.count
                dst.level = level_max(dst.level, src.level)
                for h, c in src.hourly.items():
                    dst.hourly[h] = dst.hourly.get(h, 0) + c
                dst.first_seen = min(x for x in (dst.first_seen, src.first_seen) if x is not None)
                dst.last_seen = max(x for x in (dst.last_seen, src.last_seen) if x is not None)
                dst.hosts |= src.hosts
                dst.components |= src.components
                dst.samples = (dst.samples + src.samples)[:SAMPLES]
                if src.extra is not None:
                    dst.extra = (dst.extra or 0) + src.extra
        for gid, st in self.stats.items():
            g = miner.groups.get(gid)
            if g is not None:
                st.template = g.template
        return self.stats

    def ranked(self, now=None):
        now = self.latest if now is None else now
        out = []
        for st in self.merged().values():
            points, why = score(st.template, st.level, st.count, st.first_seen, st.hourly,
                                len(st.hosts) + len(st.components), now, self.data_since)
            out.append((points, st, why))
        out.sort(key=lambda t: (-t[0], -t[1].count))
        return out
