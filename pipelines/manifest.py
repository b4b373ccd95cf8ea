"""`manifest.json`, written last (docs/output.md): the shards, their totals, the tokenizer,
the vision layout, the config used and the code version."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

from pipelines import __version__
from pipelines.config import Config
from vision_prep.llama4 import PATCH_SIZE, patch_tokens_per_tile

MANIFEST = "manifest.json"
FORMAT = "earlyfuse-webdataset/1"
PACKAGES = ("pipelines", "filters", "tokenization", "vision_prep", "jobs")
SOURCE_SUFFIXES = (".py", ".toml", ".txt", ".json")


@lru_cache(maxsize=1)
def code_version() -> str:
    """`<version>+src.<digest>`: the package version and a digest of every source file the
    pipeline runs, so two outputs made by different code never claim the same version (a
    commit id would not see uncommitted changes, and needs git). `earlyfuse submit` passes
    its own in EARLYFUSE_CODE_VERSION, since a cluster's driver imports from a zip."""
    if os.environ.get("EARLYFUSE_CODE_VERSION"):
        return os.environ["EARLYFUSE_CODE_VERSION"]
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for pkg in PACKAGES:
        folder = root / pkg
        if not folder.is_dir():
            return f"{__version__}+unknown"
        for path in sorted(folder.rglob("*")):
            if path.suffix in SOURCE_SUFFIXES and "__pycache__" not in path.parts and path.is_file():
                h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return f"{__version__}+src.{h.hexdigest()[:12]}"


def packing_block(cfg: Config, infos: list[dict], dropped: dict[str, int]) -> dict:
    """The packed layout's totals: sequences, documents and their pieces, padding, the
    non-pad share of the tokens (efficiency), and the documents not written, by reason."""
    seq_len = cfg.shards.seq_len
    sequences = sum(i["samples"] for i in infos)
    tokens = sum(i["tokens"] for i in infos)
    documents = sum(i["documents"] for i in infos)
    lc = cfg.long_context
    return {"seq_len": seq_len, "sequences": sequences, "documents": documents,
            "pieces": sum(i["pieces"] for i in infos), "tokens": tokens,
            "padding": sum(i["padding"] for i in infos),
            "efficiency": round(tokens / (sequences * seq_len), 6) if sequences else None,
            "documents_in": documents + sum(dropped.values()), "dropped": dropped,
            **({"long_context": {"min_tokens": lc.min_tokens, "group_by": lc.group_by,
                                 "concat_tokens": lc.concat_tokens or seq_len}} if lc.enabled else {})}


def build_manifest(cfg: Config, infos: list[dict], tok: dict, mixture: dict | None = None,
                   dropped: dict[str, int] | None = None) -> dict:
    packed = cfg.shards.layout == "packed"
    infos = [dict(i) for i in infos]
    for i in infos:
        i.pop("dropped", None)
        if packed:
            i["efficiency"] = round(i["tokens"] / (i["samples"] * cfg.shards.seq_len), 6) if i["samples"] else None
        else:  # a sample is a document: the packing counts say nothing
            for k in ("documents", "pieces", "padding"):
                i.pop(k, None)
    totals = {k: sum(i[k] for i in infos) for k in ("samples", "tokens", "images", "tiles", "bytes")}
    totals["shards"] = len(infos)
    totals["documents"] = sum(i["documents"] for i in infos) if packed else totals["samples"]
    im, v = cfg.images, cfg.video
    return {
        "layout": cfg.shards.layout,
        # Packed: one sample is a sequence (docs/stages/packing.md); absent for one per document.
        **({"packing": packing_block(cfg, infos, dropped or {})} if packed else {}),
        "format": FORMAT,
        "name": cfg.shards.name,
        "shards": infos,
        "totals": totals,
        "tokenizer": tok,
        "vision": {"tile_size": im.tile_size, "max_tiles": im.max_tiles, "mode": im.mode, "layout": im.layout,
                   "tile_format": im.tile_format, "patch_size": PATCH_SIZE,
                   "patch_tokens_per_tile": patch_tokens_per_tile(im.tile_size), "max_images_per_doc": im.max_per_doc,
                   "video": {"fps": v.fps, "max_frames": v.max_frames, "mode": v.mode,
                             "frame_max_tiles": v.frame_max_tiles}},
        # The mixture's plan and what each bucket wrote (docs/stages/mixture.md); absent without one.
        **({"mixture": mixture} if mixture else {}),
        "config": cfg.to_dict(),
        "code_version": code_version(),
    }
