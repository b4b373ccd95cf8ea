"""The bundled sample's inputs at k times their size, with varied content.

Replica 0 is the bundled sample itself (same bytes, same file names, so the same document
ids); replica r >= 1 is the same generator (jobs.sample) run with another seed and
another uuid namespace:

- WARC pages: articles re-composed from the sentence pools in other orders and groupings,
  other titles, hosts, pictures (drawn from the seed), other image and missing-image URLs,
  and the same plan of planted problems per replica (8 exact and 8 near duplicates of its
  own pages, 12 junk pages, 6 missing images); page URLs carry `-r<r>` so no URL repeats;
- JSONL docs: other articles, ids `r<r>-doc-NNNNN`;
- image-text pairs: other pictures and sizes;
- videos: each replica's three clips get another shape, colour, background, motion and
  length (frame-hash sequences that do not match another replica's), encoded like the sample.

So the work per replica is the sample's, and dedup finds the same kinds of duplicates at
the same rate instead of collapsing byte copies. Generation takes about 0.5 s per replica.

    python -m benchmarks.scaled_corpus OUT_DIR --k 4
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from jobs.sample import common, tables, warc
from jobs.sample import docs as sample_docs
from jobs.sample import pages as sample_pages
from jobs.sample import pictures as sample_pictures
from jobs.sample import videos as sample_videos

VERSION = 1
ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CONFIG = ROOT / "configs" / "sample.toml"
MARKER = "corpus.json"

PATHS = ("left_to_right", "bounce", "right_to_left")
SHAPES = ("circle", "square", "triangle", "diamond")
COLORS = ("red", "yellow", "white", "orange", "pink", "green", "teal", "black")
BACKGROUNDS = (("navy", "blue"), ("green", "teal"), ("purple", "pink"), ("black", "grey"),
               ("blue", "white"), ("orange", "red"), ("teal", "navy"), ("grey", "purple"))


@contextmanager
def _seeded(replica: int):
    """The sample generator with another seed and uuid namespace; replica 0 is left exactly
    as it is. Not thread-safe."""
    if not replica:
        yield
        return
    with tables.reseeded(f"replica-{replica}"):
        yield


def video_specs(replica: int) -> list[dict]:
    """The sample's three clips for replica 0; for others, varied ones with the same codecs."""
    if replica == 0:
        return [dict(s) for s in tables.VIDEOS]
    specs = []
    for j, base in enumerate(tables.VIDEOS):
        n = 3 * replica + j
        specs.append(dict(
            base,
            file=f"video/clip-r{replica}-{j:02d}{Path(base['file']).suffix}",
            shape=SHAPES[n % len(SHAPES)],
            color=COLORS[n % len(COLORS)],
            bg=BACKGROUNDS[n % len(BACKGROUNDS)],
            path=PATHS[(j + replica) % len(PATHS)],
            # 2..6 s: lengths differ within a replica and from the same motion elsewhere.
            seconds=2 + (j + 2 * replica) % 5,
        ))
    return specs


def _write_videos(root: Path, replica: int) -> int:
    return len(sample_videos.write_videos(root, video_specs(replica)))


