"""Decontamination: evaluation-set n-grams found in the documents are cut out (`remove`,
NeMo Curator's way) or reject the document (`drop`, datatrove's and Dolma's way)
(docs/stages/decontamination.md).

A barrier stage, two passes over the records reaching it (the Parquet written before it):
`prepare` builds the index from the sets on the driver, broadcasts it, and counts in how
many documents each matched n-gram occurs; n-grams in more than `max_matches` documents
are common text and leave the index. The processor then cuts or rejects. Every text part
is scanned (captions and subtitles too) and every image's alt text; a matched alt text is
removed from its image, which stays in place.
"""

from __future__ import annotations

import gzip
import io
import json

import numpy as np
import pyarrow as pa

from filters.decontam import Index, build_index, cut, doc_ngrams, find, matched
from pipelines.config import ConfigError, DecontaminationConfig
from pipelines.schema import KEEP, flat_parts
from pipelines.stage import BatchStage, Stage

HASHES = pa.schema([("hash", pa.int64())])


class DecontaminationError(ConfigError):
    """A set that cannot be read."""


def read_set_texts(paths: list[str], fields: list[str], opts=None) -> list[str]:
    """The texts of `fields` in every record of the files (JSONL, `.jsonl.gz`, Parquet)."""
    import pyarrow.parquet as pq

    from pipelines.io import storage

    out: list[str] = []
    for pattern in paths:
        for uri, _ in storage.list_files(pattern, opts):
            data = storage.read_bytes(uri, opts)
            if uri.endswith(".parquet"):
                try:
                    rows = pq.read_table(io.BytesIO(data)).to_pylist()
                except (pa.ArrowInvalid, OSError) as e:
                    raise DecontaminationError(f"decontamination set file {uri}: not Parquet ({e})") from None
            else:
                try:
                    text = gzip.decompress(data) if uri.endswith(".gz") else data
                    rows = [json.loads(line) for line in text.decode("utf-8").splitlines() if line.strip()]
                except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError) as e:
                    raise DecontaminationError(f"decontamination set file {uri}: {e}") from None
            for row in rows:
                for f in fields:
                    v = row.get(f) if isinstance(row, dict) else None
                    values = v if isinstance(v, list) else [v]
                    out += [x for x in values if isinstance(x, str) and x.strip()]
    return out


def _texts(batch: pa.RecordBatch):
    """Per row, (part position, text, is alt text) of every text part and alt text."""
    rows, kinds, texts, meta = flat_parts(batch, "alt")
    alts = meta["alt"]
    for lo, hi in rows:
        yield [(k - lo, texts[k], False) if kinds[k] == "text" else (k - lo, alts[k], True)
               for k in range(lo, hi) if (kinds[k] == "text" and texts[k]) or (kinds[k] != "text" and alts[k])]


def matched_hashes(batch: pa.RecordBatch, index: Index) -> pa.RecordBatch:
    """One row per distinct indexed n-gram of each document (kept rows only)."""
    out = []
    for row in _texts(batch):
        found = [matched(text, index) for _, text, _ in row]
        if found:
            out.append(np.unique(np.concatenate(found)))
    h = np.concatenate(out).view(np.int64) if out else np.zeros(0, np.int64)
    return pa.RecordBatch.from_arrays([pa.array(h, pa.int64())], schema=HASHES)


def _found_by_broadcast(kept, shared):
    """(hash) per distinct indexed n-gram of each document, looked up in the workers."""
    from pyspark.sql.pandas.types import from_arrow_schema

    def run(batches):
        for b in batches:
            yield matched_hashes(b, shared.value)

    return kept.select("id", "parts").mapInArrow(run, from_arrow_schema(HASHES))


def _found_by_join(kept, index: Index):
    """The same rows by a Spark join: every distinct n-gram of each document (of the
    index's lengths) against the index's hashes, for an index too large to broadcast."""
    from pyspark.sql.pandas.types import from_arrow_schema

    lengths = index.combined[2]

    def run(batches):
        for b in batches:
            grams = [np.unique(np.concatenate([doc_ngrams(t, lengths) for _, t, _ in row])) for row in _texts(b) if row]
            h = np.concatenate(grams).view(np.int64) if grams else np.zeros(0, np.int64)
            yield pa.RecordBatch.from_arrays([pa.array(h, pa.int64())], schema=HASHES)

    indexed = pa.table({"hash": np.unique(index.combined[0]).view(np.int64)})
    table = kept.sparkSession.createDataFrame(indexed)
    return kept.select("id", "parts").mapInArrow(run, from_arrow_schema(HASHES)).join(table, "hash")


