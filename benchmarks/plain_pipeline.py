"""The whole pipeline in one plain Python process, no Spark: the baseline of bench_e2e.

It runs the same code as the Spark job wherever the job's work is per record or a decision,
and replaces only what Spark does (scheduling, shuffles, joins, group-bys) by loops and
pyarrow in one process:

- ingest: `pipelines.ingest.read_files_batches` over the same file plan (`Ingest.plan`),
  which calls `read_file` per file inside the same guard, in Arrow batches of
  `run.arrow_batch_size` records;
- resolve_images: the pipeline's own lookup and fill (the broadcast path's functions);
- every BatchStage (urlfilter, pii, langid, quality, video, images): `Step(stage)` on
  each batch, as in a Spark task;
- global stages (exact, near, images and video dedup): each stage's own `keys` and
  `decide` over an Arrow table (`LocalFrame`: pyarrow's joins and group-bys), the engine's
  own survivors and marks, as the Spark job's driver path decides them;
- report: status counts and `rejected/` as Parquet;
- tokenize + shards: `tokenize_batch` and `write_partition` per partition, documents
  placed in partitions by Spark's own hash of the id (Murmur3, seed 42, pmod) and sorted by
  id, so shard names and bytes are the Spark run's; `manifest.json` by `build_manifest`.

What it skips: the Parquet checkpoints (`_work/filtered`, `_work/docs`), the dedup cluster
report and `report/stages.json`.

    python -m benchmarks.plain_pipeline CONFIG.toml --output DIR [--json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pyarrow as pa
import pyarrow.compute as pc

from pipelines.schema import KEEP

M32 = 0xFFFFFFFF


# --------------------------------------------------------------------------- Spark's hash


def _rotl32(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & M32


def _mix_k1(k1: int) -> int:
    k1 = (k1 * 0xCC9E2D51) & M32
    return (_rotl32(k1, 15) * 0x1B873593) & M32


def _mix_h1(h1: int, k1: int) -> int:
    h1 = _rotl32(h1 ^ k1, 13)
    return (h1 * 5 + 0xE6546B64) & M32


def spark_hash(value: str, seed: int = 42) -> int:
    """Spark SQL's `hash(string)`: Murmur3_x86_32.hashUnsafeBytes over the UTF-8 bytes (the
    legacy tail: one mixing round per trailing byte, sign-extended), as a signed int."""
    data = value.encode("utf-8")
    n = len(data)
    aligned = n - n % 4
    h1 = seed & M32
    for i in range(0, aligned, 4):
        h1 = _mix_h1(h1, _mix_k1(int.from_bytes(data[i:i + 4], "little")))
    for b in data[aligned:]:
        h1 = _mix_h1(h1, _mix_k1((b - 256 if b > 127 else b) & M32))
    h1 ^= n
    h1 ^= h1 >> 16
    h1 = (h1 * 0x85EBCA6B) & M32
    h1 ^= h1 >> 13
    h1 = (h1 * 0xC2B2AE35) & M32
    h1 ^= h1 >> 16
    return h1 - (1 << 32) if h1 & 0x80000000 else h1


def spark_partition(value: str, partitions: int) -> int:
    """The partition `repartition(n, col)` puts a row in: pmod(hash(col), n)."""
    return spark_hash(value) % partitions


# --------------------------------------------------------------------------- helpers


def _kept(batch: pa.RecordBatch, columns) -> pa.RecordBatch:
    """`df.filter(status == keep).select(...)` for one batch."""
    mask = pc.equal(batch.column("status"), KEEP).fill_null(False)
    return batch.filter(mask).select(list(columns))


def resolve_images(batches: list[pa.RecordBatch]) -> list[pa.RecordBatch]:
    """`<img>` parts without bytes filled from the WARC image responses (by URL), with the
    pipeline's own lookup (the copy with the lowest record id) and fill function."""
    from pipelines.readers.warc import RESOURCE_STATUS
    from pipelines.stage import Step
    from pipelines.stages.resolve_images import ResolveFromLookup, resource_lookup

    uris, ids, data = [], [], []
    for b in batches:
        res = b.filter(pc.equal(b.column("status"), RESOURCE_STATUS).fill_null(False))
        if res.num_rows:
            uris += res.column("uri").to_pylist()
            ids += res.column("id").to_pylist()
            data += pc.struct_field(pc.list_element(res.column("parts"), 0), "data").to_pylist()
    step = Step(ResolveFromLookup(SimpleNamespace(value=resource_lookup(uris, ids, data))), None)
    return [step(b) for b in batches]


