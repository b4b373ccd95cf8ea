"""The whole multimodal pipeline: Spark local[2] against one plain Python process, and scaling.

- vs plain (`run_vs_plain`): configs/sample.toml's pipeline (WARC pages with images, JSONL
  docs, webdataset image-text pairs, videos; every stage including the four dedup stages,
  tokenize and shards) over a sample-like corpus k times the sample (benchmarks.scaled_corpus,
  default k = 4). Ours: `pipelines.run.run_pipeline` on Spark `local[2]`, timed from a started
  session (the session start is measured separately and reported). Baseline:
  benchmarks.plain_pipeline, the same stage functions in one Python process, timed from the
  call of `run_plain` (stage imports and model loads included, interpreter start not). Each
  side runs in a fresh Python process, one after the other, RUNS times. The row's ratio is
  the median over runs of plain time / Spark time, with its range; the detail says whether
  both wrote the same documents per source and the same shards (names and sha256).
- scaling (`run_scaling_time`, `run_scaling_memory`): `earlyfuse run` (`python -m jobs.cli
  run CFG --output ... --no-progress --json --master local[2]`) at 1x and 4x, each in a
  fresh process (and so a fresh JVM and Python workers). Time: the pipeline's own total
  (`timings_s.total`, from a started session; the process's wall time is in the detail),
  ratio 4 t(1x) / t(4x), target 4 / 4.4. Memory: the peak, over the run, of the summed RSS
  of the whole process tree (the CLI's Python, the JVM, pyspark's daemon and workers),
  sampled every 100 ms from /proc; ratio peak(1x) / peak(4x), target 1 / 1.2. RUNS rounds
  of the two sizes serve both rows (median and range of the per-round ratios).

    python -m benchmarks.bench_e2e [--k 4] [--only vs_plain|scaling]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from functools import cache
from pathlib import Path

from benchmarks import scaled_corpus
from benchmarks.timing import ratio_row, ratio_text

ROOT = Path(__file__).resolve().parent.parent
VS_PLAIN_TARGET = 1.5
RUNS = 3
TIME_TARGET = round(4 / 4.4, 3)
MEMORY_TARGET = round(1 / 1.2, 3)
PAGE = os.sysconf("SC_PAGE_SIZE")


# --------------------------------------------------------------------------- memory


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:  # gone between listdir and open
            continue
        # Fields after the command name, which may hold spaces and parentheses.
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(name))
    return kids


def _kind(pid: int, root: int) -> str:
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        cmd = f.read()
    # The JVM first: its command line names the daemon module too (spark.python.daemon.module).
    if b"java" in cmd.split(b"\0", 1)[0]:
        return "JVM"
    if b"pyspark.daemon" in cmd or b"spark_daemon" in cmd:  # Spark's daemon or pipelines.spark_daemon
        return "pyspark daemon+workers"
    return "driver python" if pid == root else "other"


def tree_rss(pid: int) -> tuple[int, dict[str, list[int]]]:
    """Summed resident set size (bytes) of pid and all its descendants, and per kind of
    process [bytes, processes]. A JVM's child that is still a JVM is one of its helper
    processes (`chmod`, `jspawnhelper`) between spawn and exec, sharing the JVM's memory
    for a moment: not counted, or a sample would hold the JVM twice."""
    kids = _children_map()
    todo, total, by_kind = [(pid, None)], 0, {}
    while todo:
        p, parent_kind = todo.pop()
        try:
            with open(f"/proc/{p}/statm", "rb") as f:
                rss = int(f.read().split()[1]) * PAGE
            kind = _kind(p, pid)
        except (OSError, IndexError, ValueError):
            continue
        todo += [(k, kind) for k in kids.get(p, [])]
        if kind == parent_kind == "JVM":
            continue
        total += rss
        entry = by_kind.setdefault(kind, [0, 0])
        entry[0] += rss
        entry[1] += 1
    return total, by_kind


class TreeMemory:
    """Samples tree_rss(pid) every `interval` s in a thread; keeps the peak."""

    def __init__(self, pid: int, interval: float = 0.1):
        self.pid, self.interval = pid, interval
        self.peak, self.peak_by_kind, self.samples = 0, {}, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            total, by_kind = tree_rss(self.pid)
            self.samples += 1
            if total > self.peak:
                self.peak, self.peak_by_kind = total, by_kind
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


TICK = os.sysconf("SC_CLK_TCK")


def tree_cpu(pid: int) -> dict[int, tuple[str, float]]:
    """{pid: (kind, CPU seconds used so far, user + system, all threads)} for pid and its
    descendants."""
    kids = _children_map()
    todo, out = [pid], {}
    while todo:
        p = todo.pop()
        todo += kids.get(p, [])
        try:
            with open(f"/proc/{p}/stat", "rb") as f:
                stat = f.read()
            fields = stat[stat.rindex(b")") + 2:].split()
            out[p] = (_kind(p, pid), (int(fields[11]) + int(fields[12])) / TICK)
        except (OSError, IndexError, ValueError):
            continue
    return out


class TreeCPU:
    """CPU seconds used by pid's process tree while the block runs, per kind of process.
    Sampled every `interval` s, so a process that ends between samples loses at most its
    last interval; processes that existed at the start count only what they used since."""

    def __init__(self, pid: int, interval: float = 0.1):
        self.pid, self.interval = pid, interval
        self.start: dict[int, float] = {}
        self.last: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.last.update(tree_cpu(self.pid))
            self._stop.wait(self.interval)

    def __enter__(self):
        self.start = {p: c for p, (_, c) in tree_cpu(self.pid).items()}
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.last.update(tree_cpu(self.pid))

    def by_kind(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for p, (kind, cpu) in self.last.items():
            out[kind] = out.get(kind, 0.0) + cpu - self.start.get(p, 0.0)
        return {k: round(v, 2) for k, v in sorted(out.items(), key=lambda kv: -kv[1])}


# --------------------------------------------------------------------------- helpers


def _python() -> str:
    return sys.executable


def _env() -> dict:
    # `python -m` from the repository root finds benchmarks/; nothing else is changed, so
    # the CLI runs as a user's would.
    return dict(os.environ)


def _json_out(stdout: str) -> dict:
    """The JSON document a child printed last (Spark may print before it)."""
    start = stdout.index("{")
    return json.loads(stdout[start:])


def shard_samples(output: str) -> dict[str, dict]:
    """Per sample key in an output's shards: its source (from the sample's JSON)."""
    from pipelines.stats import scan_shard

    manifest = json.loads((Path(output) / "manifest.json").read_text())
    samples = {}
    for s in manifest["shards"]:
        for meta in scan_shard(str(Path(output) / "shards" / s["name"])):
            samples[meta["id"]] = {"source": meta["source"], "n_tokens": meta["n_tokens"]}
    return samples


def compare_outputs(spark_out: str, plain_out: str) -> dict:
    """Same documents kept (ids per source) and the same shards (names, sha256)?"""
    a, b = shard_samples(spark_out), shard_samples(plain_out)
    per_source: dict[str, list[int]] = {}
    for side, samples in ((0, a), (1, b)):
        for meta in samples.values():
            per_source.setdefault(meta["source"], [0, 0])[side] += 1
    ma = json.loads((Path(spark_out) / "manifest.json").read_text())
    mb = json.loads((Path(plain_out) / "manifest.json").read_text())
    shards_a = [(s["name"], s["sha256"]) for s in ma["shards"]]
    shards_b = [(s["name"], s["sha256"]) for s in mb["shards"]]
    return {"same_ids": set(a) == set(b), "only_spark": len(set(a) - set(b)), "only_plain": len(set(b) - set(a)),
            "kept_per_source": {k: tuple(v) for k, v in sorted(per_source.items())},
            "same_shards": shards_a == shards_b, "shards": (len(shards_a), len(shards_b)),
            "identical_shards": len(set(shards_a) & set(shards_b))}


# --------------------------------------------------------------------------- the two sides


def spark_side(config: str, output: str, master: str = "local[2]") -> dict:
    """In this process: start a session (timed), then run_pipeline (timed)."""
    from pipelines.config import load_config
    from pipelines.run import run_pipeline
    from pipelines.spark import get_session

    cfg = load_config(config)
    cfg.sample.generate = ""
    cfg.run.output, cfg.run.master, cfg.run.progress, cfg.run.resume = output, master, False, False
    t = time.monotonic()
    spark = get_session(cfg)
    spark.range(1).count()  # the first job starts the executor side too
    session_s = time.monotonic() - t
    t = time.monotonic()
    with TreeCPU(os.getpid()) as cpu:
        result = run_pipeline(cfg, spark)
    run_s = time.monotonic() - t
    spark.stop()
    return {"session_s": round(session_s, 3), "run_s": round(run_s, 3), "cpu_s": cpu.by_kind(),
            "timings_s": result.timings,
            "totals": result.manifest["totals"], "output": result.output}


def _child(args: list[str]) -> dict:
    proc = subprocess.run([_python(), *args], cwd=ROOT, env=_env(), capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return _json_out(proc.stdout)


def _fmt_phases(timings: dict, keys: list[str]) -> str:
    return ", ".join(f"{k} {timings[k]:.1f}" for k in keys if k in timings)


def run_vs_plain(k: int = 4, runs: int = RUNS) -> dict:
    root = scaled_corpus.cached(k)
    info = json.loads((root / scaled_corpus.MARKER).read_text())
    rounds = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="earlyfuse-e2e-") as tmp:
            cfg = scaled_corpus.write_config(root, Path(tmp) / "corpus.toml")
            load_plain = os.getloadavg()[0]
            plain = _child(["-m", "benchmarks.plain_pipeline", str(cfg), "--output", f"{tmp}/plain", "--json"])
            load_spark = os.getloadavg()[0]
            spark = _child(["-m", "benchmarks.bench_e2e", "spark-side", str(cfg), f"{tmp}/spark"])
            same = compare_outputs(spark["output"], plain["output"])
        rounds.append((spark, plain, same, load_spark, load_plain))
    ratios = ratio_row([p["timings_s"]["total"] for _, p, *_ in rounds], [s["run_s"] for s, *_ in rounds])
    # The detail describes the round whose ratio is the median.
    spark, plain, same, load_spark, load_plain = sorted(
        rounds, key=lambda r: r[1]["timings_s"]["total"] / r[0]["run_s"])[len(rounds) // 2]
    all_same = all(r[2]["same_ids"] and r[2]["same_shards"] for r in rounds)
    t_spark, t_plain = spark["run_s"], plain["timings_s"]["total"]
    docs = sum(plain["status_counts"].values()) - plain["status_counts"].get("ingest:image_resource", 0)
    kept = "; ".join(f"{s} {a}/{b}" for s, (a, b) in same["kept_per_source"].items())
    verdict = (f"same ids and byte-identical shards in all {len(rounds)} runs" if all_same else
               f"DIFFERENT: {same['only_spark']} ids only in Spark's shards, {same['only_plain']} only in "
               f"plain's; {same['identical_shards']} of {same['shards']} shards identical")
    t = plain["timings_s"]
    cpu_spark, cpu_plain = sum(spark["cpu_s"].values()), plain["cpu_s"]
    # With every core busy all the time, Spark's wall time is at least its CPU / cores: the
    # ratio this run's CPU use allowed.
    ceiling = t_plain / (cpu_spark / os.cpu_count())
    cpu = (f"CPU core-seconds: Spark {cpu_spark:.1f} ("
           + ", ".join(f"{kind} {v:.1f}" for kind, v in spark["cpu_s"].items())
           + f"), plain {cpu_plain:.1f}, {cpu_spark / cpu_plain:.2f}x; with all {os.cpu_count()} cores "
           f"busy throughout Spark could reach at most {ceiling:.2f}x")
    detail = (f"{len(rounds)} runs, each side in a fresh process, median (min-max) ratio "
              f"{ratio_text(ratios)}; Spark {_spread([s['run_s'] for s, *_ in rounds])} s, plain "
              f"{_spread([p['timings_s']['total'] for _, p, *_ in rounds])} s; the rest is the median run's. "
              f"Corpus {k}x the sample ({info['totals']['pages']} pages + {info['totals']['warc_images']} "
              f"WARC images, {info['totals']['docs']} docs, {info['totals']['pairs']} pairs, "
              f"{info['totals']['videos']} videos; {docs} documents); all stages incl. exact, near, image "
              f"and video dedup on both sides. Kept per source Spark/plain: {kept}; {verdict}. "
              f"Spark: run_pipeline {t_spark:.1f} s from a started session (session start "
              f"{spark['session_s']:.1f} s not included; phases "
              f"{_fmt_phases(spark['timings_s'], ['ingest+filter', 'dedup', 'report', 'tokenize+shard'])} s). "
              f"Plain, one process: {t_plain:.1f} s (ingest {t['ingest']:.1f}, urlfilter {t['urlfilter']:.1f}, "
              f"langid {t['langid']:.1f}, quality {t['quality']:.1f}, video {t['video']:.1f}, "
              f"images {t['images']:.1f}, dedup "
              f"{sum(v for n, v in t.items() if n.startswith('dedup')):.1f}, tokenize+shard "
              f"{t['tokenize+shard']:.1f} s). {cpu}. 1-min load average at the start: Spark {load_spark:.1f}, "
              f"plain {load_plain:.1f} (2 cores)")
    return {"name": f"whole pipeline, Spark local[2] vs the same stages in one process, {k}x sample",
            "ours": f"{t_spark:.1f} s ({docs / t_spark:,.0f} docs/s)",
            "baseline": f"{t_plain:.1f} s ({docs / t_plain:,.0f} docs/s)",
            **ratios, "target": VS_PLAIN_TARGET, "detail": detail}


# --------------------------------------------------------------------------- scaling


def cli_run(config: Path, output: Path, master: str = "local[2]") -> dict:
    """`earlyfuse run` in a fresh process, its process tree's memory sampled meanwhile."""
    args = [_python(), "-m", "jobs.cli", "run", str(config), "--output", str(output), "--no-progress",
            "--json", "--fresh", "--master", master]
    load = os.getloadavg()[0]
    t = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(args, cwd=ROOT, env=_env(), stdout=out, stderr=err, text=True)
        with TreeMemory(proc.pid) as mem:
            code = proc.wait()
        wall = time.monotonic() - t
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if code != 0:
        raise RuntimeError(f"earlyfuse run failed ({code}):\n{stderr[-3000:]}")
    result = _json_out(stdout)
    return {"wall_s": wall, "run_s": result["timings_s"]["total"], "timings_s": result["timings_s"],
            "peak_rss": mem.peak, "peak_by_kind": mem.peak_by_kind, "samples": mem.samples,
            "totals": result["totals"], "load": load}


