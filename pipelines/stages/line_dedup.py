"""Line dedup: lines found in more than `max_count` documents of a bucket are removed from
all of them (Llama 3's line-level dedup; CCNet's line normalisation; docs/stages/dedup.md,
"Line dedup").

Two passes over the records that reach the stage, both over the Parquet the pipeline writes
before it (pipelines/phases.py: a stage with `barrier` is preceded by a checkpoint, so no
page is extracted twice):

1. `prepare` counts: each kept document's distinct normalised line hashes, keyed by its
   bucket, counted on the driver when they are few (`dedup.driver_max_rows`) and grouped by
   Spark when many; the keys seen in more than `max_count` documents make one sorted int64
   array (8 bytes a line), broadcast to the workers.
2. the stage's processor removes those lines in the Python workers, part by part, keeping
   line order and blank lines; a text part left empty is removed, a document that lost
   lines and keeps fewer than `min_chars` characters of prose is `line_dedup:too_short`.

A line is counted once per document, so a page repeating its own line cannot remove it
(the Gopher repetition rules judge that); captions, subtitles and alt texts are never
touched: they belong to their pictures.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from filters.lines import bucket_key, bucket_of, doc_line_hashes, n_buckets, remove_lines
from pipelines.config import LineDedupConfig
from pipelines.schema import KEEP, MEDIA_TEXT_ROLES, flat_parts
from pipelines.stage import BatchStage, Stage

KEYS = pa.schema([("key", pa.int64())])


def line_keys(batch: pa.RecordBatch, buckets: int) -> pa.RecordBatch:
    """(id, parts) -> one row per distinct prose line of each document: its bucket key."""
    out = []
    for doc_id, prose in zip(batch.column("id").to_pylist(), prose_parts(batch)):
        hashes = doc_line_hashes([t for _, t in prose])
        if len(hashes):
            out.append(bucket_key(bucket_of(doc_id, buckets), hashes))
    keys = np.concatenate(out) if out else np.empty(0, np.int64)
    return pa.RecordBatch.from_arrays([pa.array(keys, pa.int64())], schema=KEYS)


def count_on_driver(keys: np.ndarray, max_count: int) -> np.ndarray:
    values, counts = np.unique(keys, return_counts=True)
    return values[counts > max_count]


def frequent_lines(kept, buckets: int, max_count: int, ctx, driver_max_rows: int) -> tuple[np.ndarray, str]:
    """The sorted bucket keys of lines in more than `max_count` documents of their bucket,
    and where they were counted: on the driver (NumPy) when the keys, one row per distinct
    line of each document, are at most `driver_max_rows`, else by Spark's group-by. The
    keys are kept once computed, so neither way hashes a line twice."""
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    from pipelines.clusters import small_table

    def run(batches):
        for b in batches:
            yield line_keys(b, buckets)

    keys = ctx.materialize(kept.select("id", "parts").mapInArrow(run, from_arrow_schema(KEYS)), "line_keys")
    table = small_table(keys, driver_max_rows)
    if table is not None:
        return np.sort(count_on_driver(table.column("key").to_numpy(), max_count)), "driver"
    frequent = keys.groupBy("key").count().filter(F.col("count") > max_count).select("key").toArrow()
    return np.sort(frequent.column("key").to_numpy()), "spark"


def prose_parts(batch: pa.RecordBatch) -> list[list[tuple[int, str]]]:
    """Per row, (position, text) of its prose parts, read from the flattened parts without
    touching image bytes."""
    rows, kinds, texts, meta = flat_parts(batch, "role")
    roles = meta["role"]
    return [[(k - lo, texts[k]) for k in range(lo, hi)
             if kinds[k] == "text" and texts[k] and roles[k] not in MEDIA_TEXT_ROLES] for lo, hi in rows]


class LineDedupProcessor:
    def __init__(self, cfg: LineDedupConfig, buckets: int, frequent):
        self.cfg, self.buckets, self.frequent = cfg, buckets, frequent

    def __call__(self, batch):
        frequent = self.frequent.value if hasattr(self.frequent, "value") else self.frequent
        n = batch.num_rows
        reasons: list[str | None] = [None] * n
        signals: list[dict] = [{} for _ in range(n)]
        changed: dict[int, dict[int, str]] = {}
        for row, (doc_id, prose) in enumerate(zip(batch.column("id").to_pylist(), prose_parts(batch))):
            texts, lines, chars = remove_lines([t for _, t in prose], bucket_of(doc_id, self.buckets), frequent)
            if not lines:
                continue
            changed[row] = {pos: text for (pos, _), text in zip(prose, texts)}
            reasons[row] = "too_short" if sum(len(t) for t in texts) < self.cfg.min_chars else None
            signals[row] = {"line_dedup.lines_removed": float(lines), "line_dedup.chars_removed": float(chars)}
        if not changed:  # the parts column stays as it is: no image bytes copied through Python
            return {"reasons": reasons, "signals": signals}
        parts = batch.column("parts").to_pylist()
        for row, texts in changed.items():
            parts[row] = [dict(p, text=texts[i]) if i in texts else p for i, p in enumerate(parts[row])
                          if i not in texts or texts[i].strip()]
        return {"parts": parts, "reasons": reasons, "signals": signals}


class LineDedup(BatchStage):
    name = "line_dedup"
    reads = ("parts",)
    writes = ("parts", "signals", "status")
    barrier = True

    def __init__(self, cfg: LineDedupConfig, buckets: int = 1, frequent=None, driver_max_rows: int = 1_000_000):
        self.cfg, self.buckets, self.frequent = cfg, buckets, frequent
        self.driver_max_rows = driver_max_rows

    def prepare(self, ctx) -> Stage | None:
        """Count the lines of the records reaching the stage; the stage that removes them."""
        from pyspark.sql import functions as F

        kept = ctx.tables["reaching"].filter(F.col("status") == KEEP)
        docs = kept.count()
        buckets = n_buckets(docs, self.cfg.bucket_docs)
        frequent, where = frequent_lines(kept, buckets, self.cfg.max_count, ctx, self.driver_max_rows)
        ctx.report.curation["line_dedup"] = {"documents": docs, "buckets": buckets, "counted_on": where,
                                             "max_count": self.cfg.max_count, "frequent_lines": len(frequent)}
        return LineDedup(self.cfg, buckets, ctx.broadcast(frequent))

    def make_processor(self, ctx):
        if self.frequent is None:
            raise RuntimeError("line_dedup runs after prepare() has counted the lines")
        return LineDedupProcessor(self.cfg, self.buckets, self.frequent)
