"""The text path end to end: WARC -> extraction -> language ID -> quality rules -> output.

Both sides read the same generated WARC files (benchmarks/warc_corpus.py: English CMS-like
pages of varied quality, one gzip member per record, several files) and each runs as its
own process, timed from the outside: interpreter start, imports, Spark's JVM and session
(ours), datatrove's worker processes (theirs), everything until the output is complete.

24,000 pages in 8 files (130 MB of WARC), less than one Common Crawl WARC file (about 1 GB,
30,000+ pages): a job's fixed costs (Python and JVM start, the report's and shards' Spark
jobs, about 10 s on 2 cores) are then a tenth of ours, as they are of any real job, instead
of the quarter they were of the 6,000 pages this benchmark used before
(EARLYFUSE_BENCH_E2E_PAGES=6000 measures that size again).

Ours: `pipelines.run.run_pipeline` with a config holding only the WARC input, Spark
`local[2]`; language ID (lid.176, min score 0.65) and the quality stage (Gopher quality and
repetition, C4, FineWeb at datatrove's defaults) on; dedup, URL filter and PII masking off
(datatrove's chain below has no counterpart of them); the output is our webdataset shards,
tokenized (cl100k_base), with the report and rejected rows -- work datatrove's side does
not do.

Datatrove: `LocalPipelineExecutor(tasks=<files>, workers=2)` running WarcReader ->
Trafilatura -> LanguageFilter -> GopherRepetitionFilter -> GopherQualityFilter ->
C4QualityFilter -> FineWebQualityFilter -> JsonlWriter, FineWeb's chain without its URL
filter. Three settings differ from datatrove's defaults, so that both sides do the same work:
Trafilatura(deduplicate=False, include_tables=False), as ours (its cache spans documents; our
extraction leaves tables out, trafilatura's default keeps them), and LanguageFilter
classifies with our installed lid.176.ftz (datatrove would download lid.176.bin from the
network, which this machine has no access to; the subclasses below only change where the
model file comes from) at its default threshold 0.65. Its WarcReader, LanguageFilter and
JsonlWriter need faust-cchardet, python-magic (with Debian's libmagic1), fasteners and orjson.

Rows: ours with trafilatura vs datatrove (the same extractor and settings on both sides,
kept counts must agree; target 2x), and ours with resiliparse vs the same datatrove run
(a comparison without a target: the extractors differ, and so do a few kept documents).
Each side runs RUNS times (EARLYFUSE_BENCH_E2E_RUNS), the sides interleaved; rows give the
median and range of the per-round ratios. The 1-min load average at each start is in the
detail, since other work on a 2-core machine moves both sides' times.

    .venv/bin/python -c "from benchmarks.bench_e2e_text import run; print(run())"
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.timing import rate, ratio_row

ROOT = Path(__file__).resolve().parent.parent
TARGET = 2.0
RUNS = 3
PAGES = 24_000
LANG_THRESHOLD = 0.65  # datatrove's LanguageFilter default, FineWeb's setting


# ----------------------------------------------------------------------------------------
# datatrove with a local fastText model
# ----------------------------------------------------------------------------------------

def _local_lid_classes():
    from datatrove.pipeline.filters import LanguageFilter
    from datatrove.utils.lid import FT176LID

    class LocalFT176LID(FT176LID):
        """datatrove's FT176LID reading a local model file instead of downloading one."""

        def __init__(self, languages, model_path: str):
            super().__init__(languages)
            self.model_path = model_path

        @property
        def model(self):
            if self._model is None:
                from fasttext.FastText import _FastText

                self._model = _FastText(self.model_path)
            return self._model

    class LocalLanguageFilter(LanguageFilter):
        def __init__(self, model_path: str, **kwargs):
            super().__init__(**kwargs)
            self.model = LocalFT176LID(self.languages, model_path)

    return LocalFT176LID, LocalLanguageFilter


def _datatrove_side(corpus: str, out: Path, workers: int = 2) -> dict:
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )
    from datatrove.pipeline.readers import WarcReader
    from datatrove.pipeline.writers import JsonlWriter

    from filters.models import resolve_model

    _, LocalLanguageFilter = _local_lid_classes()
    files = sorted(p.name for p in Path(corpus).glob("*.warc.gz"))
    executor = LocalPipelineExecutor(
        pipeline=[
            WarcReader(corpus, glob_pattern="*.warc.gz"),
            Trafilatura(favour_precision=True, deduplicate=False, include_tables=False),
            LocalLanguageFilter(str(resolve_model("lid176")), language_threshold=LANG_THRESHOLD),
            GopherRepetitionFilter(),
            GopherQualityFilter(),
            C4QualityFilter(),
            FineWebQualityFilter(),
            JsonlWriter(str(out / "output")),
        ],
        tasks=len(files), workers=workers, logging_dir=str(out / "logs"), skip_completed=False,
    )
    stats = executor.run()
    steps = {s.name: {k: v.total for k, v in s.stats.items()} for s in stats.stats}
    return {"steps": steps}