def global_stage(stage, batches: list[pa.RecordBatch]) -> tuple[list[pa.RecordBatch], dict]:
    """One global stage decided in this process: its own key function over the kept rows,
    its own decision over an Arrow table (pipelines/frames.py's LocalFrame, pyarrow's joins
    and group-bys in place of Spark's), the marks applied to the batches."""
    from pipelines.frames import LocalFrame
    from pipelines.global_stage import LocalMarks, LocalScope

    cols = ["id", *stage.reads] + ([stage.order_by] if stage.order_by != "id" else [])
    kept = [k for k in (_kept(b, cols) for b in batches) if k.num_rows]
    keys = [stage.keys(k.select(["id", *stage.reads])) for k in kept]
    table = pa.Table.from_batches(keys, schema=stage.key_schema)

    def fetch(ids, fn, schema):
        wanted = pa.array(sorted(set(ids.to_pylist())), pa.string())
        out = [fn(s) for s in (k.filter(pc.is_in(k.column("id"), wanted)) for k in kept) if s.num_rows]
        return pa.Table.from_batches(out, schema=schema)

    order = None
    if stage.order_by != "id":
        order = {i: v for k in kept for i, v in zip(k.column("id").to_pylist(), k.column(stage.order_by).to_pylist())}
    marks, scope = LocalMarks(), LocalScope(fetch, stage.order_by, order)
    decision = stage.decide(LocalFrame(table), scope)
    clusters = marks.add(stage, decision, scope)
    return apply_marks(batches, marks.table()), dict(decision.stats, clusters=0 if clusters is None else
                                                     len(set(clusters.column("root").to_pylist())))


def line_dedup(stage, batches: list[pa.RecordBatch]):
    """Line dedup's counting in this process: the stage's own key function over the kept
    rows and its own driver-side count."""
    import numpy as np

    from filters.lines import n_buckets
    from pipelines.stages.line_dedup import LineDedup, count_on_driver, line_keys

    kept = [k for k in (_kept(b, ["id", "parts"]) for b in batches) if k.num_rows]
    buckets = n_buckets(sum(k.num_rows for k in kept), stage.cfg.bucket_docs)
    keys = [line_keys(k, buckets).column("key").to_numpy() for k in kept]
    frequent = count_on_driver(np.concatenate(keys) if keys else np.empty(0, np.int64), stage.cfg.max_count)
    return LineDedup(stage.cfg, buckets, np.sort(frequent))


def apply_marks(batches: list[pa.RecordBatch], marks: pa.Table) -> list[pa.RecordBatch]:
    """Statuses (on kept rows) and dropped parts from LocalMarks' table, batch by batch."""
    if not marks.num_rows:
        return batches
    status = dict(zip(marks.column("id").to_pylist(), marks.column("_status").to_pylist()))
    drops = {i: (set(d), r) for i, d, r in zip(marks.column("id").to_pylist(), marks.column("_drop").to_pylist(),
                                               marks.column("_drop_reason").to_pylist()) if d}
    out = []
    for b in batches:
        ids = b.column("id").to_pylist()
        if not any(i in status for i in ids):
            out.append(b)
            continue
        old = b.column("status").to_pylist()
        new = [status.get(i) or s if s == KEEP else s for i, s in zip(ids, old)]
        b = b.set_column(b.schema.get_field_index("status"), "status", pa.array(new, pa.string()))
        if any(i in drops for i in ids):
            parts = b.column("parts").to_pylist()
            for r, i in enumerate(ids):
                where, reason = drops.get(i, ((), None))
                for pos in where:
                    p = parts[r][pos]
                    parts[r][pos] = dict(p, data=None, meta=list(p["meta"] or []) + [("dropped", reason)])
            b = b.set_column(b.schema.get_field_index("parts"), "parts", pa.array(parts, b.schema.field("parts").type))
        out.append(b)
    return out


# --------------------------------------------------------------------------- run


@dataclass
class PlainResult:
    output: str
    manifest: dict
    status_counts: dict[str, int]
    by_source: dict[str, dict[str, int]]  # source -> status -> count
    dedup: dict[str, dict] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)


def _rejected_table(batches) -> pa.Table:
    from pipelines.report import PREVIEW_CHARS
    from pipelines.schema import document_texts

    cols = defaultdict(list)
    for b in batches:
        mask = pc.not_equal(b.column("status"), KEEP).fill_null(True)
        r = b.filter(mask)
        if not r.num_rows:
            continue
        for c in ("id", "source", "uri", "status", "lang", "lang_score", "signals"):
            cols[c].append(r.column(c))
        cols["text_preview"].append(pa.array([t[:PREVIEW_CHARS] for t in document_texts(r)], pa.string()))
    if not cols:
        return pa.table({})
    table = pa.table({c: pa.chunked_array(v) for c, v in cols.items()})
    return table.sort_by("id")


