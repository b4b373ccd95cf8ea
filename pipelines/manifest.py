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


def build_manifest(cfg: Config, infos: list[dict], tok: dict, mixture: dict | None = None) -> dict:
    totals = {k: sum(i[k] for i in infos) for k in ("samples", "tokens", "images", "tiles", "bytes")}
    totals["shards"] = len(infos)
    im, v = cfg.images, cfg.video
    return {
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
