"""Summaries of a finished output folder: manifest, report and a scan of the shards."""

from __future__ import annotations

import json
import tarfile
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np


class NotAnOutput(FileNotFoundError):
    pass


def _percentiles(values: list[int]) -> dict:
    if not values:
        return {"count": 0}
    a = np.asarray(values, dtype=np.float64)
    q = np.percentile(a, [0, 10, 50, 90, 99, 100])
    return {"count": int(a.size), "mean": round(float(a.mean()), 1),
            **{k: round(float(v), 1) for k, v in zip(("min", "p10", "p50", "p90", "p99", "max"), q)}}


def member_kind(name: str) -> str:
    """`<key>.tokens.npy` -> tokens, `<key>.tiles.npy` -> tiles, `<key>.tile_0003.png` -> tiles."""
    ext = name.split(".", 1)[1] if "." in name else ""
    if ext.startswith(("tiles", "tile_")):
        return "tiles"
    if ext.startswith("patches"):
        return "patches"
    return ext.split(".")[0] or "other"


def scan_shard(path: Path, member_bytes: Counter | None = None) -> list[dict]:
    """The JSON metadata of every sample in one tar (arrays are not read, only sized)."""
    metas = []
    with tarfile.open(path, "r:") as tar:
        for member in tar:
            if not member.isfile():
                continue
            if member_bytes is not None:
                member_bytes[member_kind(member.name)] += member.size
            if member.name.endswith(".json"):
                metas.append(json.loads(tar.extractfile(member).read()))
    return metas


def _is_pair(meta: dict) -> bool:
    """Image-text pairs start with their image right after <|begin_of_text|>."""
    imgs = meta.get("images", [])
    return bool(imgs) and imgs[0].get("token_offset") == 1


def summarize(root: str | Path) -> dict:
    root = Path(root)
    manifest_path = root / "manifest.json"
    if not manifest_path.is_file():
        raise NotAnOutput(f"{root}: no manifest.json, not a finished earlyfuse output")
    manifest = json.loads(manifest_path.read_text())
    report_path = root / "report" / "stages.json"
    report = json.loads(report_path.read_text()) if report_path.is_file() else {}

    by_lang: dict[str, Counter] = defaultdict(Counter)
    by_source: dict[str, Counter] = defaultdict(Counter)
    lengths: list[int] = []
    images_per_doc: list[int] = []
    tiles_per_image: list[int] = []
    member_bytes: Counter = Counter()
    modality: Counter = Counter()
    image_tokens = n_frames = frame_tokens = 0
    for shard in manifest["shards"]:
        for meta in scan_shard(root / "shards" / shard["name"], member_bytes):
            n = int(meta.get("n_tokens", 0))
            lengths.append(n)
            imgs = meta.get("images", [])
            images_per_doc.append(len(imgs))
            tiles_per_image.extend(int(m["n_tiles"]) for m in imgs)
            image_tokens += int(meta.get("n_image_tokens", 0))
            frames = [m for m in imgs if m.get("kind") == "frame"]
            n_frames += len(frames)
            frame_tokens += sum(int(m["n_tokens"]) for m in frames)
            modality["video" if frames else "text" if not imgs
                     else "image-text pair" if _is_pair(meta) else "interleaved"] += 1
            for table, key in ((by_lang, meta.get("lang") or "und"), (by_source, meta.get("source") or "?")):
                table[key]["documents"] += 1
                table[key]["tokens"] += n
    totals = dict(manifest["totals"])
    totals["image_tokens"] = image_tokens
    totals["videos"] = modality.get("video", 0)
    totals["frames"] = n_frames
    totals["frame_tokens"] = frame_tokens
    totals["text_tokens"] = totals.get("tokens", 0) - image_tokens
    n_docs = max(totals.get("samples", 0), 1)

    def table(d):
        rows = [{"name": k, "documents": v["documents"], "tokens": v["tokens"],
                 "share": round(v["documents"] / n_docs, 4)} for k, v in d.items()]
        return sorted(rows, key=lambda r: (-r["documents"], r["name"]))

    drops = [{"stage": s["stage"], "in": s["in"], "kept": s["kept"], "rejected": s["rejected"],
              "reasons": s["reasons"]} for s in report.get("stages", [])]
    return {
        "path": str(root),
        "name": manifest.get("name"),
        "totals": totals,
        "languages": table(by_lang),
        "sources": table(by_source),
        "modalities": dict(sorted(modality.items())),
        "tokens_per_sample": _percentiles(lengths),
        "images_per_doc": _percentiles(images_per_doc),
        "tiles_per_image": _percentiles(tiles_per_image),
        "bytes_by_member": dict(sorted(member_bytes.items())),
        "vision": manifest.get("vision", {}),
        "shard_bytes": _percentiles([s["bytes"] for s in manifest["shards"]]),
        "shard_samples": _percentiles([s["samples"] for s in manifest["shards"]]),
        "stages": drops,
        "part_drops": report.get("part_drops", {}),
        "dedup": report.get("dedup", {}),
        "tokenizer": {k: manifest["tokenizer"].get(k) for k in ("spec", "vocab_size")},
        "code_version": manifest.get("code_version"),
    }
