"""Log triage benchmark: template mining accuracy and speed on the labelled Loghub-2k samples,
against the PyPI `drain3` package in the same run; the BGL ranking check; a 1-million-line import
with its memory.

    python bench/logtriage.py              # everything; rewrites <!-- bench:logtriage --> in docs/benchmarks.md
    python bench/logtriage.py --quick      # fewer timing rounds, 200,000 lines instead of 1 million; prints only
    python bench/logtriage.py --no-import  # skip the 1-million-line runs

The data is read from $VIGIL_LOGHUB_DIR (default /work/shared/data/loghub-2k) and never copied into
the repository (its licence allows internal measurement only); without it the benchmark says so
and stops. Scores follow the usual definitions (Zhu et al. 2019; Khan et al. 2022):
GA, a line counts when its predicted group holds exactly the lines of its true group; FGA, the F1
over groups; PA (template accuracy), the share of lines whose final template is the true one.
"""

import argparse
import csv
import gc
import gzip
import logging
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))  # before bench/: `logtriage` is the package, not this file

import report  # noqa: E402

from logtriage import LogGrouper, Miner  # noqa: E402
from logtriage.triage import Triage  # noqa: E402

DOC = REPO / "docs" / "benchmarks.md"
SECTION = "logtriage"
DEFAULT_DATA = "/work/shared/data/loghub-2k"
DATASETS = ["Android", "Apache", "BGL", "HPC", "Hadoop", "Linux", "OpenSSH", "OpenStack", "Proxifier", "Spark",
            "Windows", "Zookeeper"]


def say(msg=""):
    print(msg, flush=True)


# -- data and scores ----------------------------------------------------------------------------------

