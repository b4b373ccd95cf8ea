"""`features.json`: the shards' schema in Hugging Face `datasets`' Features form (docs/output.md).

`datasets`' webdataset builder infers a schema from the first five samples of the first
shard. Every sample has the same members and its JSON the same keys, so that usually works;
but a list empty in all five (no image among the first documents, while later ones have
some) infers as null and fails later. The schema is known from the layout alone, so a run
writes it, and `Features.from_dict` of it makes any load exact:

    load_dataset("webdataset", data_files=..., features=Features.from_dict(json.load(f)))

Written as plain dicts: `datasets` is not a dependency of the pipeline.
"""

from __future__ import annotations

FEATURES = "features.json"


def _value(dtype: str) -> dict:
    return {"dtype": dtype, "_type": "Value"}


def _list(feature: dict, depth: int = 1) -> dict:
    for _ in range(depth):
        feature = {"feature": feature, "_type": "List"}
    return feature


_IMAGE = {
    "alt": _value("string"), "grid": _list(_value("int64")), "height": _value("int64"), "kind": _value("string"),
    "max_tiles": _value("int64"), "n_tiles": _value("int64"), "n_tokens": _value("int64"),
    "resized": _list(_value("int64")), "sha1": _value("string"), "src": _value("string"), "time": _value("float64"),
    "token_offset": _value("int64"), "width": _value("int64"),
}
_SIGNALS = _list({"name": _value("string"), "value": _value("float64")})


def _document(copies: bool) -> dict:
    doc = {"id": _value("string"), "source": _value("string"), "uri": _value("string"), "lang": _value("string"),
           "lang_score": _value("float64"), "signals": _SIGNALS}
    if copies:  # a mixture's copies name the document they repeat
        doc.update(doc_id=_value("string"), copy=_value("int64"))
    return doc


def features(layout: str, image_layout: str, tile_format: str, copies: bool) -> dict | None:
    """The Features dict of one output, or None where `datasets` cannot hold it (PNG or
    JPEG tiles: one member per tile, a different member set per sample)."""
    if tile_format != "npy":
        return None
    if image_layout == "patches":
        pixels = {"patches.npy": _list(_value("uint8"), 3)}
    else:
        pixels = {"tiles.npy": _list(_value("uint8"), 4)}
    if layout == "packed":
        piece = dict(_document(copies), doc_tokens=_value("int64"), length=_value("int64"), offset=_value("int64"),
                     piece=_value("int64"), pieces=_value("int64"), segment=_value("int64"), start=_value("int64"),
                     images=_list(dict(_IMAGE, tile_offset=_value("int64"))))
        meta = {"documents": _list(piece), "key": _value("string"), "n_image_tokens": _value("int64"),
                "n_tokens": _value("int64"), "padding": _value("int64"), "seq_len": _value("int64")}
        members = {"cu_seqlens.npy": _list(_value("int32")), "json": meta}
    else:
        meta = dict(_document(copies), images=_list(_IMAGE), n_image_tokens=_value("int64"),
                    n_tokens=_value("int64"))
        members = {"json": meta}
    members.update(pixels)
    members["tokens.npy"] = _list(_value("uint32"))
    members.update(__key__=_value("string"), __url__=_value("string"))
    return members
