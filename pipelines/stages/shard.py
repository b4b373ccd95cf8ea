"""Shard stage: token streams -> webdataset tars, one writer per Spark partition.

Documents are hash-partitioned by id into a fixed number of partitions and sorted by id
inside each, so shard names and contents do not depend on how many cores ran the job.
Tiles are cut from the image bytes here, image by image, and streamed into the tar: a
document's tiles are never all in memory at once.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
from pyspark.sql import functions as F

from pipelines.config import ImagesConfig
from pipelines.faults import maybe_fail
from pipelines.io import storage
from pipelines.shards import ShardWriter, Streamed, info_dicts, npy_bytes, npy_header, sample_json, signal_list
from pipelines.stage import Stage
from vision_prep.llama4 import PATCH_SIZE

# Per partition, the infos of its committed shards: written after the partition's last shard.
COMMITS = "_commits"
SHARD_INFO_DDL = ("name string, partition int, samples long, tokens long, images long, "
                  "tiles long, bytes long, sha256 string, documents long, pieces long, padding long, "
                  "dropped string")
SHARD_INFO_ARROW = pa.schema([
    ("name", pa.string()), ("partition", pa.int32()), ("samples", pa.int64()),
    ("tokens", pa.int64()), ("images", pa.int64()), ("tiles", pa.int64()),
    ("bytes", pa.int64()), ("sha256", pa.string()), ("documents", pa.int64()),
    ("pieces", pa.int64()), ("padding", pa.int64()), ("dropped", pa.string()),
])


# A shard-writing task costs ~50 ms beyond its documents (~2 ms each to tokenize and tile),
# so small shards are written several to a partition rather than one task each.
MIN_PARTITION_DOCS = 256


def auto_partitions(n_docs: int, max_samples: int, configured: int) -> int:
    """Partitions of the shard writer: `configured`, or one per `max_samples` documents
    (one full shard each) but never fewer than MIN_PARTITION_DOCS documents a partition.
    Derived from the data alone, so every run of the same documents writes the same shards."""
    if configured > 0:
        return configured
    return max(1, min(4096, math.ceil(n_docs / max(max_samples, MIN_PARTITION_DOCS))))


def _tiles(data: bytes, cfg: ImagesConfig, max_tiles: int) -> np.ndarray:
    from pipelines.payloads import resolve
    from vision_prep.tiling import tile_image_bytes

    tiles, _, _ = tile_image_bytes(resolve(data), tile_size=cfg.tile_size, max_tiles=max_tiles,
                                   mode=cfg.mode, max_pixels=cfg.max_pixels)
    if cfg.layout == "patches":
        from vision_prep.patches import to_patches

        return to_patches(tiles)
    return tiles


def image_members(images: list[bytes], meta: list[dict], cfg: ImagesConfig) -> dict:
    """The tar members holding a document's (or a sequence's) tiles, in stream order. With
    npy tiles the member is there even without images, as a `[0, 3, t, t]` array (1,024
    bytes of tar), so every sample has the same members, as Hugging Face `datasets` needs."""
    n_tiles = sum(m["n_tiles"] for m in meta)
    t = cfg.tile_size
    if cfg.tile_format == "npy":
        if cfg.layout == "patches":
            per = (t // PATCH_SIZE) ** 2
            shape, ext = (n_tiles, per, PATCH_SIZE * PATCH_SIZE * 3), "patches.npy"
        else:
            shape, ext = (n_tiles, 3, t, t), "tiles.npy"
        header = npy_header("|u1", shape)

        def chunks():
            yield header
            for data, m in zip(images, meta):
                arr = _tiles(data, cfg, m["max_tiles"])
                if arr.shape[0] != m["n_tiles"]:
                    raise ValueError(f"image planned for {m['n_tiles']} tiles gave {arr.shape[0]}")
                yield np.ascontiguousarray(arr).tobytes()

        return {ext: Streamed(len(header) + int(np.prod(shape)), chunks())}
    from PIL import Image

    members, index = {}, 0
    fmt = "PNG" if cfg.tile_format == "png" else "JPEG"
    for data, m in zip(images, meta):
        for tile in _tiles(data, cfg, m["max_tiles"]):
            buf = io.BytesIO()
            img = Image.fromarray(np.ascontiguousarray(tile.transpose(1, 2, 0)))
            img.save(buf, fmt, **({"quality": cfg.jpeg_quality} if fmt == "JPEG" else {"compress_level": 6}))
            members[f"tile_{index:04d}.{cfg.tile_format}"] = buf.getvalue()
            index += 1
    return members


def token_streams(tokens: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The `tokens` column (each stream's little-endian uint32 bytes, binary or large
    binary) -> (offsets in tokens, all tokens), without copying the tokens."""
    wide = pa.types.is_large_binary(tokens.type)
    _, off_buf, data = tokens.buffers()
    offsets = np.frombuffer(off_buf, dtype=np.int64 if wide else np.int32)
    offsets = offsets[tokens.offset:tokens.offset + len(tokens) + 1]
    values = np.frombuffer(data, dtype="<u4") if data is not None else np.zeros(0, "<u4")
    return offsets // 4, values