def load(root, name):
    folder = Path(root) / name
    with open(folder / f"{name}_2k.log_structured_corrected.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    with open(folder / f"{name}_2k.log", encoding="utf-8", newline="") as f:
        raw = [line.rstrip("\r\n") for line in f]
    if len(raw) != len(rows):
        raise SystemExit(f"{name}: {len(raw)} raw lines but {len(rows)} labelled rows")
    return {"content": [r["Content"] for r in rows], "raw": raw, "truth": [r["EventTemplate"] for r in rows]}


def scores(pred, templates, truth):
    """GA, FGA and PA of predicted group ids (and the final template per line) against the truth."""
    predicted, true = defaultdict(list), defaultdict(list)
    for i, (p, t) in enumerate(zip(pred, truth)):
        predicted[p].append(i)
        true[t].append(i)
    true_sets = {frozenset(v) for v in true.values()}
    right_lines = right_groups = 0
    for members in predicted.values():
        if frozenset(members) in true_sets:
            right_lines += len(members)
            right_groups += 1
    precision, recall = right_groups / len(predicted), right_groups / len(true)
    fga = 2 * precision * recall / (precision + recall) if right_groups else 0.0
    norm = lambda s: " ".join(s.split())  # noqa: E731
    pa = sum(norm(a) == norm(b) for a, b in zip(templates, truth)) / len(truth)
    return {"ga": right_lines / len(truth), "fga": fga, "pa": pa, "groups": len(predicted), "true_groups": len(true)}


# -- the parsers under test ---------------------------------------------------------------------------

def run_vigil(lines, raw):
    grouper = LogGrouper(Miner(), headers=raw)
    add = grouper.group if raw else grouper.miner.add  # as `vigil logs group` does; content: the bare miner
    t0 = time.perf_counter()
    groups = [add(line) for line in lines]
    elapsed = time.perf_counter() - t0
    miner = grouper.miner
    ids = [miner.resolve(g.id) for g in groups]
    return ids, [miner.groups[i].template for i in ids], elapsed


def drain3_miner():
    from drain3 import TemplateMiner
    from drain3.template_miner_config import TemplateMinerConfig

    config = TemplateMinerConfig()  # the package's defaults: sim_th 0.4, depth 4, no masking
    config.profiling_enabled = False
    return TemplateMiner(config=config)


def run_drain3(lines, raw):
    miner = drain3_miner()
    add = miner.add_log_message
    t0 = time.perf_counter()
    ids = [add(line)["cluster_id"] for line in lines]
    elapsed = time.perf_counter() - t0
    clusters = miner.drain.id_to_cluster
    return ids, [clusters[i].get_template() for i in ids], elapsed


def drain3_version():
    try:
        import importlib.metadata

        return importlib.metadata.version("drain3")
    except Exception:
        return None


# -- accuracy and speed per dataset --------------------------------------------------------------------

def measure_datasets(root, rounds):
    runners = [("Vigil", "content", run_vigil), ("drain3", "content", run_drain3),
               ("Vigil", "raw", run_vigil), ("drain3", "raw", run_drain3)]
    results = {}  # (parser, input) -> {dataset: {...}}
    for name in DATASETS:
        data = load(root, name)
        line = []
        for parser, kind, run in runners:
            best = None
            for r in range(rounds):
                gc.collect()
                ids, templates, elapsed = run(data[kind], kind == "raw")
                best = elapsed if best is None else min(best, elapsed)
                if r == 0:
                    res = scores(ids, templates, data["truth"])
            res["lines_per_s"] = len(ids) / best
            results.setdefault((parser, kind), {})[name] = res
            line.append(f"{parser}/{kind} GA {res['ga']:.3f} {res['lines_per_s']:,.0f}/s")
        say(f"  {name:10s} " + "; ".join(line))
    return results


def stream_throughput(root, copies):
    """One long stream: the 12 datasets' lines interleaved, `copies` times, through one miner."""
    streams = {"content": [], "raw": []}
    loaded = [load(root, n) for n in DATASETS]
    for kind in streams:
        for _ in range(copies):
            for i in range(2000):
                for d in loaded:
                    streams[kind].append(d[kind][i])
    out = {}
    for kind, lines in streams.items():
        for parser, run in (("Vigil", run_vigil), ("drain3", run_drain3)):
            best = None
            for _ in range(2):
                gc.collect()
                _, _, elapsed = run(lines, kind == "raw")
                best = elapsed if best is None else min(best, elapsed)
            out[(parser, kind)] = len(lines) / best
            say(f"  stream of {len(lines):,} {kind} lines: {parser} {len(lines) / best:,.0f} lines/s")
    return out


# -- BGL ranking ---------------------------------------------------------------------------------------

def bgl_ranking(root):
    """Remove BGL's first field (the alert tag), import the rest, rank; compare with count alone."""
    raw = load(root, "BGL")["raw"]
    triage = Triage(LogGrouper())
    alert_lines = 0
    for line in raw:
        tag, _, rest = line.partition(" ")
        _, _, st = triage.add(rest, now=0.0)
        if tag != "-":
            st.extra = (st.extra or 0) + 1
            alert_lines += 1
    by_score = [st for _, st, _ in triage.ranked()]
    by_count = sorted(triage.stats.values(), key=lambda s: -s.count)

    def top10(ordered):
        top = ordered[:10]
        groups = sum(1 for st in top if (st.extra or 0) * 2 > st.count)
        covered = sum(st.extra or 0 for st in top)
        return groups, covered

    alert_groups = sum(1 for st in triage.stats.values() if (st.extra or 0) * 2 > st.count)
    result = {"lines": len(raw), "alert_lines": alert_lines, "groups": len(triage.stats), "alert_groups": alert_groups,
              "score": top10(by_score), "count": top10(by_count),
              "top": [(points, st.count, st.extra or 0, st.level, st.template, why) for points, st, why in triage.ranked()[:10]]}
    say(f"  BGL: top 10 by score: {result['score'][0]}/10 alert groups covering {result['score'][1]}/{alert_lines} alert lines; "
        f"by count: {result['count'][0]}/10 covering {result['count'][1]}/{alert_lines}")
    return result


# -- one million lines ---------------------------------------------------------------------------------

_DIGIT_RUN = re.compile(r"\d+")


def write_big_file(root, path, lines_wanted):
    """`lines_wanted` raw lines made from the 12 datasets, numbers changed so that lines repeat rarely."""
    rng = random.Random(8)
    pool = [line for n in DATASETS for line in load(root, n)["raw"]]
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as f:
        for i in range(lines_wanted):
            line = pool[rng.randrange(len(pool))]
            line = _DIGIT_RUN.sub(lambda m: str(rng.randrange(10 ** len(m.group()))), line)
            f.write(line + "\n")


class RssSampler(threading.Thread):
    """VmRSS of a process every 0.1 s, with the time since start."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.samples, self.stop = pid, [], threading.Event()
        self.t0 = time.monotonic()

    def run(self):
        while not self.stop.is_set():
            try:
                for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        self.samples.append((time.monotonic() - self.t0, int(line.split()[1])))
            except (FileNotFoundError, ProcessLookupError):
                break
            self.stop.wait(0.1)


def run_measured(cmd, env, stdin_path=None, stdout=subprocess.DEVNULL):
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, env=env, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE)
        sampler = RssSampler(proc.pid)
        sampler.start()
        _, err = proc.communicate()
        elapsed = time.monotonic() - t0
        sampler.stop.set()
        sampler.join()
    finally:
        if stdin_path:
            stdin.close()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}): {err.decode()[-2000:]}")
    samples = sampler.samples or [(0, 0)]
    peak = max(kb for _, kb in samples)
    quarters = []
    for q in (0.25, 0.5, 0.75, 1.0):
        at = [kb for t, kb in samples if t <= q * elapsed]
        quarters.append(at[-1] if at else 0)
    return {"seconds": elapsed, "cpu": cpu, "peak_kib": peak, "quarters_kib": quarters}


def big_import(root, lines_wanted, workdir):
    path = workdir / "big.log.gz"
    say(f"  writing {lines_wanted:,} lines to {path} ...")
    write_big_file(root, path, lines_wanted)
    plain = workdir / "big.log"
    with gzip.open(path, "rb") as src, open(plain, "wb") as dst:
        shutil.copyfileobj(src, dst)
    size = plain.stat().st_size
    out = {"lines": lines_wanted, "bytes": size}
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    say("  python -m logtriage group < big.log ...")
    out["group"] = run_measured([sys.executable, "-m", "logtriage", "group"], dict(env, PYTHONPATH=str(REPO)), plain)
    say(f"    {out['group']['seconds']:.1f} s, peak RSS {out['group']['peak_kib'] / 1024:.1f} MiB")
    vigil = Path(sys.executable).parent / "vigil"
    if vigil.exists():
        data_dir = workdir / "data"
        venv = dict(env, VIGIL_DATA_DIR=str(data_dir))
        for name in ("DATABASE_URL", "VIGIL_TEST_DATABASE_URL"):
            venv.pop(name, None)
        try:
            subprocess.run([str(vigil), "migrate"], env=venv, check=True, capture_output=True, timeout=600)
            setup = ("from vigil.accounts.models import Team; from vigil.catalog.models import Service; "
                     "t = Team.objects.create(name='Bench', slug='bench'); "
                     "Service.objects.create(team=t, name='Bench', slug='bench')")
            subprocess.run([str(vigil), "shell", "-c", setup], env=venv, check=True, capture_output=True, timeout=600)
            say("  vigil logs import big.log.gz --service bench ...")
            out["import"] = run_measured([str(vigil), "logs", "import", str(path), "--service", "bench", "--no-progress"], venv)
            say(f"    {out['import']['seconds']:.1f} s, peak RSS {out['import']['peak_kib'] / 1024:.1f} MiB")
        except (subprocess.CalledProcessError, RuntimeError) as exc:
            err = getattr(exc, "stderr", b"") or b""
            say(f"    vigil logs import could not run: {exc} {err.decode(errors='replace')[-500:]}")
    return out


# -- docs/benchmarks.md --------------------------------------------------------------------------------

def section(results, stream, bgl, big, machine, when, commit, args):
    d3 = drain3_version()
    lines = [
        "## Log triage: template mining on Loghub-2k",
        "",
        "- Command: `make bench` (runs `bench/logtriage.py` through `bench/run.py --only logtriage`)",
        f"- Date: {when:%Y-%m-%d %H:%M} UTC" + (f", code at commit {commit}" if commit else ""),
        f"- Machine: {report.machine_line(machine)}",
        f"- Data: the 12 labelled Loghub-2k samples (2,000 lines each, corrected labels), read from `{args.data}`; "
        "not shipped (internal measurement only).",
        f"- Compared with: PyPI `drain3` {d3} with its default configuration (similarity 0.4, depth 4, no masking), "
        "run on the same lines in the same process. Vigil's miner runs with its one configuration for all datasets.",
        f"- Speed: lines per second of a fresh miner over each dataset's 2,000 lines, best of {args.rounds} rounds, "
        "rounds of the two parsers interleaved; the machine is shared, so compare the two columns of one run, not runs.",
        "",
        "GA: a line counts when its predicted group holds exactly the lines of its true group. FGA: F1 over groups. "
        "PA (template accuracy): the line's final template equals the labelled one, white space aside; Vigil writes a "
        "run of variables as one `<*>` (`<*>:<*>` is `<*>`), so its PA is lower than its grouping.",
        "",
    ]
    for kind, title in (("content", "Input: the `Content` column (header removed by the dataset's own pattern)"),
                        ("raw", "Input: whole raw lines (Vigil parses the header itself; drain3 sees the whole line)")):
        lines += [f"### {title}", "",
                  "| dataset | Vigil GA | Vigil FGA | Vigil PA | Vigil groups | Vigil lines/s | drain3 GA | drain3 FGA | drain3 PA | drain3 groups | drain3 lines/s | true groups |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        ours, theirs = results[("Vigil", kind)], results[("drain3", kind)]
        for name in DATASETS:
            a, b = ours[name], theirs[name]
            lines.append(f"| {name} | {a['ga']:.3f} | {a['fga']:.3f} | {a['pa']:.3f} | {a['groups']} | {a['lines_per_s']:,.0f} | "
                         f"{b['ga']:.3f} | {b['fga']:.3f} | {b['pa']:.3f} | {b['groups']} | {b['lines_per_s']:,.0f} | {a['true_groups']} |")

        def avg(res, key):
            return sum(res[n][key] for n in DATASETS) / len(DATASETS)

        def rate(res):  # all lines over all time: the lines/s of the whole run
            return len(DATASETS) * 2000 / sum(2000 / res[n]["lines_per_s"] for n in DATASETS)

        lines.append(f"| **average** | **{avg(ours, 'ga'):.3f}** | {avg(ours, 'fga'):.3f} | {avg(ours, 'pa'):.3f} | | "
                     f"**{rate(ours):,.0f}** | **{avg(theirs, 'ga'):.3f}** | {avg(theirs, 'fga'):.3f} | {avg(theirs, 'pa'):.3f} | | "
                     f"**{rate(theirs):,.0f}** | |")
        lines += ["", f"Speed ratio Vigil / drain3 on {kind} input: **{rate(ours) / rate(theirs):.2f}x** "
                  "(the averages' lines/s are all lines over all time).", ""]
    if stream:
        lines += ["### One long stream", "",
                  f"The 12 datasets' lines interleaved (line 1 of each, then line 2, ...), {args.copies} times over, through one miner: "
                  "a steady state with caches warm.", "",
                  "| input | lines | Vigil lines/s | drain3 lines/s | ratio |", "| --- | ---: | ---: | ---: | ---: |"]
        n = len(DATASETS) * 2000 * args.copies
        for kind in ("content", "raw"):
            a, b = stream[("Vigil", kind)], stream[("drain3", kind)]
            lines.append(f"| {kind} | {n:,} | {a:,.0f} | {b:,.0f} | {a / b:.2f}x |")
        lines.append("")
    if bgl:
        lines += ["### Ranking check on BGL", "",
                  f"BGL's raw lines start with an alert tag (`-` for none). The tag was removed and the other {bgl['lines']:,} lines "
                  f"imported through the same code as `vigil logs import` uses (`logtriage.triage`), giving {bgl['groups']} groups "
                  f"of which {bgl['alert_groups']} are alert groups (more than half their lines carry an alert tag); "
                  f"{bgl['alert_lines']} lines are alert lines.", "",
                  "| ranking | alert groups in the top 10 | alert lines they cover |", "| --- | ---: | ---: |",
                  f"| Vigil's score | {bgl['score'][0]}/10 | {bgl['score'][1]}/{bgl['alert_lines']} ({bgl['score'][1] / bgl['alert_lines']:.0%}) |",
                  f"| count alone | {bgl['count'][0]}/10 | {bgl['count'][1]}/{bgl['alert_lines']} ({bgl['count'][1] / bgl['alert_lines']:.0%}) |",
                  "", "The top 10 by score, with the reasons the page shows:", "",
                  "| score | lines | alert lines | level | template | why |", "| ---: | ---: | ---: | --- | --- | --- |"]
        for points, count, alerts, level, template, why in bgl["top"]:
            t = template.replace("|", "\\|")
            t = t if len(t) <= 70 else t[:67] + "..."
            reasons = "; ".join(f"{reason} ({p:+g})" for _, p, reason in why).replace("|", "\\|")
            lines.append(f"| {points:g} | {count} | {alerts} | {level or '-'} | `{t}` | {reasons} |")
        lines.append("")
    if big:
        lines += [f"### {big['lines']:,} lines", "",
                  f"A file of {big['lines']:,} raw lines ({big['bytes'] / 1e6:.0f} MB uncompressed) drawn at random from the 12 "
                  "datasets with every number changed, so that lines rarely repeat. RSS is sampled every 0.1 s; "
                  "the quarters are the RSS at 25/50/75/100 % of the run: flat memory means the last quarters do not grow "
                  "with the lines read. CPU seconds are user + system time of the process (and its children): on a "
                  "busy shared machine, lines per CPU second says more than lines per second.", "",
                  "| command | seconds | CPU seconds | lines/s | lines per CPU second | peak RSS MiB | RSS at 25 / 50 / 75 / 100 % (MiB) |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
        for key, label in (("group", "`python -m logtriage group < big.log` (the `vigil logs group` loop, no Django)"),
                           ("import", "`vigil logs import big.log.gz --service bench` (gzip, SQLite, group statistics written)")):
            if key in big:
                m = big[key]
                q = " / ".join(f"{kb / 1024:.1f}" for kb in m["quarters_kib"])
                lines.append(f"| {label} | {m['seconds']:.1f} | {m['cpu']:.1f} | {big['lines'] / m['seconds']:,.0f} | "
                             f"{big['lines'] / max(m['cpu'], 1e-9):,.0f} | {m['peak_kib'] / 1024:.1f} | {q} |")
        if "import" not in big:
            lines.append("| `vigil logs import` | not measured in this run | | | | | |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="1 timing round, 200,000-line import; prints only unless --write")
    p.add_argument("--write", action="store_true")
    p.add_argument("--no-write", action="store_true")
    p.add_argument("--no-import", action="store_true", help="skip the 1-million-line runs")
    p.add_argument("--keep", action="store_true")
    p.add_argument("--lines", type=int, default=None, help="lines of the big import (default 1,000,000)")
    args = p.parse_args(argv)
    args.data = os.environ.get("VIGIL_LOGHUB_DIR", DEFAULT_DATA)
    args.rounds = 1 if args.quick else 5
    args.copies = 2 if args.quick else 5
    args.lines = args.lines or (200_000 if args.quick else 1_000_000)
    write = not args.no_write and (args.write or not args.quick)
    if not (Path(args.data) / "BGL").is_dir():
        say(f"Log triage benchmark skipped: the Loghub-2k data is not at {args.data} "
            "(set VIGIL_LOGHUB_DIR to the folder holding Android/, Apache/, BGL/, ...).")
        return 0
    try:
        drain3_miner()
    except ImportError:
        say("Log triage benchmark: drain3 is not installed (pip install -e '.[test]'); measuring without it is pointless.")
        return 1
    logging.getLogger("drain3").setLevel(logging.WARNING)
    machine, when, commit = report.machine(), report.utc_now(), report.git_commit(REPO)
    say(f"Log triage benchmark ({'quick' if args.quick else 'full'} run) on {report.machine_line(machine)}")
    say("Accuracy and speed per dataset:")
    results = measure_datasets(args.data, args.rounds)
    stream = stream_throughput(args.data, args.copies)
    bgl = bgl_ranking(args.data)
    big = None
    if not args.no_import:
        workdir = Path(tempfile.mkdtemp(prefix="vigil-logbench-"))
        try:
            big = big_import(args.data, args.lines, workdir)
        finally:
            if args.keep:
                say(f"Kept {workdir}")
            else:
                shutil.rmtree(workdir, ignore_errors=True)
    text = section(results, stream, bgl, big, machine, when, commit, args)
    say("")
    say(text)
    if write:
        report.write_section(DOC, SECTION, text)
        say(f"Wrote {DOC.relative_to(REPO)} (section <!-- bench:{SECTION} -->)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