def run_plain(cfg) -> PlainResult:
    """The config's pipeline in this process; writes shards, manifest.json and rejected/."""
    from pipelines.global_stage import GlobalStage
    from pipelines.ingest import read_files_batches
    from pipelines.manifest import build_manifest
    from pipelines.plan import global_stages, record_stages
    from pipelines.stage import BatchStage, Step
    from pipelines.stages.line_dedup import LineDedup
    from pipelines.stages.resolve_images import ResolveImages
    from pipelines.stages.shard import auto_partitions, write_partition
    from pipelines.stages.tokenize import tokenize_batch, tokenizer

    t_start = time.monotonic()
    timings: dict[str, float] = {}
    clock = [time.monotonic()]

    def lap(name):
        now = time.monotonic()
        timings[name] = round(now - clock[0], 3)
        clock[0] = now

    out = Path(cfg.run.output).expanduser().resolve()
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    rows = cfg.run.arrow_batch_size

    stages = record_stages(cfg)
    ingest = stages[0]
    tasks = ingest.plan()
    by_name = {i.name: i for i in cfg.inputs}
    task_batch = pa.RecordBatch.from_pylist(tasks)
    batches = [b for b in read_files_batches(iter([task_batch]), by_name, rows) if b.num_rows]
    lap("ingest")

    for stage in stages[1:]:
        if isinstance(stage, ResolveImages):
            batches = resolve_images(batches)
        elif isinstance(stage, GlobalStage):
            batches, _ = global_stage(stage, batches)
        elif isinstance(stage, LineDedup):
            step = Step(line_dedup(stage, batches), None)
            batches = [step(b) for b in batches]
        elif isinstance(stage, BatchStage):
            step = Step(stage, None)
            batches = [step(b) for b in batches]
        else:
            raise TypeError(f"no plain equivalent of stage {stage.name}")
        lap(stage.name)

    dedup_report = {}
    for stage in global_stages(cfg):
        batches, dedup_report[stage.name] = global_stage(stage, batches)
        lap(stage.name)

    table = pa.Table.from_batches(batches)
    status_counts = defaultdict(int)
    by_source = defaultdict(lambda: defaultdict(int))
    for src, st in zip(table.column("source").to_pylist(), table.column("status").to_pylist()):
        status_counts[st] += 1
        by_source[src][st] += 1
    rejected = _rejected_table(batches)
    (out / "rejected").mkdir()
    if rejected.num_rows:
        import pyarrow.parquet as pq

        pq.write_table(rejected, out / "rejected" / "part-00000.parquet")
    lap("report")

    kept = table.filter(pc.equal(table.column("status"), KEEP))
    n_kept = kept.num_rows
    partitions = auto_partitions(n_kept, cfg.shards.max_samples, cfg.shards.partitions)
    ids = kept.column("id").to_pylist()
    members = defaultdict(list)
    for i, doc_id in enumerate(ids):
        members[spark_partition(doc_id, partitions)].append(i)
    shard_dir = str(out / "shards")
    infos = []
    for part in sorted(members):
        idx = sorted(members[part], key=ids.__getitem__)
        docs = kept.take(pa.array(idx, pa.int64()))
        tok_batches = []
        for b in docs.to_batches(max_chunksize=rows):
            tb = tokenize_batch(b, cfg.tokenizer.spec, cfg.tokenizer.part_separator, cfg.images.tile_size)
            tok_batches.append(tb.append_column("_partition", pa.array([part] * tb.num_rows, pa.int32())))
        for info in write_partition(iter(tok_batches), shard_dir, cfg.shards.name, cfg.shards.max_samples,
                                    cfg.shards.max_bytes, cfg.images, None):
            infos += info.to_pylist()
    infos.sort(key=lambda d: d["name"])
    manifest = build_manifest(cfg, infos, tokenizer(cfg.tokenizer.spec).describe())
    if manifest["totals"]["samples"] != n_kept:
        raise AssertionError(f"shards hold {manifest['totals']['samples']} samples, {n_kept} kept")
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    lap("tokenize+shard")
    timings["total"] = round(time.monotonic() - t_start, 3)
    return PlainResult(str(out), manifest, dict(sorted(status_counts.items())),
                       {s: dict(sorted(v.items())) for s, v in sorted(by_source.items())},
                       dedup_report, timings)


def main(argv=None) -> int:
    from pipelines.config import load_config

    ap = argparse.ArgumentParser(prog="python -m benchmarks.plain_pipeline", description=__doc__.split("\n")[0])
    ap.add_argument("config")
    ap.add_argument("--output", required=True)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    cfg = load_config(args.config)
    cfg.sample.generate = ""
    cfg.run.output = args.output
    t, cpu = time.monotonic(), time.process_time()
    result = run_plain(cfg)
    cpu = time.process_time() - cpu  # every thread of this process: decoders, BLAS, fastText
    doc = {"output": result.output, "totals": result.manifest["totals"], "status_counts": result.status_counts,
           "by_source": result.by_source, "dedup": result.dedup, "timings_s": result.timings,
           "process_s": round(time.monotonic() - t, 3), "cpu_s": round(cpu, 3)}
    print(json.dumps(doc, indent=2) if args.json else
          f"{doc['totals']['samples']} samples in {doc['totals']['shards']} shards, {result.timings['total']} s "
          f"-> {result.output}\n" + json.dumps(result.timings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
