"""Tokenize stage: kept documents -> one interleaved uint32 token stream each (the
`tokens` column: its little-endian bytes).

Text runs between images are joined with the part separator and encoded in one batch call
per Arrow batch; each usable image contributes its Llama-4 token layout at its position.
The image bytes travel on to the shard writer, which cuts the tiles while writing, so
tiles never sit in a DataFrame.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from pipelines.stage import Stage
from vision_prep.llama4 import TILE_SIZE, patch_tokens_per_tile

TOKENS_DDL = ("id string, source string, uri string, lang string, lang_score double, "
              "signals map<string,double>, tokens binary, n_tokens int, images array<binary>, image_meta string, "
              "modality string")
TOKENS_ARROW = pa.schema([
    ("id", pa.string()), ("source", pa.string()), ("uri", pa.string()),
    ("lang", pa.string()), ("lang_score", pa.float64()),
    ("signals", pa.map_(pa.string(), pa.float64())),
    ("tokens", pa.binary()), ("n_tokens", pa.int32()),
    ("images", pa.list_(pa.binary())), ("image_meta", pa.string()), ("modality", pa.string()),
])


def modality(doc_meta: list[dict]) -> str:
    """`text`, `pair` (an image first, right after <|begin_of_text|>, as `stats` counts
    image-text pairs), `interleaved` or `video` (any frame)."""
    if not doc_meta:
        return "text"
    if any(m["kind"] == "frame" for m in doc_meta):
        return "video"
    return "pair" if doc_meta[0]["token_offset"] == 1 else "interleaved"

_TOKENIZERS: dict[str, object] = {}


def tokenizer(spec: str):
    """One tokenizer per Python worker, built on first use."""
    if spec not in _TOKENIZERS:
        from tokenization import load_tokenizer

        _TOKENIZERS[spec] = load_tokenizer(spec)
    return _TOKENIZERS[spec]


def _segments(parts: list[dict], sep: str) -> list[tuple[str, object]]:
    """[("text", joined run) | ("image", part)] in reading order, dropped images left out."""
    segs: list[tuple[str, object]] = []
    run: list[str] = []
    for p in parts:
        if p["kind"] == "text" and p["text"]:
            run.append(p["text"])
        elif p["kind"] in ("image", "frame") and p["data"] is not None:
            meta = dict(p["meta"] or [])
            if "rows" not in meta or meta.get("dropped"):
                continue
            if run:
                segs.append(("text", sep.join(run)))
                run = []
            segs.append(("image", p))
    if run:
        segs.append(("text", sep.join(run)))
    return segs


def tokenize_batch(batch: pa.RecordBatch, spec: str, sep: str, tile_size: int = TILE_SIZE) -> pa.RecordBatch:
    """Arrow batch of records -> Arrow batch of streams; one encode call for all text runs."""
    from tokenization.layout import image_token_array

    tok = tokenizer(spec)
    per_tile = patch_tokens_per_tile(tile_size)
    bos = np.array([tok.bos_id], dtype=np.uint32)
    eos = np.array([tok.eos_id], dtype=np.uint32)
    docs = [_segments(parts, sep) for parts in batch.column("parts").to_pylist()]
    texts = [v for segs in docs for k, v in segs if k == "text"]
    encoded = iter(tok.encode_arrays(texts))
    streams, images, metas, kinds = [], [], [], []
    for segs in docs:
        pieces, n, doc_images, doc_meta = [bos], 1, [], []
        for kind, value in segs:
            if kind == "text":
                arr = next(encoded)
            else:
                m = dict(value["meta"])
                rows, cols = int(m["rows"]), int(m["cols"])
                arr = image_token_array(rows, cols, tok.special_ids, per_tile)
                doc_images.append(value["data"])
                doc_meta.append({
                    "kind": value["kind"], "grid": [rows, cols], "n_tiles": int(m["n_tiles"]),
                    "token_offset": n, "n_tokens": int(arr.size),
                    "width": int(m["width"]), "height": int(m["height"]),
                    "resized": [int(m["resized_height"]), int(m["resized_width"])],
                    "src": m.get("src", ""), "alt": m.get("alt", ""), "sha1": m.get("sha1", ""),
                    "max_tiles": int(m.get("max_tiles", 16)),
                    # Every image has every key (a frame's time in seconds, -1 for an image): a
                    # loader inferring a schema from the first samples must see them all.
                    "time": float(m.get("time", -1.0)),
                })
            pieces.append(arr)
            n += arr.size
        pieces.append(eos)
        streams.append(np.concatenate(pieces))
        images.append(doc_images)
        kinds.append(modality(doc_meta))
        metas.append(json.dumps(doc_meta, ensure_ascii=False, sort_keys=True) if doc_meta else "[]")
    lengths = np.fromiter((s.size for s in streams), dtype=np.int32, count=len(streams))
    offsets = np.zeros(len(streams) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    # Little-endian uint32 bytes, not array<int>: Spark writes and reads a binary column of
    # Parquet about five times faster (the mixture's `tokens` checkpoint), and converts it
    # to and from Arrow with one copy.
    flat = np.concatenate(streams).astype("<u4") if streams else np.zeros(0, "<u4")
    tokens = pa.BinaryArray.from_buffers(pa.binary(), len(streams),
                                         [None, pa.py_buffer((offsets * 4).tobytes()), pa.py_buffer(flat.tobytes())])
    return pa.RecordBatch.from_arrays(
        [*(batch.column(c) for c in ("id", "source", "uri", "lang", "lang_score", "signals")),
         tokens, pa.array(lengths),
         pa.array(images, pa.list_(pa.binary())), pa.array(metas, pa.string()), pa.array(kinds, pa.string())],
        schema=TOKENS_ARROW,
    )


class Tokenize(Stage):
    """Kept records -> token streams (TOKENS_ARROW): the first stage past the record, so
    `writes` names the columns of its own output."""

    name = "tokenize"
    reads = ("source", "uri", "parts", "lang", "lang_score", "signals")
    writes = ("tokens", "n_tokens", "images", "image_meta", "modality")

    def __init__(self, spec: str, part_separator: str = "\n\n", tile_size: int = TILE_SIZE):
        self.spec = spec
        self.sep = part_separator
        self.tile_size = tile_size

    def apply(self, df, ctx):
        spec, sep, tile_size = self.spec, self.sep, self.tile_size

        def run(batches: Iterator[pa.RecordBatch]):
            for b in batches:
                yield tokenize_batch(b, spec, sep, tile_size)

        return df.mapInArrow(run, TOKENS_DDL)