def _count_datatrove_output(out: Path) -> int:
    n = 0
    for path in (out / "output").glob("*.jsonl.gz"):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            n += sum(1 for _ in f)
    return n


# ----------------------------------------------------------------------------------------
# ours
# ----------------------------------------------------------------------------------------

def ours_config(corpus: str, out: Path, extractor: str):
    from pipelines.config import parse_config

    return parse_config({
        "run": {"name": "bench-e2e", "output": str(out / "dataset"), "master": "local[2]",
                "shuffle_partitions": 2, "progress": False, "resume": False},
        "inputs": [{"name": "crawl", "format": "warc", "path": f"{corpus}/*.warc.gz",
                    "extractor": extractor}],
        "urlfilter": {"enabled": False},
        "pii": {"enabled": False},
        "langid": {"min_score": LANG_THRESHOLD},
        "dedup": {"exact": False, "near": False, "images": False, "video": False},
    }, "<bench_e2e_text>")


def _ours_side(corpus: str, out: Path, extractor: str) -> dict:
    from pipelines.run import run_pipeline
    from pipelines.spark import get_session

    cfg = ours_config(corpus, out, extractor)
    t0 = time.monotonic()
    spark = get_session(cfg)  # what run_pipeline would do first; timed apart for the detail
    t1 = time.monotonic()
    res = run_pipeline(cfg, spark)
    t2 = time.monotonic()
    spark.stop()
    report = json.loads((out / "dataset" / "report" / "stages.json").read_text())
    return {"kept": res.manifest["totals"]["samples"], "tokens": res.manifest["totals"]["tokens"],
            "status_counts": report["status_counts"], "session_s": round(t1 - t0, 2),
            "pipeline_s": round(t2 - t1, 2), "phases_s": res.timings}


# ----------------------------------------------------------------------------------------
# measurement: one process per side, timed from outside
# ----------------------------------------------------------------------------------------

def _child() -> None:
    """Entry of a measured process: argv = side corpus out [extractor]; prints one JSON line."""
    side, corpus, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    if side == "datatrove":
        result = _datatrove_side(corpus, out)
    else:
        result = _ours_side(corpus, out, sys.argv[4])
    print("RESULT " + json.dumps(result), flush=True)


def _timed_run(side: str, corpus: str, out: Path, extractor: str = "") -> tuple[float, dict]:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    cmd = [sys.executable, "-c", "from benchmarks.bench_e2e_text import _child; _child()",
           side, corpus, str(out), extractor]
    load = os.getloadavg()[0]  # other work on the machine skews both sides; the detail says how much
    t0 = time.perf_counter()
    with open(out / "stdout.log", "w") as so, open(out / "stderr.log", "w") as se:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=so, stderr=se)
    elapsed = time.perf_counter() - t0
    text = (out / "stdout.log").read_text()
    if proc.returncode != 0:
        tail = (out / "stderr.log").read_text()[-3000:]
        raise RuntimeError(f"{side} {extractor} failed (exit {proc.returncode}):\n{tail}")
    line = next(ln for ln in reversed(text.splitlines()) if ln.startswith("RESULT "))
    return elapsed, dict(json.loads(line[len("RESULT "):]), load=load)


def extraction_cost(corpus: dict, n: int = 600) -> float:
    """CPU seconds per page of reading + trafilatura extraction alone, in this process, over
    the first `n` pages of the first file (after a 50-page warm-up): the part of the
    work both sides share, so 2 workers need at least pages * cost / 2 s of wall time."""
    from pipelines.readers.warc import read_warc

    path = Path(corpus["dir"]) / corpus["files"][0]
    with open(path, "rb") as f:
        records = read_warc(f, "bench", path.name, 10 << 20, "", "trafilatura")
        for _, _ in zip(range(50), records):
            pass
        t, done = time.process_time(), 0
        for _, _ in zip(range(n), records):
            done += 1
        return (time.process_time() - t) / max(done, 1)


def _check_baseline_dependencies() -> None:
    missing = []
    for module, package in (("cchardet", "faust-cchardet"), ("magic", "python-magic"),
                            ("fasteners", "fasteners"), ("orjson", "orjson")):
        try:
            __import__(module)
        except ImportError:
            missing.append(package)
    if missing:
        raise RuntimeError("datatrove's WarcReader, LanguageFilter and JsonlWriter need "
                           f"{', '.join(missing)}: .venv/bin/pip install {' '.join(missing)}")


