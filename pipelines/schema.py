"""The record every stage reads and writes (docs/design.md, "The record"), as Spark DDL and Arrow."""

from __future__ import annotations

import pyarrow as pa

KEEP = "keep"
# `video` is a reference the video stage replaces with frames; it never reaches a shard.
MEDIA_KINDS = ("image", "frame", "video")
# Text that belongs to a picture or a video rather than standing as prose.
MEDIA_TEXT_ROLES = ("caption", "subtitle", "timestamp")

RECORD_DDL = (
    "id string, source string, uri string, "
    "parts array<struct<kind: string, text: string, data: binary, meta: map<string, string>>>, "
    "lang string, lang_score double, signals map<string, double>, status string"
)

PART_TYPE = pa.struct([
    ("kind", pa.string()),
    ("text", pa.string()),
    ("data", pa.binary()),
    ("meta", pa.map_(pa.string(), pa.string())),
])

RECORD_ARROW = pa.schema([
    ("id", pa.string()),
    ("source", pa.string()),
    ("uri", pa.string()),
    ("parts", pa.list_(PART_TYPE)),
    ("lang", pa.string()),
    ("lang_score", pa.float64()),
    ("signals", pa.map_(pa.string(), pa.float64())),
    ("status", pa.string()),
])


def text_part(text: str, **meta: str) -> dict:
    return {"kind": "text", "text": text, "data": None, "meta": list(meta.items())}


def image_part(data: bytes | None, **meta: str) -> dict:
    return {"kind": "image", "text": None, "data": data,
            "meta": [(k, str(v)) for k, v in meta.items() if v is not None and v != ""]}


def caption_part(text: str) -> dict:
    """A caption or alt text: judged for language, never by text-quality rules."""
    return text_part(text, role="caption")


def record(id: str, source: str, uri: str, parts: list[dict], status: str = KEEP,
           signals: dict[str, float] | None = None) -> dict:
    return {"id": id, "source": source, "uri": uri, "parts": parts, "lang": None,
            "lang_score": None, "signals": list((signals or {}).items()), "status": status}


def records_to_batch(rows: list[dict]) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist(rows, schema=RECORD_ARROW)


def document_texts(batch: pa.RecordBatch, sep: str = "\n\n") -> list[str]:
    """The text parts of each row joined in reading order (vectorised offsets, one pass)."""
    parts = batch.column("parts")
    offsets = parts.offsets.to_numpy()
    flat = parts.flatten()
    kinds = flat.field("kind").to_pylist()
    texts = flat.field("text").to_pylist()
    base = offsets[0]
    out = []
    for i in range(len(parts)):
        lo, hi = offsets[i] - base, offsets[i + 1] - base
        out.append(sep.join(t for k, t in zip(kinds[lo:hi], texts[lo:hi]) if k == "text" and t))
    return out


def caption_documents(batch: pa.RecordBatch) -> list[bool]:
    """Per row: media with only captions (an image-text pair), judged by its pictures.

    Computed from the flattened parts without touching the image bytes.
    """
    import pyarrow.compute as pc

    parts = batch.column("parts")
    offsets = parts.offsets.to_numpy()
    flat = parts.flatten()
    kinds = flat.field("kind").to_pylist()
    roles = pc.map_lookup(flat.field("meta"), "role", "first").to_pylist()
    base = offsets[0]
    out = []
    for i in range(len(parts)):
        lo, hi = offsets[i] - base, offsets[i + 1] - base
        media = any(k in MEDIA_KINDS for k in kinds[lo:hi])
        prose = any(k == "text" and r not in MEDIA_TEXT_ROLES for k, r in zip(kinds[lo:hi], roles[lo:hi]))
        out.append(media and not prose)
    return out


def flat_parts(batch: pa.RecordBatch, *meta_keys: str) -> tuple[list[tuple[int, int]], list, list, dict[str, list]]:
    """Each row's range in the flattened parts, the flattened kinds and texts, and the
    values of `meta_keys`: read without touching image bytes."""
    import pyarrow.compute as pc

    parts = batch.column("parts")
    offsets = parts.offsets.to_numpy()
    offsets = offsets - offsets[0]
    flat = parts.flatten()
    meta = {k: pc.map_lookup(flat.field("meta"), k, "first").to_pylist() for k in meta_keys}
    return (list(zip(offsets[:-1].tolist(), offsets[1:].tolist())), flat.field("kind").to_pylist(),
            flat.field("text").to_pylist(), meta)
