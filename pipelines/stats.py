"""Summaries of a finished output folder: manifest, report and a scan of the shards."""

from __future__ import annotations

import json
import tarfile
from collections import Counter, defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from pipelines.io import storage


class NotAnOutput(FileNotFoundError):
    pass


def human_bytes(n: float) -> str:
    """1536 -> '1.5 KiB': the one way sizes are shown (terminal tables and the HTML page)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)


def _bounded_map(pool, fn, items, window: int):
    """pool.map in order, but with at most `window` shards in flight: Executor.map queues a
    future per item up front, which over thousands of shards is what memory grows with."""
    pending = deque()
    for item in items:
        pending.append(pool.submit(fn, item))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _progress(total: int):
    """A callable that advances a bar on stderr (rich), one shard per call."""
    from rich.progress import Progress

    bar = Progress(transient=True)
    task = bar.add_task("scanning shards", total=total)
    bar.start()
    done = [0]

    def step():
        done[0] += 1
        bar.advance(task)
        if done[0] >= total:
            bar.stop()
    return step


def _percentiles(values: list[int]) -> dict:
    if not values:
        return {"count": 0}
    a = np.asarray(values, dtype=np.float64)
    q = np.percentile(a, [0, 10, 50, 90, 99, 100])
    return {"count": int(a.size), "mean": round(float(a.mean()), 1),
            **{k: round(float(v), 1) for k, v in zip(("min", "p10", "p50", "p90", "p99", "max"), q)}}


def _histogram(values: list[int], log: bool, bins: int = 12) -> dict:
    """Counts per bin. Log-spaced for long-tailed sizes (tokens, bytes); one bin per value
    for small counts (images per document, tiles per image) while they fit in `bins`."""
    if not values:
        return {"edges": [], "counts": [], "discrete": False}
    a = np.asarray(values, dtype=np.float64)
    lo, hi = float(a.min()), float(a.max())
    discrete = not log and hi - lo + 1 <= bins
    if discrete:
        edges = np.arange(lo, hi + 2) - 0.5
    elif log and lo > 0 and hi / lo > 4:
        edges = np.geomspace(lo, hi * (1 + 1e-9), bins + 1)
    else:
        edges = np.linspace(lo, hi + (1 if hi == lo else 0), bins + 1)
    counts, edges = np.histogram(a, bins=edges)
    return {"edges": [round(float(e), 2) for e in edges], "counts": counts.tolist(), "discrete": discrete}


def member_kind(name: str) -> str:
    """`<key>.tokens.npy` -> tokens, `<key>.tiles.npy` -> tiles, `<key>.tile_0003.png` -> tiles."""
    ext = name.split(".", 1)[1] if "." in name else ""
    if ext.startswith(("tiles", "tile_")):
        return "tiles"
    if ext.startswith("patches"):
        return "patches"
    return ext.split(".")[0] or "other"


def scan_shard(path: str, member_bytes: Counter | None = None, opts=None) -> list[dict]:
    """The JSON metadata of every sample in one tar, read as a stream (local or s3://);
    arrays are not read, only sized."""
    metas = []
    with storage.open_read(str(path), opts) as f, tarfile.open(fileobj=f, mode="r|") as tar:
        for member in tar:
            if not member.isfile():
                continue
            if member_bytes is not None:
                member_bytes[member_kind(member.name)] += member.size
            if member.name.endswith(".json"):
                metas.append(json.loads(tar.extractfile(member).read()))
    return metas


def _shard_list(root: str, opts=None) -> tuple[dict | None, list[dict]]:
    """(manifest or None, shards): without a manifest the tars under shards/ are listed and
    their sizes read, so an unfinished or hand-copied output can still be inspected."""
    manifest_uri = storage.join(root, "manifest.json")
    if storage.exists(manifest_uri, opts):
        manifest = json.loads(storage.read_bytes(manifest_uri, opts))
        return manifest, manifest["shards"]
    shard_dir = storage.join(root, "shards")
    names = sorted(n for n in storage.listdir_names(shard_dir, opts) if n.endswith(".tar"))
    if not names:
        raise NotAnOutput(f"{root}: no manifest.json and no shards/*.tar, not an earlyfuse output")
    return None, [{"name": n, "bytes": storage.size(storage.join(shard_dir, n), opts)} for n in names]


def curation_lines(c: dict) -> list[str]:
    """URL dedup, line dedup and the classifiers, one line each (terminal and HTML)."""
    out = []
    if "url_dedup" in c:
        u = c["url_dedup"]
        out.append(f"url dedup: {u.get('urls_crawled_more_than_once', 0):,} URLs crawled more than once, of "
                   f"{u.get('documents_with_url', 0):,} documents with a web URL")
    if "line_dedup" in c:
        d = c["line_dedup"]
        out.append(f"line dedup: {d.get('lines_removed', 0):,} lines ({d.get('chars_removed', 0):,} characters) "
                   f"removed from {d.get('documents_touched', 0):,} of {d.get('documents', 0):,} documents; "
                   f"{d.get('frequent_lines', 0):,} lines in more than {d.get('max_count')} documents of their "
                   f"bucket ({d.get('buckets', 1)} bucket{'s' if d.get('buckets', 1) != 1 else ''})")
    if "decontamination" in c:
        d = c["decontamination"]
        out.append(f"decontamination ({d.get('mode')}, {d.get('ngram')}-grams): {d.get('documents_touched', 0):,} of "
                   f"{d.get('documents', 0):,} documents touched, {d.get('cuts', 0):,} cuts, "
                   f"{d.get('chars_removed', 0):,} characters removed, {d.get('documents_rejected', 0):,} rejected; "
                   f"{d.get('index_ngrams', 0):,} n-grams indexed, {d.get('common_ngrams', 0):,} too common")
        for name, t in (d.get("tasks") or {}).items():
            out.append(f"  task {name}: {t.get('ngrams_indexed', 0):,} n-grams ({t.get('texts_too_short', 0):,} "
                       f"texts too short, {t.get('ngrams_common', 0):,} common), {t.get('documents_touched', 0):,} "
                       f"documents, {t.get('spans', 0):,} spans, {t.get('chars_removed', 0):,} characters removed, "
                       f"{t.get('documents_rejected', 0):,} rejected")
        if d.get("warning"):
            out.append(f"WARNING: {d['warning']}")
    for name, k in (c.get("classifiers") or {}).items():
        mean = k.get("mean_score")
        rule = {"threshold": f"keep score >= {k.get('threshold')}", "annotate": "scores only",
                "top_fraction": f"keep the best {k.get('fraction')} (cutoff {k.get('cutoff')}, "
                                f"{'exact' if k.get('exact') else 'approximate'})"}.get(k.get("mode"), "")
        out.append(f"classifier {name}: {k.get('scored', 0):,} scored, mean "
                   f"{'-' if mean is None else f'{mean:.3f}'}; {rule}")
    return out


def packing_lines(p: dict) -> list[str]:
    """The packed layout in a line or two: sequences, documents, pieces, padding, efficiency."""
    if not p:
        return []
    sc = p.get("scanned", p)
    lines = [f"packed: {sc['sequences']:,} sequences of {p['seq_len']:,} tokens hold {sc['documents']:,} documents "
             f"in {sc['pieces']:,} pieces; {sc['padding']:,} pad tokens, efficiency "
             f"{100 * p.get('scanned_efficiency', p.get('efficiency') or 0):.2f}%"]
    eff = p.get("shard_efficiency_pct") or {}
    if eff.get("count", 0) > 1:
        lines.append(f"  per shard: min {eff['min']:.1f}%, median {eff['p50']:.1f}%, max {eff['max']:.1f}%")
    if p.get("dropped"):
        lines.append("  not written: " + ", ".join(f"{k} {v:,}" for k, v in p["dropped"].items()))
    return lines


def dedup_rates(stages: list[dict]) -> dict:
    """Share of the documents entering each dedup stage that it removed, and of all dedup."""
    rows = {st["stage"].removeprefix("dedup_"): {"in": st["in"], "removed": st["rejected"],
                                                 "rate": round(st["rejected"] / st["in"], 4) if st["in"] else 0.0}
            for st in stages if st["stage"].startswith("dedup")}
    if rows:
        first = next(iter(rows.values()))["in"]
        removed = sum(r["removed"] for r in rows.values())
        rows["total"] = {"in": first, "removed": removed, "rate": round(removed / first, 4) if first else 0.0}
    return rows


def _mixture(manifest: dict, by_lang: dict) -> dict:
    if not manifest.get("mixture"):
        return {}
    from pipelines.mixture.report import summary

    return summary(manifest["mixture"], {k: v["tokens"] for k, v in by_lang.items()})


def _packing(manifest: dict, scanned: Counter) -> dict:
    """Packed outputs: what the shards hold (scanned) beside the manifest's plan."""
    if not scanned["sequences"]:
        return {}
    block = dict(manifest.get("packing") or {})
    per_shard = [s["efficiency"] for s in manifest["shards"] if s.get("efficiency") is not None]
    block.update(scanned={k: scanned[k] for k in ("sequences", "documents", "pieces", "padding")},
                 scanned_efficiency=round(1 - scanned["padding"] / scanned["capacity"], 6),
                 shard_efficiency_pct=_percentiles([100 * e for e in per_shard]),
                 shard_efficiency_hist=_histogram([100 * e for e in per_shard], log=False))
    return block


def _is_pair(meta: dict) -> bool:
    """Image-text pairs start with their image right after <|begin_of_text|>."""
    imgs = meta.get("images", [])
    return bool(imgs) and imgs[0].get("token_offset") == 1


def document_views(meta: dict) -> list[dict]:
    """A sample's documents as the per-document layout describes them: the sample itself,
    or (packed) each document piece it holds, with its images' offsets made relative to its
    document again and `first` set on the piece a document starts with."""
    if "seq_len" not in meta:
        return [dict(meta, first=True)]
    views = []
    for d in meta.get("documents", []):
        shift = d["start"] - d["offset"]
        images = [dict(m, token_offset=m["token_offset"] + shift) for m in d.get("images", [])]
        views.append(dict(d, n_tokens=d["length"], images=images, first=d["start"] == 0,
                          n_image_tokens=sum(int(m["n_tokens"]) for m in images)))
    return views


def summarize(root: str | Path, workers: int = 8, progress: bool = False, opts=None) -> dict:
    """Totals, tables and distributions of an output; shards are streamed in parallel and
    reduced as they finish, so memory holds one row per sample, never a shard's bytes."""
    root = str(root) if storage.is_s3(str(root)) else str(Path(root).resolve())
    if not storage.is_s3(root) and not Path(root).is_dir():
        raise NotAnOutput(f"{root}: no such folder")
    manifest, shards = _shard_list(root, opts)
    report_uri = storage.join(root, "report", "stages.json")
    report = json.loads(storage.read_bytes(report_uri, opts)) if storage.exists(report_uri, opts) else {}

    by_lang: dict[str, Counter] = defaultdict(Counter)
    by_source: dict[str, Counter] = defaultdict(Counter)
    lengths: list[int] = []
    images_per_doc: list[int] = []
    tiles_per_image: list[int] = []
    member_bytes: Counter = Counter()
    modality: Counter = Counter()
    image_tokens = n_frames = frame_tokens = 0
    scanned = {"samples": 0, "tokens": 0, "images": 0, "tiles": 0}
    packing: Counter = Counter()
    shard_samples: list[int] = []

    def scan(shard):
        counts: Counter = Counter()
        return scan_shard(storage.join(root, "shards", shard["name"]), counts, opts), counts

    bar = _progress(len(shards)) if progress else None
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for metas, counts in _bounded_map(pool, scan, shards, window=4 * workers):
            member_bytes.update(counts)
            shard_samples.append(len(metas))
            if bar:
                bar()
            for meta in metas:
                lengths.append(int(meta.get("n_tokens", 0)))
                scanned["samples"] += 1
                if "seq_len" in meta:
                    packing["sequences"] += 1
                    packing["capacity"] += int(meta["seq_len"])
                    packing["padding"] += int(meta.get("padding", 0))
                for doc in document_views(meta):
                    n = int(doc.get("n_tokens", 0))
                    imgs = doc.get("images", [])
                    tiles_per_image.extend(int(m["n_tiles"]) for m in imgs)
                    image_tokens += int(doc.get("n_image_tokens", 0))
                    frames = [m for m in imgs if m.get("kind") == "frame"]
                    n_frames += len(frames)
                    frame_tokens += sum(int(m["n_tokens"]) for m in frames)
                    scanned["tokens"] += n
                    scanned["images"] += len(imgs)
                    scanned["tiles"] += sum(int(m["n_tiles"]) for m in imgs)
                    packing["pieces"] += 1
                    for table, key in ((by_lang, doc.get("lang") or "und"), (by_source, doc.get("source") or "?")):
                        table[key]["documents"] += doc["first"]
                        table[key]["tokens"] += n
                    if not doc["first"]:
                        continue
                    packing["documents"] += 1
                    images_per_doc.append(len(imgs))
                    modality["video" if frames else "text" if not imgs
                             else "image-text pair" if _is_pair(doc) else "interleaved"] += 1
    has_manifest = manifest is not None
    if manifest is None:
        manifest = {"name": None, "shards": shards, "code_version": None, "vision": {},
                    "tokenizer": {"spec": "unknown (no manifest)", "vocab_size": None},
                    "totals": dict(scanned, shards=len(shards), bytes=sum(s["bytes"] for s in shards))}
    totals = dict(manifest["totals"])
    totals["image_tokens"] = image_tokens
    totals["videos"] = modality.get("video", 0)
    totals["frames"] = n_frames
    totals["frame_tokens"] = frame_tokens
    totals["text_tokens"] = totals.get("tokens", 0) - image_tokens
    totals.setdefault("documents", packing["documents"])
    n_docs = max(totals["documents"], 1)

    def table(d):
        rows = [{"name": k, "documents": v["documents"], "tokens": v["tokens"],
                 "share": round(v["documents"] / n_docs, 4)} for k, v in d.items()]
        return sorted(rows, key=lambda r: (-r["documents"], r["name"]))

    shard_bytes = [s["bytes"] for s in manifest["shards"]]
    histograms = {"tokens_per_sample": _histogram(lengths, log=True),
                  "images_per_doc": _histogram(images_per_doc, log=False),
                  "tiles_per_image": _histogram(tiles_per_image, log=False),
                  "shard_bytes": _histogram(shard_bytes, log=True)}
    drops = [{"stage": s["stage"], "in": s["in"], "kept": s["kept"], "rejected": s["rejected"],
              "reasons": s["reasons"]} for s in report.get("stages", [])]
    return {
        "path": str(root),
        "has_manifest": has_manifest,
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
        "shard_bytes": _percentiles(shard_bytes),
        "histograms": histograms,
        "shard_samples": _percentiles(shard_samples),
        "stages": drops,
        "part_drops": report.get("part_drops", {}),
        "fetched": report.get("fetched", {}),
        "curation": report.get("curation", {}),
        "mixture": _mixture(manifest, by_lang),
        "packing": _packing(manifest, packing),
        "skipped_files": report.get("skipped_files", {}),
        "stage_seconds": report.get("stage_seconds", {}),
        "dedup": report.get("dedup", {}),
        "dedup_rates": dedup_rates(drops),
        "tokenizer": {k: manifest["tokenizer"].get(k) for k in ("spec", "vocab_size")},
        "code_version": manifest.get("code_version"),
    }
