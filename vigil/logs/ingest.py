"""Log lines in: mined into templates, counted into the service's error groups, in batches.

A batch (20,000 lines by default) is one transaction: the service's template state is locked
(select_for_update), the lines are grouped in memory (`logtriage`), then each touched group's row
is updated once. Memory is bounded by the batch and the number of templates, never by the file.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, timezone as dt_timezone

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from logtriage import LogGrouper, Miner
from logtriage.headers import clean_text
from logtriage.triage import HOURS_KEPT, SAMPLES, SPREAD_KEPT, Triage, level_max

from .models import ErrorGroup, LogSource, ServiceLogs

BATCH = 20_000
MAX_LINE = 64 * 1024  # bytes of one line kept; the rest of a very long line is cut


@dataclass
class IngestResult:
    lines: int = 0
    groups: int = 0  # groups touched
    new_groups: list = field(default_factory=list)  # ErrorGroup ids
    regressed: list = field(default_factory=list)
    alerts: int = 0


def _dt(epoch):
    return datetime.fromtimestamp(epoch, dt_timezone.utc)


class Session:
    """Ingestion into one service; keeps its miner between batches while nobody else wrote."""

    def __init__(self, service, log_format=""):
        self.service = service
        self.log_format = log_format or None
        self.grouper = None
        self.version = None
        self.rng = random.Random()

    def _grouper(self, logs):
        if self.grouper is None or logs.version != self.version:
            miner = Miner.from_dict(logs.state) if logs.state else Miner()
            self.grouper = LogGrouper(miner, self.log_format)
        return self.grouper

    def ingest(self, lines, now, result):
        """One batch: returns the rows touched."""
        logs, _ = ServiceLogs.objects.get_or_create(service=self.service)
        with transaction.atomic():
            logs = ServiceLogs.objects.select_for_update().get(pk=logs.pk)
            grouper = self._grouper(logs)
            triage = Triage(grouper, seed=self.rng.random())
            now_epoch = now.timestamp()
            for line in lines:
                # PostgreSQL stores no NUL and no lone surrogate: samples are raw lines.
                if isinstance(line, bytes):
                    line = line[:MAX_LINE].decode("utf-8", "replace")
                    if "\x00" in line:
                        line = line.replace("\x00", " ")
                else:
                    line = clean_text(line[:MAX_LINE])
                triage.add(line.rstrip("\r\n"), now_epoch)
                result.lines += 1
            stats = triage.merged()
            touched = self._write(grouper.miner, stats, now, result)
            if triage.data_since is not None:
                since = _dt(triage.data_since)
                if logs.data_since is None or since < logs.data_since:
                    logs.data_since = since
            logs.state = grouper.miner.to_dict()
            logs.version += 1
            logs.updated_at = now
            logs.save()
            self.version = logs.version
        return logs, touched

    def _write(self, miner, stats, now, result):
        service = self.service
        keys = set(stats) | set(miner.aliases)
        rows = {g.key: g for g in ErrorGroup.objects.select_for_update().filter(service=service, key__in=keys)}
        # Groups the miner has merged since: fold their rows into the survivor's.
        for old, new in miner.aliases.items():
            row = rows.pop(old, None)
            if row is None:
                continue
            into = rows.get(new)
            if into is None:
                row.key = new
                rows[new] = row
                row.save(update_fields=["key"])
            else:
                _fold(into, row)
                into.save()
                row.delete()
        touched = []
        for key, st in stats.items():
            row = rows.get(key)
            first, last = _dt(st.first_seen), _dt(st.last_seen)
            is_new = row is None
            regressed = not is_new and row.state == ErrorGroup.State.FIXED
            if is_new:
                row = ErrorGroup(service=service, key=key, template=st.template, level=st.level, count=0,
                                 first_seen=first, last_seen=last, state_changed_at=now)
            elif regressed:
                row.state, row.state_changed_at = ErrorGroup.State.REGRESSED, now
            row.template = st.template
            row.level = level_max(row.level, st.level)
            row.count += st.count
            row.first_seen = min(row.first_seen, first)
            row.last_seen = max(row.last_seen, last)
            hourly = {int(h): c for h, c in row.hourly.items()}
            for h, c in st.hourly.items():
                hourly[h] = hourly.get(h, 0) + c
            for h in sorted(hourly)[:-HOURS_KEPT]:
                del hourly[h]
            row.hourly = {str(h): c for h, c in hourly.items()}
            row.samples, row.sampled = _merge_samples(row.samples, row.sampled, st.samples, st.sampled, self.rng)
            row.hosts = sorted(set(row.hosts) | st.hosts)[:SPREAD_KEPT]
            row.components = sorted(set(row.components) | st.components)[:SPREAD_KEPT]
            row.save()
            touched.append(row)
            if is_new:
                result.new_groups.append(row.pk)
            if regressed:
                result.regressed.append(row.pk)
        return touched


def _fold(into, row):
    into.count += row.count
    into.level = level_max(into.level, row.level)
    into.first_seen = min(into.first_seen, row.first_seen)
    into.last_seen = max(into.last_seen, row.last_seen)
    hourly = dict(into.hourly)
    for h, c in row.hourly.items():
        hourly[h] = hourly.get(h, 0) + c
    into.hourly = hourly
    into.samples = (into.samples + row.samples)[:SAMPLES]
    into.sampled += row.sampled
    into.hosts = sorted(set(into.hosts) | set(row.hosts))[:SPREAD_KEPT]
    into.components = sorted(set(into.components) | set(row.components))[:SPREAD_KEPT]
    if into.incident_id is None:
        into.incident_id = row.incident_id


def _merge_samples(kept, seen, new, new_seen, rng):
    """Two reservoirs into one: each kept line stands for seen/len lines of its side."""
    if len(kept) + len(new) <= SAMPLES:
        return kept + new, seen + new_seen
    total = seen + new_seen
    out = list(kept)
    for line in new:
        if len(out) < SAMPLES:
            out.append(line)
        elif rng.random() < new_seen / total:
            out[rng.randrange(SAMPLES)] = line
    return out, total


def ingest_lines(service, lines, *, source=None, log_format="", now=None, batch=None, progress=None):
    """Mine `lines` (an iterable of str or bytes) into the service's error groups; streams.

    `progress(lines_done)` is called after each batch. `now` fixes the receive time of every line
    (tests); else each batch takes the time it starts. Lines without a time in their header count
    at the receive time.
    """
    from .alerting import raise_alerts

    batch = batch or BATCH
    session = Session(service, log_format or (source.log_format if source else ""))
    result = IngestResult()
    buffer = []
    touched_all = {}

    def flush():
        at = now or timezone.now()
        logs, touched = session.ingest(buffer, at, result)
        for row in touched:
            touched_all[row.pk] = row
        buffer.clear()
        if progress:
            progress(result.lines)
        return logs, at

    logs = at = None
    for line in lines:
        buffer.append(line)
        if len(buffer) >= batch:
            logs, at = flush()
    if buffer or logs is None:
        logs, at = flush()
    if source is not None:
        LogSource.objects.filter(pk=source.pk).update(lines_received=F("lines_received") + result.lines, last_received_at=at)
    result.groups = len(touched_all)
    result.alerts = raise_alerts(logs, list(touched_all.values()), set(result.new_groups), set(result.regressed), at)
    return result
