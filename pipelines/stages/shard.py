"""Shard stage: token streams -> webdataset tars, one writer per Spark partition.

Documents are hash-partitioned by id into a fixed number of partitions and sorted by id
inside each, so shard names and contents do not depend on how many cores ran the job.
"""

from __future__ import annotations

import math
from typing import Iterator

import pyarrow as pa
from pyspark.sql import functions as F

from pipelines.shards import ShardWriter, info_dicts, npy_bytes, sample_json
from pipelines.stage import Stage

SHARD_INFO_DDL = ("name string, partition int, samples long, tokens long, images long, "
                  "tiles long, bytes long, sha256 string")
SHARD_INFO_ARROW = pa.schema([
    ("name", pa.string()), ("partition", pa.int32()), ("samples", pa.int64()),
    ("tokens", pa.int64()), ("images", pa.int64()), ("tiles", pa.int64()),
    ("bytes", pa.int64()), ("sha256", pa.string()),
])


def auto_partitions(n_docs: int, max_samples: int, configured: int) -> int:
    if configured > 0:
        return configured
    return max(1, min(4096, math.ceil(n_docs / max_samples)))


def write_partition(batches: Iterator[pa.RecordBatch], out_dir: str, name: str,
                    max_samples: int, max_bytes: int) -> Iterator[pa.RecordBatch]:
    import numpy as np

    writer = None
    try:
        for batch in batches:
            if batch.num_rows == 0:
                continue
            if writer is None:
                part = batch.column("_partition")[0].as_py()
                writer = ShardWriter(out_dir, name, part, max_samples, max_bytes)
            tokens = batch.column("tokens")
            offsets = tokens.offsets.to_numpy()
            values = tokens.values.to_numpy(zero_copy_only=False).astype(np.uint32)
            base = offsets[0]
            meta_cols = {c: batch.column(c).to_pylist() for c in ("id", "source", "uri", "lang", "lang_score")}
            for i in range(batch.num_rows):
                ids = values[offsets[i] - base: offsets[i + 1] - base]
                meta = {c: meta_cols[c][i] for c in meta_cols}
                meta["n_tokens"] = int(len(ids))
                meta["images"] = []
                writer.write(meta["id"], {"tokens.npy": npy_bytes(ids), "json": sample_json(meta)},
                             tokens=len(ids))
        infos = writer.close() if writer else []
    except BaseException:
        if writer:
            writer.abort()
        raise
    if infos:
        yield pa.RecordBatch.from_pylist(info_dicts(infos), schema=SHARD_INFO_ARROW)


class WriteShards(Stage):
    name = "shard"
    reads = ("id", "tokens")
    writes = ()

    def __init__(self, out_dir: str, name: str, max_samples: int, max_bytes: int, partitions: int):
        self.out_dir, self.shard_name = out_dir, name
        self.max_samples, self.max_bytes, self.partitions = max_samples, max_bytes, partitions

    def apply(self, df):
        """Returns a small DataFrame of shard infos; collecting it runs the write."""
        out_dir, name = self.out_dir, self.shard_name
        max_samples, max_bytes = self.max_samples, self.max_bytes
        arranged = (df.repartition(self.partitions, "id")
                    .sortWithinPartitions("id")
                    .withColumn("_partition", F.spark_partition_id()))

        def run(batches):
            return write_partition(batches, out_dir, name, max_samples, max_bytes)

        return arranged.mapInArrow(run, SHARD_INFO_DDL)
