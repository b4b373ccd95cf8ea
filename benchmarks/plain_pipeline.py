"""The whole pipeline in one plain Python process, no Spark: the baseline of bench_e2e.

It runs the same code as the Spark job wherever the job's work is per record, and replaces
only what Spark does (scheduling, shuffles, joins, group-bys) by dicts and sorts in one
process:

- ingest: `pipelines.ingest.read_files_batches` over the same file plan (`Ingest.plan`),
  which calls `read_file` per file inside the same guard, in Arrow batches of
  `run.arrow_batch_size` records;
- resolve_images: the Spark SQL join of `<img>` src with the WARC image responses as a dict
  lookup (one copy per URL, the one with the lowest record id, as `min_by` picks);
- every BatchStage (urlfilter, pii, langid, quality, video, images):
  `apply_to_batch(stage.name, stage.make_processor(), batch)`;
- dedup (exact, near, images, video): the stages' own per-batch functions (`_keys`,
  `_band_rows`, `_fingerprints`, `_image_rows`, `_sequences`, `similarity`,
  `sequence_match`), then their grouping, candidate, verification, connected-component
  and survivor rules with dicts and a union-find;
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

import pyarrow as pa
import pyarrow.compute as pc

from pipelines.schema import KEEP

M32 = 0xFFFFFFFF
M64 = 0xFFFFFFFFFFFFFFFF


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


def _kept(batch: pa.RecordBatch, columns=("id", "parts")) -> pa.RecordBatch:
    """`df.filter(status == keep).select(...)` for one batch."""
    mask = pc.equal(batch.column("status"), KEEP).fill_null(False)
    return batch.filter(mask).select(list(columns))


def _kept_batches(batches, columns=("id", "parts")):
    for b in batches:
        k = _kept(b, columns)
        if k.num_rows:
            yield k


def _run(fn, batch: pa.RecordBatch) -> list[pa.RecordBatch]:
    """A mapInArrow function applied to one batch."""
    return list(fn(iter([batch])))


class UnionFind:
    def __init__(self):
        self.parent: dict = {}

    def find(self, x):
        root = x
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while x != root:  # path compression
            self.parent[x], x = root, self.parent.get(x, x)
        return root

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # The smaller node becomes the root: roots are component minimums, as in Spark.
            lo, hi = (ra, rb) if ra < rb else (rb, ra)
            self.parent[hi] = lo
            self.parent.setdefault(lo, lo)


def components(edges) -> dict:
    """edges (a, b) -> {node: root} for every node with an edge; root = component minimum."""
    uf = UnionFind()
    for a, b in edges:
        if a != b:
            uf.union(a, b)
    return {n: uf.find(n) for n in uf.parent}


def survivors(labels, order: dict, order_by: str) -> list[tuple[str, object, bool]]:
    """(node id, root) -> (id, root, survivor): per root the lowest order_by value (nulls
    first, as Spark sorts), then the lowest id."""
    groups = defaultdict(list)
    for node, root in labels:
        groups[root].append(node)

    def key(i):
        if order_by == "id":
            return (1, i, i)
        v = order.get(i)
        return (0, "", i) if v is None else (1, v, i)

    out = []
    for root, members in groups.items():
        members.sort(key=key)
        out += [(m, root, j == 0) for j, m in enumerate(members)]
    return out


def mark(batches: list[pa.RecordBatch], ids: set, status: str) -> list[pa.RecordBatch]:
    """Set `status` on kept rows whose id is in ids; other rows unchanged."""
    if not ids:
        return batches
    out = []
    for b in batches:
        idx = b.schema.get_field_index("status")
        old = b.column("status").to_pylist()
        new = [status if s == KEEP and i in ids else s for i, s in zip(b.column("id").to_pylist(), old)]
        if new != old:
            b = b.set_column(idx, "status", pa.array(new, pa.string()))
        out.append(b)
    return out


# --------------------------------------------------------------------------- resolve


def resolve_images(batches: list[pa.RecordBatch]) -> list[pa.RecordBatch]:
    """`<img>` parts without bytes filled from the WARC image responses (by URL)."""
    from pipelines.readers.warc import RESOURCE_STATUS

    resources: dict[str, tuple[str, bytes]] = {}
    for b in batches:
        mask = pc.equal(b.column("status"), RESOURCE_STATUS).fill_null(False)
        res = b.filter(mask)
        if not res.num_rows:
            continue
        data = pc.struct_field(pc.list_element(res.column("parts"), 0), "data").to_pylist()
        for src, rid, d in zip(res.column("uri").to_pylist(), res.column("id").to_pylist(), data):
            if src not in resources or rid < resources[src][0]:
                resources[src] = (rid, d)
    out = []
    for b in batches:
        status = b.column("status").to_pylist()
        parts_col = None
        changed = False
        for r, s in enumerate(status):
            if s != KEEP:
                continue
            if parts_col is None:
                parts_col = b.column("parts").to_pylist()
            parts = parts_col[r]
            for j, p in enumerate(parts):
                if p["kind"] == "image" and p["data"] is None:
                    src = dict(p["meta"] or []).get("src")
                    if src is not None and src in resources:
                        parts[j] = dict(p, data=resources[src][1])
                        changed = True
        if changed:
            idx = b.schema.get_field_index("parts")
            b = b.set_column(idx, "parts", pa.array(parts_col, b.schema.field("parts").type))
        out.append(b)
    return out


# --------------------------------------------------------------------------- dedup


def _order(batches, order_by: str) -> dict:
    if order_by == "id":
        return {}
    return {i: v for b in batches for i, v in zip(b.column("id").to_pylist(), b.column(order_by).to_pylist())}


def dedup_exact(batches, cfg) -> tuple[list, dict]:
    from pipelines.stages.dedup_exact import _keys

    groups = defaultdict(list)
    fn = _keys(cfg.strip_punctuation, cfg.strip_digits)
    for kb in _kept_batches(batches):
        for out in _run(fn, kb):
            for i, k in zip(out.column("id").to_pylist(), out.column("dedup_key").to_pylist()):
                groups[k].append(i)
    labels = [(i, k) for k, ids in groups.items() if len(ids) > 1 for i in ids]
    clusters = survivors(labels, _order(batches, cfg.order_by), cfg.order_by)
    gone = {i for i, _, s in clusters if not s}
    return mark(batches, gone, "dedup_exact:duplicate"), {"removed": len(gone)}


def dedup_near(batches, cfg) -> tuple[list, dict]:
    from filters.minhash import MinHashParams
    from pipelines.stages.dedup_near import _band_rows, _fingerprints, similarity

    params = MinHashParams(cfg.bands, cfg.rows, cfg.seed)
    buckets = defaultdict(list)
    fn = _band_rows(params, cfg.ngram)
    for kb in _kept_batches(batches):
        for out in _run(fn, kb):
            for i, band, key in zip(out.column("id").to_pylist(), out.column("band").to_pylist(),
                                    out.column("key").to_pylist()):
                buckets[(band, key)].append(i)
    # Each bucket links its members to its lowest id (a star).
    cand = set()
    for ids in buckets.values():
        root = min(ids)
        cand.update((root, i) for i in ids if i != root)
    if cfg.verify == "none":
        edges = cand
    else:
        wanted = {x for pair in cand for x in pair}
        fps = {}
        fp_fn = _fingerprints(params, cfg.ngram, cfg.verify)
        for kb in _kept_batches(batches):
            sel = kb.filter(pc.is_in(kb.column("id"), pa.array(sorted(wanted), pa.string())))
            if not sel.num_rows:
                continue
            for out in _run(fp_fn, sel):
                fps.update(zip(out.column("id").to_pylist(), out.column("fp").to_pylist()))
        edges = {(a, b) for a, b in cand if similarity(cfg.verify, fps[a], fps[b]) >= cfg.threshold}
    labels = components(edges).items()
    clusters = survivors(labels, _order(batches, cfg.order_by), cfg.order_by)
    gone = {i for i, _, s in clusters if not s}
    return (mark(batches, gone, "dedup_near:duplicate"),
            {"candidate_pairs": len(cand), "verified_pairs": len(edges), "removed": len(gone)})


def dedup_images(batches, cfg) -> tuple[list, dict]:
    from pipelines.stages.dedup_images import FREQUENT, _image_rows, band_widths

    rows = []  # (id, pos, sha1, phash, pair)
    for kb in _kept_batches(batches):
        for out in _run(_image_rows, kb):
            rows += zip(*(out.column(c).to_pylist() for c in ("id", "pos", "sha1", "phash", "pair")))
    contents: dict[str, int] = {}
    for _, _, sha1, ph, _ in rows:
        contents[sha1] = min(ph, contents.get(sha1, ph))
    k = cfg.image_max_hamming
    buckets = defaultdict(list)
    for sha1, ph in contents.items():
        u = ph & M64
        for b, (off, w) in enumerate(band_widths(k)):
            buckets[(b, (u >> off) & ((1 << w) - 1))].append(sha1)
    near = set()
    for members in buckets.values():
        for x in members:
            for y in members:
                if x < y and ((contents[x] ^ contents[y]) & M64).bit_count() <= k:
                    near.add((x, y))
    labels = components(near)
    cluster = {sha1: labels.get(sha1, sha1) for sha1 in contents}
    docs = defaultdict(set)
    for i, _, sha1, _, _ in rows:
        docs[cluster[sha1]].add(i)
    frequent = {c for c, ids in docs.items() if len(ids) > cfg.image_max_docs}
    dropped = [(i, pos, pair) for i, pos, sha1, _, pair in rows if cluster[sha1] in frequent]
    pair_labels = [(i, cluster[sha1]) for i, _, sha1, _, pair in rows if pair and cluster[sha1] not in frequent]
    sizes = defaultdict(int)
    for _, c in pair_labels:
        sizes[c] += 1
    pair_labels = [(i, c) for i, c in pair_labels if sizes[c] > 1]
    clusters = survivors(pair_labels, _order(batches, cfg.order_by), cfg.order_by)

    drop_at = defaultdict(set)
    for i, pos, _ in dropped:
        drop_at[i].add(pos)
    if drop_at:
        out = []
        for b in batches:
            ids = b.column("id").to_pylist()
            if not any(i in drop_at for i in ids):
                out.append(b)
                continue
            parts_col = b.column("parts").to_pylist()
            for r, i in enumerate(ids):
                for pos in drop_at.get(i, ()):
                    p = parts_col[r][pos]
                    parts_col[r][pos] = dict(p, data=None, meta=list(p["meta"] or []) + [("dropped", FREQUENT)])
            idx = b.schema.get_field_index("parts")
            out.append(b.set_column(idx, "parts", pa.array(parts_col, b.schema.field("parts").type)))
        batches = out
    batches = mark(batches, {i for i, _, pair in dropped if pair}, f"dedup_images:{FREQUENT}")
    gone = {i for i, _, s in clusters if not s}
    batches = mark(batches, gone, "dedup_images:near_duplicate")
    return batches, {"images": len(rows), "frequent_parts_dropped": len(dropped), "removed": len(gone)}


def dedup_video(batches, cfg) -> tuple[list, dict]:
    from pipelines.stages.dedup_video import BAND_BITS, KEY_FRAMES, _sequences, sequence_match

    seqs = {}
    for kb in _kept_batches(batches):
        for out in _run(_sequences, kb):
            seqs.update(zip(out.column("id").to_pylist(), out.column("hashes").to_pylist()))
    buckets = defaultdict(list)
    for i, hashes in seqs.items():
        for pos, h in enumerate(hashes[:KEY_FRAMES]):
            u = h & M64
            if 8 <= u.bit_count() <= 56:  # flat frames carry no information
                for b in range(64 // BAND_BITS):
                    buckets[(pos, b, (u >> (b * BAND_BITS)) & ((1 << BAND_BITS) - 1))].append(i)
    cand = {(x, y) for members in buckets.values() for x in members for y in members if x < y}
    edges = [(a, b) for a, b in cand
             if sequence_match(seqs[a], seqs[b], cfg.video_max_hamming) >= cfg.video_min_match]
    clusters = survivors(components(edges).items(), _order(batches, cfg.order_by), cfg.order_by)
    gone = {i for i, _, s in clusters if not s}
    return (mark(batches, gone, "dedup_video:duplicate"),
            {"videos": len(seqs), "candidate_pairs": len(cand), "verified_pairs": len(edges), "removed": len(gone)})


DEDUP = {"dedup_exact": dedup_exact, "dedup_near": dedup_near, "dedup_images": dedup_images,
         "dedup_video": dedup_video}


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
    from pipelines.run import PREVIEW_CHARS
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
    from pipelines.ingest import Ingest, read_files_batches
    from pipelines.run import build_manifest, dedup_stages, record_stages
    from pipelines.stage import BatchStage, apply_to_batch
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
        elif isinstance(stage, BatchStage):
            processor = stage.make_processor()
            batches = [apply_to_batch(stage.name, processor, b) for b in batches]
        else:
            raise TypeError(f"no plain equivalent of stage {stage.name}")
        lap(stage.name)

    dedup_report = {}
    for stage in dedup_stages(cfg):
        batches, dedup_report[stage.name] = DEDUP[stage.name](batches, cfg.dedup)
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
            tb = tokenize_batch(b, cfg.tokenizer.spec, cfg.tokenizer.part_separator)
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