@cache
def scaling_measurement(k: int = 4, runs: int = RUNS) -> list[dict]:
    """`runs` rounds of {1: run at 1x, k: run at kx}, the sizes interleaved."""
    rounds = []
    with tempfile.TemporaryDirectory(prefix="earlyfuse-scale-") as tmp:
        cfgs = {n: scaled_corpus.write_config(scaled_corpus.cached(n), Path(tmp) / f"k{n}.toml") for n in (1, k)}
        for _ in range(runs):
            rounds.append({n: cli_run(cfg, Path(tmp) / f"out-k{n}") for n, cfg in cfgs.items()})
    return rounds


def _median_round(rounds: list[dict], key) -> dict:
    return sorted(rounds, key=key)[len(rounds) // 2]


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})"


def _mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB"


def _by_kind(by_kind: dict) -> str:
    return ", ".join(f"{c} {_mb(v)} ({n} proc.)" for c, (v, n) in sorted(by_kind.items(), key=lambda kv: -kv[1][0]))


def run_scaling_time(k: int = 4) -> dict:
    rounds = scaling_measurement(k)
    row = ratio_row([k * r[1]["run_s"] for r in rounds], [r[k]["run_s"] for r in rounds])
    median = _median_round(rounds, lambda r: r[1]["run_s"] / r[k]["run_s"])
    one, big = median[1], median[k]
    return {"name": f"whole pipeline scaling, 1x -> {k}x sample: {k} t(1x) / t({k}x)",
            "ours": f"{big['run_s']:.1f} s at {k}x", "baseline": f"{one['run_s']:.1f} s at 1x",
            **row, "target": TIME_TARGET,
            "detail": f"earlyfuse run, local[2], fresh process each, {len(rounds)} rounds, median (min-max) ratio "
                      f"{ratio_text(row)}; t(1x) {_spread([r[1]['run_s'] for r in rounds])} s, t({k}x) "
                      f"{_spread([r[k]['run_s'] for r in rounds])} s; the median round: t({k}x)/t(1x) = "
                      f"{big['run_s'] / one['run_s']:.2f} (target <= {k * 1.1:.1f}) for "
                      f"{big['totals']['samples']}/{one['totals']['samples']} samples; pipeline total "
                      f"from a started session; whole process {big['wall_s']:.1f} s / {one['wall_s']:.1f} s "
                      f"(ratio {big['wall_s'] / one['wall_s']:.2f}); phases {k}x: "
                      f"{_fmt_phases(big['timings_s'], ['ingest+filter', 'dedup', 'report', 'tokenize+shard'])}; "
                      f"1x: {_fmt_phases(one['timings_s'], ['ingest+filter', 'dedup', 'report', 'tokenize+shard'])} s; "
                      f"1-min load average at the start: {one['load']:.1f} (1x), {big['load']:.1f} ({k}x), 2 cores"}