class DecontaminateProcessor:
    def __init__(self, cfg: DecontaminationConfig, index):
        self.cfg, self.index = cfg, index

    def __call__(self, batch):
        index = self.index.value if hasattr(self.index, "value") else self.index
        cfg, n = self.cfg, batch.num_rows
        reasons: list[str | None] = [None] * n
        signals: list[dict] = [{} for _ in range(n)]
        edits: dict[int, dict[int, object]] = {}
        for r, row in enumerate(_texts(batch)):
            per_part = [(pos, text, alt, find(text, index)) for pos, text, alt in row]
            per_part = [p for p in per_part if p[3]]
            if not per_part:
                continue
            spans: dict[str, int] = {}
            for _, _, _, ms in per_part:
                for m in ms:
                    spans[index.tasks[m.task]] = spans.get(index.tasks[m.task], 0) + 1
            signals[r] = {f"decontamination.task.{t}": float(c) for t, c in spans.items()}
            first = _top_task(signals[r])
            if cfg.mode == "drop":
                reasons[r] = first
                continue
            cuts = chars = 0
            edits[r] = {}
            for pos, text, alt, ms in per_part:
                if alt:  # an alt text is short: a match removes it whole, the image stays
                    edits[r][pos], k, removed = None, 1, len(text)
                else:
                    edits[r][pos], k, removed = cut(text, ms, cfg.window, cfg.min_fragment_chars)
                cuts, chars = cuts + k, chars + removed
                # Cuts of several tasks can merge: a part's characters go to its most matched task.
                owner = f"decontamination.chars.{_top([index.tasks[m.task] for m in ms])}"
                signals[r][owner] = signals[r].get(owner, 0.0) + removed
            signals[r].update({"decontamination.cuts": float(cuts), "decontamination.chars_removed": float(chars)})
            if cuts > cfg.max_splits:
                reasons[r] = first
        if not edits:
            return {"reasons": reasons, "signals": signals}
        parts = batch.column("parts").to_pylist()
        for r, by_pos in edits.items():
            if reasons[r] is not None:
                continue
            new = []
            for i, p in enumerate(parts[r]):
                if i not in by_pos:
                    new.append(p)
                elif by_pos[i] is None:  # the alt text goes, the image and its place stay
                    new.append(dict(p, meta=[(k, v) for k, v in p["meta"] or [] if k != "alt"]))
                else:  # the fragments stay one document, each its own text part
                    new += [dict(p, text=f) for f in by_pos[i]]
            if not any(p["kind"] != "text" or (p["text"] or "").strip() for p in new):
                reasons[r] = _top_task(signals[r])  # nothing left of it
            parts[r] = new
        return {"parts": parts, "reasons": reasons, "signals": signals}


def _top(tasks: list[str]) -> str:
    counts: dict[str, int] = {}
    for t in tasks:
        counts[t] = counts.get(t, 0) + 1
    return max(counts, key=lambda t: (counts[t], t))


def _top_task(sig: dict) -> str:
    """The task with the most matched spans (ties by name): the rejection's reason."""
    prefix = "decontamination.task."
    tasks = {k.removeprefix(prefix): v for k, v in sig.items() if k.startswith(prefix)}
    return max(tasks, key=lambda t: (tasks[t], t))


class Decontaminate(BatchStage):
    name = "decontamination"
    reads = ("parts",)
    writes = ("parts", "signals", "status")
    barrier = True

    def __init__(self, cfg: DecontaminationConfig, index=None, driver_max_rows: int = 1_000_000):
        self.cfg, self.index, self.driver_max_rows = cfg, index, driver_max_rows

    def prepare(self, ctx) -> Stage | None:
        """Build the index; find which of its n-grams each document holds, by a broadcast of
        the index when it has at most `broadcast_max_ngrams` and by a Spark join otherwise;
        count their documents; the second pass gets the index cut down to the n-grams found,
        common ones left out."""
        from pyspark.sql import functions as F

        from pipelines.clusters import small_table

        cfg = self.cfg
        texts = {t.name: read_set_texts(t.paths, t.fields, ctx.storage_opts) for t in cfg.sets}
        index = build_index(texts, cfg.ngram, cfg.min_words)
        kept = ctx.tables["reaching"].filter(F.col("status") == KEEP)
        joined = index.size > cfg.broadcast_max_ngrams
        hashes = _found_by_join(kept, index) if joined else _found_by_broadcast(kept, ctx.broadcast(index))
        table = small_table(hashes, self.driver_max_rows)
        if table is None:  # one row per distinct n-gram found: at most the index's size
            table, where = hashes.groupBy("hash").agg(F.count("*").alias("n")).toArrow(), "spark"
            values, counts = table.column("hash").to_numpy(), table.column("n").to_numpy()
        else:
            values, counts = np.unique(table.column("hash").to_numpy(), return_counts=True)
            where = "driver"
        values = values.view(np.uint64)
        common = values[counts > cfg.max_matches]
        stats = {t: dict(s, ngrams_common=0) for t, s in index.stats.items()}
        for h, tasks in index.by_length.values():
            for ti in tasks[np.isin(h, common)]:
                stats[index.tasks[ti]]["ngrams_common"] += 1
        ctx.report.curation["decontamination"] = {
            "documents": kept.count(), "mode": cfg.mode, "ngram": cfg.ngram, "index_ngrams": index.size,
            "common_ngrams": int(common.size), "ngrams_found": int(values.size), "counted_on": where,
            "looked_up_by": "spark join" if joined else "broadcast", "tasks": stats}
        return Decontaminate(cfg, ctx.broadcast(index.only(values[counts <= cfg.max_matches])))

    def make_processor(self, ctx):
        if self.index is None:
            raise RuntimeError("decontamination runs after prepare() has built its index")
        return DecontaminateProcessor(self.cfg, self.index)