@functools.cache
def _measure(n_pages: int | None = None, n_files: int | None = None) -> dict:
    from benchmarks.warc_corpus import N_FILES, make_warc_corpus

    _check_baseline_dependencies()
    n_pages = n_pages or int(os.environ.get("EARLYFUSE_BENCH_E2E_PAGES", PAGES))
    n_files = n_files or int(os.environ.get("EARLYFUSE_BENCH_E2E_FILES", N_FILES))
    corpus = make_warc_corpus(n_pages, n_files)
    work = Path(tempfile.mkdtemp(prefix="earlyfuse-bench-e2e-"))
    runs = int(os.environ.get("EARLYFUSE_BENCH_E2E_RUNS", RUNS))
    dts, ours = [], {"trafilatura": [], "resiliparse": []}
    try:
        for _ in range(runs):
            dt_s, dt = _timed_run("datatrove", corpus["dir"], work / "datatrove")
            dts.append(dict(dt, wall_s=dt_s, kept=_count_datatrove_output(work / "datatrove")))
            for extractor in ours:
                s, r = _timed_run("ours", corpus["dir"], work / f"ours-{extractor}", extractor)
                ours[extractor].append(dict(r, wall_s=s))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"corpus": corpus, "datatrove": dts, "ours": ours, "extract_s_per_page": extraction_cost(corpus)}


def _datatrove_summary(dt: dict) -> str:
    steps = dt["steps"]
    extract = next((v for k, v in steps.items() if "Trafilatura" in k), {})
    notes = [f"{k}={extract[k]}" for k in ("timeout", "clean_error", "broken_process") if extract.get(k)]
    return f"extracted {extract.get('forwarded', '?')}" + (f" ({', '.join(notes)})" if notes else "")


def _loads(runs: list[dict]) -> str:
    return ", ".join(f"{r['load']:.1f}" for r in runs)


def _median_run(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]


def _floor(m: dict, extractor: str) -> str:
    """What trafilatura alone allows: the wall time of reading + extraction on 2 cores."""
    pages, cost = m["corpus"]["pages"], m["extract_s_per_page"]
    floor = pages * cost / 2
    text = (f"reading + trafilatura alone cost {cost * 1000:.1f} ms a page on one core, "
            f"{floor:.1f} s for the corpus on 2 cores")
    if extractor == "trafilatura":
        text += f" (with nothing else, at most {_median_run(m['datatrove'])['wall_s'] / floor:.1f}x datatrove's time)"
    return text


def _phases(timings: dict) -> str:
    return ", ".join(f"{k} {v:.1f} s" for k, v in timings.items() if k != "total")


def _row(extractor: str, target) -> dict:
    m = _measure()
    c, dts, ours_runs = m["corpus"], m["datatrove"], m["ours"][extractor]
    pages = c["pages"]
    dt, ours = _median_run(dts), _median_run(ours_runs)
    ingest = ours["status_counts"]
    no_text = sum(v for k, v in ingest.items() if k.startswith("ingest:"))
    row = ratio_row([r["wall_s"] for r in dts], [r["wall_s"] for r in ours_runs])
    return {
        "name": f"text path end to end, ours ({extractor}, Spark local[2]) vs datatrove (trafilatura, 2 workers)",
        "ours": rate(pages, [r["wall_s"] for r in ours_runs], "docs/s", ".1f"),
        "baseline": rate(pages, [r["wall_s"] for r in dts], "docs/s", ".1f"),
        **row, "target": target,
        "detail": (f"{pages} pages in {len(c['files'])} WARC files ({c['warc_bytes'] / 1e6:.1f} MB gzip, "
                   f"{c['html_bytes'] / 1e6:.0f} MB HTML); {row['runs']} interleaved runs, median (min-max); "
                   f"wall time of the whole process, the median run: "
                   f"ours {ours['wall_s']:.1f} s (Spark session start {ours['session_s']:.1f} s, "
                   f"run_pipeline {ours['pipeline_s']:.1f} s: {_phases(ours['phases_s'])}), "
                   f"datatrove {dt['wall_s']:.1f} s; kept documents: "
                   f"ours {sorted({r['kept'] for r in ours_runs})}, datatrove {sorted({r['kept'] for r in dts})}; "
                   f"ours rejected at ingest {no_text}, datatrove {_datatrove_summary(dt)}; {_floor(m, extractor)}; "
                   f"ours also tokenizes and writes webdataset shards, datatrove writes JSONL; 1-min load average "
                   f"at the starts: ours {_loads(ours_runs)}, datatrove {_loads(dts)} (2 cores)"),
    }


def run() -> dict:
    return _row("trafilatura", TARGET)


def run_resiliparse() -> dict:
    return _row("resiliparse", None)


if __name__ == "__main__":
    for row in (run(), run_resiliparse()):
        print(row)