def run_scaling_memory(k: int = 4) -> dict:
    rounds = scaling_measurement(k)
    row = ratio_row([r[1]["peak_rss"] for r in rounds], [r[k]["peak_rss"] for r in rounds])
    median = _median_round(rounds, lambda r: r[1]["peak_rss"] / r[k]["peak_rss"])
    one, big = median[1], median[k]
    return {"name": f"whole pipeline peak memory, 1x -> {k}x sample: peak(1x) / peak({k}x)",
            "ours": f"{_mb(big['peak_rss'])} at {k}x", "baseline": f"{_mb(one['peak_rss'])} at 1x",
            **row, "target": MEMORY_TARGET,
            "detail": f"{len(rounds)} rounds, median (min-max) ratio {ratio_text(row)}; the median round's "
                      f"peak of the summed RSS of the process tree (CLI python + JVM + pyspark daemon and "
                      f"workers; a page shared by forked workers counts in each of them), every 100 ms "
                      f"({one['samples']} and {big['samples']} samples); peak({k}x)/peak(1x) = "
                      f"{big['peak_rss'] / one['peak_rss']:.2f} (target <= 1.2); at the {k}x peak: "
                      f"{_by_kind(big['peak_by_kind'])}; at the 1x peak: {_by_kind(one['peak_by_kind'])}"}


def main(argv=None) -> int:
    import argparse

    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["spark-side"]:
        print(json.dumps(spark_side(*argv[1:])))
        return 0
    from benchmarks.run import print_table

    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_e2e")
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--only", choices=("vs_plain", "scaling"))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    rows = []
    if args.only in (None, "vs_plain"):
        rows.append(run_vs_plain(args.k))
    if args.only in (None, "scaling"):
        rows += [run_scaling_time(args.k), run_scaling_memory(args.k)]
    for r in rows:
        r["pass"] = r["target"] is None or r["ratio"] >= r["target"]
    print(json.dumps(rows, indent=2) if args.json else "", end="\n" if args.json else "")
    if not args.json:
        print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