def _replica(root: Path, replica: int) -> dict:
    """One replica's WARCs, docs, pairs and videos written into root (sample layout)."""
    tag = f"-r{replica}" if replica else ""
    with _seeded(replica):
        pages, stored, missing = sample_pages.plan_pages()
        if replica:
            # Same hosts and titles come back under another seed; the path makes URLs unique.
            for page in pages:
                page.url = page.url.removesuffix(".html") + f"{tag}.html"
                if page.dup_of:
                    page.dup_of = page.dup_of.removesuffix(".html") + f"{tag}.html"
        with tempfile.TemporaryDirectory(prefix="earlyfuse-replica-") as tmp:
            tmp = Path(tmp)
            images = warc.write_warcs(tmp, pages, stored)
            docs = sample_docs.write_docs(tmp)
            pairs = sample_pictures.write_image_pairs(tmp)
            for name in tables.WARC_FILES:
                dest = root / name.replace("crawl-", f"crawl{tag}-")
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(tmp / name, dest)
            lines = []
            for raw in (tmp / "docs" / "docs.jsonl").read_text(encoding="utf-8").splitlines():
                obj = json.loads(raw)
                if replica:
                    obj["id"] = f"r{replica}-{obj['id']}"
                    obj["url"] = obj["url"].rsplit("/", 1)[0] + "/" + obj["id"]
                lines.append(json.dumps(obj, ensure_ascii=False))
            common.write(root / "docs" / f"docs{tag}.jsonl", ("\n".join(lines) + "\n").encode())
            (root / "images").mkdir(parents=True, exist_ok=True)
            shutil.move(tmp / "images" / "pairs-00000.tar", root / "images" / f"pairs{tag}-00000.tar")
        videos = _write_videos(root, replica)
    kinds: dict[str, int] = {}
    for p in pages:
        kinds[p.kind] = kinds.get(p.kind, 0) + 1
    return {"replica": replica, "pages": len(pages), "page_kinds": kinds, "warc_images": len(images),
            "missing_images": len(missing), "docs": len(docs), "pairs": len(pairs), "videos": videos}


def generate(root: str | os.PathLike, k: int, force: bool = False) -> dict:
    """The sample's inputs k times (replicas 0..k-1) under root, in the sample's layout
    (warc/, docs/, images/, video/). Idempotent: root/corpus.json, written last, marks a
    finished corpus of this k and version."""
    root = Path(root)
    marker = root / MARKER
    if marker.exists() and not force:
        info = json.loads(marker.read_text())
        if info.get("k") == k and info.get("version") == VERSION:
            return info
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    t = time.perf_counter()
    replicas = [_replica(root, r) for r in range(k)]
    info = {"version": VERSION, "k": k, "replicas": replicas,
            "totals": {key: sum(r[key] for r in replicas)
                       for key in ("pages", "warc_images", "docs", "pairs", "videos")},
            "bytes": sum(p.stat().st_size for p in root.rglob("*") if p.is_file()),
            "generate_s": round(time.perf_counter() - t, 2)}
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(json.dumps(info, indent=2) + "\n")
    os.replace(tmp, marker)
    return info


def cached(k: int, base: str | os.PathLike | None = None) -> Path:
    """A k-times corpus in a shared cache folder (generated on first use)."""
    base = Path(base or os.environ.get("EARLYFUSE_BENCH_CACHE")
                or Path(tempfile.gettempdir()) / "earlyfuse-bench")
    root = base / f"corpus-k{k}-v{VERSION}"
    generate(root, k)
    return root


def config_for(root: str | os.PathLike, output: str | os.PathLike, master: str = "local[2]"):
    """configs/sample.toml with its inputs pointed at root and its output at output."""
    from pipelines.config import load_config

    cfg = load_config(SAMPLE_CONFIG)
    cfg.sample.generate = ""
    for inp in cfg.inputs:
        inp.path = str(Path(root) / Path(inp.path).relative_to("data/sample"))
    cfg.run.output = str(output)
    cfg.run.master = master
    cfg.run.progress = False
    cfg.run.resume = False
    return cfg


def write_config(root: str | os.PathLike, path: str | os.PathLike) -> Path:
    """A TOML for `earlyfuse run`: the sample config, inputs under root, no sample generation."""
    text = SAMPLE_CONFIG.read_text(encoding="utf-8")
    text = text.replace('[sample]\ngenerate = "data/sample"\n', "")
    if "[sample]" in text:
        raise ValueError("configs/sample.toml changed: cannot drop its [sample] table")
    root_str = str(Path(root).resolve()).replace("\\", "/")
    text = text.replace('path = "data/sample/', f'path = "{root_str}/')
    path = Path(path)
    path.write_text(text, encoding="utf-8")
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.scaled_corpus", description=__doc__.split("\n")[0])
    ap.add_argument("folder")
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--force", action="store_true")
    args = ap.parse_args(argv)
    info = generate(args.folder, args.k, args.force)
    print(json.dumps({k: v for k, v in info.items() if k != "replicas"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
