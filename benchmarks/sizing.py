"""Throughput per core per stage, and what a Common Crawl snapshot would need.

    python -m benchmarks.sizing [--extractor trafilatura|resiliparse] [--json]

The text path (WARC -> extraction -> URL filter -> PII -> language ID -> quality -> exact
and near dedup -> tokenize + shards) runs twice over the benchmark WARC corpus
(benchmarks/warc_corpus.py): once in one plain Python process, stage by stage
(benchmarks/plain_pipeline.py: the same stage functions), which gives each stage's cost on
one core; once on Spark local[2], which gives what Spark adds on top of the work (the
overhead factor: core-seconds on Spark / core-seconds of the work alone).

A snapshot is then pages x core-seconds per page, per stage, x the overhead factor.
Assumptions, all printed: about 3.0 billion pages in about 90 TB of WARC (Common Crawl's
own figures for a 2024-25 crawl), so 30 KB of gzip WARC per page against this corpus's
5-6 KB: reading and extraction are scaled by that byte ratio; later stages by documents.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

CC_PAGES = 3.0e9
CC_WARC_BYTES = 90e12


def config(corpus: str, out: Path, extractor: str):
    from pipelines.config import parse_config

    return parse_config({
        "run": {"name": "sizing", "output": str(out), "master": "local[2]", "shuffle_partitions": 4,
                "progress": False, "resume": False},
        "inputs": [{"name": "crawl", "format": "warc", "path": f"{corpus}/*.warc.gz", "extractor": extractor}],
        "dedup": {"exact": True, "near": True, "images": False, "video": False},
    }, "<sizing>")


def measure(extractor: str = "trafilatura", pages: int | None = None) -> dict:
    from benchmarks.plain_pipeline import run_plain
    from benchmarks.warc_corpus import make_warc_corpus
    from pipelines.run import run_pipeline
    from pipelines.spark import get_session

    corpus = make_warc_corpus(pages) if pages else make_warc_corpus()
    work = Path(tempfile.mkdtemp(prefix="earlyfuse-sizing-"))
    try:
        plain = run_plain(config(corpus["dir"], work / "plain", extractor))
        cfg = config(corpus["dir"], work / "spark", extractor)
        spark = get_session(cfg)
        t0 = time.monotonic()
        result = run_pipeline(cfg, spark)
        spark_s = time.monotonic() - t0
    finally:
        shutil.rmtree(work, ignore_errors=True)
    pages = corpus["pages"]
    stage_s = {k: v for k, v in plain.timings.items() if k != "total"}
    plain_core_s = sum(stage_s.values())
    cores = 2
    return {"extractor": extractor, "pages": pages, "warc_bytes": corpus["warc_bytes"],
            "kept": result.manifest["totals"]["samples"], "plain_kept": plain.manifest["totals"]["samples"],
            "stage_core_s": stage_s, "plain_core_s": plain_core_s, "spark_s": spark_s, "cores": cores,
            "overhead": spark_s * cores / plain_core_s}


def snapshot(m: dict) -> dict:
    """Core-hours for a Common Crawl snapshot from the measured per-page costs."""
    byte_ratio = (CC_WARC_BYTES / CC_PAGES) / (m["warc_bytes"] / m["pages"])
    per_page = {}
    for stage, secs in m["stage_core_s"].items():
        scale = byte_ratio if stage == "ingest" else 1.0
        per_page[stage] = secs / m["pages"] * scale
    work_core_h = sum(per_page.values()) * CC_PAGES / 3600
    total_core_h = work_core_h * m["overhead"]
    return {"byte_ratio": byte_ratio, "core_s_per_page": per_page, "work_core_hours": work_core_h,
            "core_hours": total_core_h,
            "hours_on": {n: total_core_h / n for n in (1_000, 5_000, 20_000)}}


def report(m: dict, s: dict) -> str:
    lines = [f"corpus: {m['pages']:,} pages, {m['warc_bytes'] / 1e6:.1f} MB of WARC "
             f"({m['warc_bytes'] / m['pages'] / 1e3:.1f} KB/page); extractor {m['extractor']}; "
             f"kept {m['kept']:,} (plain {m['plain_kept']:,})",
             "", "| stage | pages/s per core | core-s per 1k pages | snapshot core-hours |", "|---|---|---|---|"]
    for stage, secs in m["stage_core_s"].items():
        per_k = secs / m["pages"] * 1000
        rate = m["pages"] / secs if secs else float("inf")
        cc_h = s["core_s_per_page"][stage] * CC_PAGES / 3600
        lines.append(f"| {stage} | {rate:,.0f} | {per_k:.2f} | {cc_h:,.0f} |")
    lines += ["", f"work on one core: {m['plain_core_s']:.1f} s; Spark local[{m['cores']}]: {m['spark_s']:.1f} s "
                  f"-> overhead factor {m['overhead']:.2f} (core-seconds on Spark / core-seconds of work)",
              f"snapshot ({CC_PAGES / 1e9:.1f} B pages, {CC_WARC_BYTES / 1e12:.0f} TB WARC; reading and extraction "
              f"scaled x{s['byte_ratio']:.1f} for page size): {s['work_core_hours']:,.0f} core-hours of work, "
              f"{s['core_hours']:,.0f} with Spark's overhead",
              "wall-clock: " + ", ".join(f"{h:,.1f} h on {n:,} cores" for n, h in s["hours_on"].items())]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.sizing")
    ap.add_argument("--extractor", default="trafilatura", choices=("trafilatura", "resiliparse"))
    ap.add_argument("--pages", type=int, help="corpus size (default: the benchmark corpus, 6,000 pages)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    m = measure(args.extractor, args.pages)
    s = snapshot(m)
    print(json.dumps({"measured": m, "snapshot": s}, indent=2) if args.json else report(m, s))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
