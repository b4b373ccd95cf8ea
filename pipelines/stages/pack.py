"""Packed shards (docs/stages/packing.md): a partition's token streams -> sequences of
exactly `seq_len` tokens, best-fit packed, written as webdataset samples.

Best fit needs every length of the partition before it places the first piece, so the task
first copies its rows to an Arrow IPC file in Spark's local folder, keeping only lengths and
image spans in memory; it then plans, and builds one sequence at a time from the memory-
mapped file. Memory holds the plan and one sequence (its tokens, its images' bytes), so
`seq_len` can reach millions of tokens. Partitioning and order are those of the per-document
layout (or by group, to join documents): the same documents always give the same shards.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
from pyspark.sql import Column
from pyspark.sql import functions as F

from pipelines.config import ImagesConfig, LongContextConfig
from pipelines.shards import ShardInfo, ShardWriter, Streamed, npy_bytes, npy_header, sample_json, signal_list
from pipelines.stage import Stage
from pipelines.stages.shard import SHARD_INFO_DDL, commit_partition, image_members, token_streams
from tokenization.packing import chains, plan

_DOC_COLUMNS = ("id", "source", "uri", "lang", "lang_score", "signals", "tokens", "images", "image_meta")
TOO_SHORT = "long_context:too_short"
IMAGE_TOO_LONG = "packing:image_longer_than_seq_len"


def group_column(group_by: str) -> Column:
    """The key documents are joined by: source, language, or the URL's host (lower case;
    a document without one is a group alone)."""
    if group_by == "site":
        host = F.lower(F.regexp_extract(F.col("uri"), r"^[A-Za-z][A-Za-z0-9+.-]*://([^/?#:]+)", 1))
        return F.when(host != "", host).otherwise(F.concat(F.lit("\u0000"), F.col("id")))
    return F.coalesce(F.col(group_by), F.lit(""))


class _Spill:
    """The partition's rows in an Arrow IPC file, read back memory-mapped by batch."""

    def __init__(self):
        root = (os.environ.get("SPARK_LOCAL_DIRS") or tempfile.gettempdir()).split(",")[0]
        fd, self.path = tempfile.mkstemp(prefix="earlyfuse-pack-", suffix=".arrow", dir=root)
        os.close(fd)
        self._sink = pa.OSFile(self.path, "wb")
        self._writer = self._reader = None
        self.batches = 0
        # Per batch: the memory-mapped batch, its token offsets, its tokens (a view of the map).
        self._opened: dict[int, tuple[pa.RecordBatch, np.ndarray, np.ndarray]] = {}

    def append(self, batch: pa.RecordBatch) -> int:
        if self._writer is None:
            self._writer = pa.ipc.new_file(self._sink, batch.schema)
        self._writer.write_batch(batch)
        self.batches += 1
        return self.batches - 1

    def seal(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._sink.close()
        if self.batches:
            self._reader = pa.ipc.open_file(pa.memory_map(self.path))

    def get(self, b: int) -> tuple[pa.RecordBatch, np.ndarray, np.ndarray]:
        if b not in self._opened:
            batch = self._reader.get_batch(b)
            self._opened[b] = (batch, *token_streams(batch.column("tokens")))
        return self._opened[b]

    def close(self) -> None:
        self._opened, self._reader = {}, None
        if not self._sink.closed:
            self._sink.close()
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass


def _spans(image_meta: str) -> list[tuple[int, int]]:
    if image_meta in ("", "[]"):
        return []
    return [(m["token_offset"], m["n_tokens"]) for m in json.loads(image_meta)]


class _Doc:
    __slots__ = ("batch", "row", "n", "spans")

    def __init__(self, batch: int, row: int, n: int, spans: list[tuple[int, int]]):
        self.batch, self.row, self.n, self.spans = batch, row, n, spans


def _units(docs: list[_Doc], groups: list[str] | None, seq_len: int, lc: LongContextConfig,
           dropped: Counter) -> list[list[int]]:
    """Documents -> units packed whole (a document, or a chain of one group's documents),
    without those an image of which exceeds `seq_len` and units below `min_tokens`."""
    fits = [i for i, d in enumerate(docs) if all(n <= seq_len for _, n in d.spans)]
    dropped[IMAGE_TOO_LONG] += len(docs) - len(fits)
    if groups is not None:
        limit = lc.concat_tokens or seq_len
        units = [[fits[j] for j in c] for c in chains([groups[i] for i in fits], [docs[i].n for i in fits], limit)]
    else:
        units = [[i] for i in fits]
    kept = []
    for unit in units:
        if sum(docs[i].n for i in unit) >= lc.min_tokens:
            kept.append(unit)
        else:
            dropped[TOO_SHORT] += len(unit)
    return kept


def _document_entry(batch: pa.RecordBatch, row: int, extra: tuple[str, ...]) -> dict:
    entry = {c: batch.column(c)[row].as_py() for c in ("id", "source", "uri", "lang", "lang_score") + extra}
    entry["signals"] = signal_list(batch.column("signals")[row].as_py())
    return entry


def write_packed_partition(batches: Iterator[pa.RecordBatch], out_dir: str, name: str, max_samples: int,
                           max_bytes: int, images_cfg: ImagesConfig, seq_len: int, pad_id: int,
                           lc: LongContextConfig, storage_opts=None) -> Iterator[pa.RecordBatch]:
    spill, writer, part = _Spill(), None, None
    try:
        docs: list[_Doc] = []
        groups: list[str] | None = [] if lc.group_by else None
        extra: tuple[str, ...] = ()
        for batch in batches:
            if batch.num_rows == 0:
                continue
            part = batch.column("_partition")[0].as_py()
            extra = ("doc_id", "copy") if "copy" in batch.schema.names else ()
            b = spill.append(batch.select(list(_DOC_COLUMNS + extra)))
            offsets, _ = token_streams(batch.column("tokens"))
            lengths = np.diff(offsets).tolist()
            for r, (n, meta) in enumerate(zip(lengths, batch.column("image_meta").to_pylist())):
                docs.append(_Doc(b, r, n, _spans(meta)))
            if groups is not None:
                groups += batch.column("_group").to_pylist()
        if part is None:
            return
        spill.seal()
        dropped: Counter = Counter()
        units = _units(docs, groups, seq_len, lc, dropped)
        unit_spans, unit_lengths = [], []
        for unit in units:
            at, spans = 0, []
            for i in unit:
                spans += [(at + s, n) for s, n in docs[i].spans]
                at += docs[i].n
            unit_lengths.append(at)
            unit_spans.append(spans)
        sequences, _ = plan(unit_lengths, unit_spans, seq_len)
        writer = ShardWriter(out_dir, name, part, max_samples, max_bytes, storage_opts)
        for s, pieces in enumerate(sequences):
            key = f"p{part:05d}_s{s:07d}"
            files, counts = _sequence(key, pieces, units, docs, spill, extra, seq_len, pad_id, images_cfg)
            writer.write(key, files, **counts)
        infos = writer.close()
        counts = {k: n for k, n in sorted(dropped.items()) if n}
        summary = ShardInfo("", part, 0, 0, 0, 0, 0, "", dropped=json.dumps(counts))
        yield commit_partition([*infos, summary], out_dir, part, storage_opts)
    except BaseException:
        if writer:
            writer.abort()
        raise
    finally:
        spill.close()


def _sequence(key: str, pieces, units, docs: list[_Doc], spill: _Spill, extra: tuple[str, ...], seq_len: int,
              pad_id: int, images_cfg: ImagesConfig) -> tuple[dict, dict]:
    """One sample: tokens padded at the end, boundaries, tiles in stream order, and the
    documents it holds (a chain's documents share their piece's segment)."""
    tokens = np.full(seq_len, pad_id, dtype="<u4")
    cu = [0]
    entries, image_bytes, image_meta = [], [], []
    pos = tiles = 0
    for seg, p in enumerate(pieces):
        lo, hi, at = p.start, p.start + p.length, 0
        for i in units[p.unit]:
            d = docs[i]
            a, b = max(lo, at), min(hi, at + d.n)
            if a < b:
                batch, offsets, values = spill.get(d.batch)
                s0 = int(offsets[d.row])
                out = pos + a - lo
                tokens[out:out + b - a] = values[s0 + a - at:s0 + b - at]
                entry = _document_entry(batch, d.row, extra)
                entry.update(segment=seg, offset=out, length=b - a, start=a - at, doc_tokens=d.n,
                             piece=p.part, pieces=p.parts, images=[])
                inside = [k for k, (s, _) in enumerate(d.spans) if a - at <= s < b - at]
                if inside:
                    metas = json.loads(batch.column("image_meta")[d.row].as_py())
                    data = batch.column("images")[d.row].as_py()
                    for k in inside:
                        m = dict(metas[k], token_offset=out + metas[k]["token_offset"] - (a - at), tile_offset=tiles)
                        entry["images"].append(m)
                        image_meta.append(m)
                        image_bytes.append(data[k])
                        tiles += m["n_tiles"]
                entries.append(entry)
            at += d.n
        pos += p.length
        cu.append(pos)
    meta = {"key": key, "seq_len": seq_len, "n_tokens": pos, "padding": seq_len - pos,
            "n_image_tokens": sum(m["n_tokens"] for m in image_meta), "documents": entries}
    header = npy_header("<u4", (seq_len,))  # the tokens go to the tar without a copy
    files = {"tokens.npy": Streamed(len(header) + tokens.nbytes, (header, memoryview(tokens).cast("B"))),
             "cu_seqlens.npy": npy_bytes(np.asarray(cu, dtype=np.int32)), "json": sample_json(meta)}
    files.update(image_members(image_bytes, image_meta, images_cfg))
    counts = {"tokens": pos, "images": len(image_meta), "tiles": tiles, "padding": seq_len - pos,
              "documents": sum(1 for e in entries if e["start"] == 0), "pieces": len(entries)}
    return files, counts


class WritePacked(Stage):
    name = "shard"
    reads = ("source", "uri", "lang", "lang_score", "signals", "tokens", "images", "image_meta")
    writes = ()

    def __init__(self, out_dir: str, name: str, max_samples: int, max_bytes: int, partitions: int,
                 images_cfg: ImagesConfig, seq_len: int, pad_id: int, lc: LongContextConfig):
        self.out_dir, self.shard_name = out_dir, name
        self.max_samples, self.max_bytes, self.partitions = max_samples, max_bytes, partitions
        self.images_cfg, self.seq_len, self.pad_id, self.lc = images_cfg, seq_len, pad_id, lc

    def apply(self, df, ctx):
        out_dir, name, icfg, lc = self.out_dir, self.shard_name, self.images_cfg, self.lc
        max_samples, max_bytes, seq_len, pad_id, opts = (self.max_samples, self.max_bytes, self.seq_len,
                                                         self.pad_id, ctx.storage_opts)
        if "_route" in df.columns:  # a mixture's copies, each routed to its partition (pipelines/mixture)
            arranged = df.repartition(self.partitions, "_route").sortWithinPartitions("_round", "doc_id")
        elif lc.group_by:
            df = df.withColumn("_group", group_column(lc.group_by))
            arranged = df.repartition(self.partitions, "_group").sortWithinPartitions("_group", "id")
        else:
            arranged = df.repartition(self.partitions, "id").sortWithinPartitions("id")
        arranged = arranged.withColumn("_partition", F.spark_partition_id())

        def run(batches):
            return write_packed_partition(batches, out_dir, name, max_samples, max_bytes, icfg, seq_len, pad_id,
                                          lc, opts)

        return arranged.mapInArrow(run, SHARD_INFO_DDL)