def write_partition(batches: Iterator[pa.RecordBatch], out_dir: str, name: str,
                    max_samples: int, max_bytes: int, images_cfg: ImagesConfig,
                    storage_opts=None) -> Iterator[pa.RecordBatch]:
    writer = part = None
    try:
        for batch in batches:
            if batch.num_rows == 0:
                continue
            if writer is None:
                part = batch.column("_partition")[0].as_py()
                writer = ShardWriter(out_dir, name, part, max_samples, max_bytes, storage_opts)
            offsets, values = token_streams(batch.column("tokens"))
            # A mixture's copies say which document they repeat (`<id>_r<k>` is copy k).
            names = ("id", "source", "uri", "lang", "lang_score") + (
                ("doc_id", "copy") if "copy" in batch.schema.names else ())
            cols = {c: batch.column(c).to_pylist() for c in names}
            image_meta = batch.column("image_meta").to_pylist()
            signals = batch.column("signals").to_pylist()
            images = batch.column("images")
            for i in range(batch.num_rows):
                ids = values[offsets[i]: offsets[i + 1]]
                meta = {c: cols[c][i] for c in cols}
                meta["n_tokens"] = int(len(ids))
                meta["images"] = json.loads(image_meta[i])
                meta["n_image_tokens"] = sum(m["n_tokens"] for m in meta["images"])
                # Rounded: the quality signals travel with the sample for reweighting and `show`.
                meta["signals"] = signal_list(signals[i])
                files = {"tokens.npy": npy_bytes(ids), "json": sample_json(meta)}
                files.update(image_members(images[i].as_py() if meta["images"] else [], meta["images"],
                                           images_cfg))
                writer.write(meta["id"], files, tokens=len(ids), images=len(meta["images"]),
                             tiles=sum(m["n_tiles"] for m in meta["images"]))
        infos = writer.close() if writer else []
    except BaseException:
        if writer:
            writer.abort()
        raise
    if infos:
        yield commit_partition(infos, out_dir, part, storage_opts)


def commit_partition(infos: list, out_dir: str, part: int, storage_opts) -> pa.RecordBatch:
    """Writes the partition's commit record (a resumed run skips partitions that have one)
    and returns its shard infos as the stage's rows."""
    record = json.dumps(info_dicts(infos), sort_keys=True).encode()
    storage.write_bytes(storage.join(out_dir, COMMITS, f"{part:05d}.json"), record, storage_opts)
    maybe_fail("shard_commit")
    return pa.RecordBatch.from_pylist(info_dicts(infos), schema=SHARD_INFO_ARROW)


class WriteShards(Stage):
    name = "shard"
    reads = ("source", "uri", "lang", "lang_score", "signals", "tokens", "images", "image_meta")
    writes = ()  # the shards themselves; the DataFrame it returns lists them

    def __init__(self, out_dir: str, name: str, max_samples: int, max_bytes: int, partitions: int,
                 images_cfg: ImagesConfig | None = None):
        self.out_dir, self.shard_name = out_dir, name
        self.max_samples, self.max_bytes, self.partitions = max_samples, max_bytes, partitions
        self.images_cfg = images_cfg or ImagesConfig()

    def apply(self, df, ctx):
        """Returns a small DataFrame of shard infos; collecting it runs the write."""
        out_dir, name, icfg = self.out_dir, self.shard_name, self.images_cfg
        max_samples, max_bytes, opts = self.max_samples, self.max_bytes, ctx.storage_opts
        if "_route" in df.columns:  # a mixture's copies, each routed to its partition (pipelines/mixture)
            arranged = df.repartition(self.partitions, "_route").sortWithinPartitions("_round", "doc_id")
        else:
            arranged = df.repartition(self.partitions, "id").sortWithinPartitions("id")
        arranged = arranged.withColumn("_partition", F.spark_partition_id())

        def run(batches):
            return write_partition(batches, out_dir, name, max_samples, max_bytes, icfg, opts)

        return arranged.mapInArrow(run, SHARD_INFO_DDL)


def committed_partitions(shard_dir: str, opts) -> dict[int, list[dict]]:
    """Shard infos of partitions an earlier attempt finished (their commit records)."""
    folder = storage.join(shard_dir, COMMITS)
    done = {}
    for name in storage.listdir_names(folder, opts):
        if not name.endswith(".json"):
            continue
        infos = json.loads(storage.read_bytes(storage.join(folder, name), opts))
        if all(storage.exists(storage.join(shard_dir, i["name"]), opts) for i in infos if i["name"]):
            done[int(name.split(".")[0])] = infos
    return done
