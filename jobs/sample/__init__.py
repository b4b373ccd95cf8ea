"""Deterministic sample inputs for the bundled ``earlyfuse run`` pipeline.

The sample pipeline needs small but realistic inputs of every modality: a
Common-Crawl-like WARC crawl, a JSONL text corpus, an img2dataset shard and a
few video clips. They are generated here instead of being checked in, so the
repository stays small, and the planted problems (duplicates, near-duplicates,
junk pages, missing images) are recorded in ``truth.json`` so tests can score
the pipeline against a known answer.

Every byte except the encoded videos is reproducible: all randomness comes
from ``random.Random`` seeded with fixed strings, dates are constants, gzip
and tar headers carry no timestamps and record ids are uuid5 values.

Usage::

    python -m jobs.sample OUTPUT_DIR [--force]

The tables (sentences, titles, page chrome, palette, video specs) are data in tables.json;
pages.py plans the crawl, warc.py writes it, pictures.py, docs.py and videos.py the rest.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from jobs.sample.docs import write_docs
from jobs.sample.pages import Page, plan_pages
from jobs.sample.pictures import write_image_pairs
from jobs.sample.tables import CURRENT, TRUTH_VERSION
from jobs.sample.videos import write_videos
from jobs.sample.warc import write_warcs


def _page_truth(page: Page) -> dict:
    entry = {"url": page.url, "file": page.file, "lang": page.lang, "kind": page.kind, "dup_of": page.dup_of,
             "images": [url for _, url in page.images]}
    if page.reason:
        entry["reason"] = page.reason
    if page.jaccard is not None:
        entry["jaccard_5gram"] = page.jaccard
    return entry


def generate_sample_inputs(root: str | os.PathLike, force: bool = False) -> dict:
    """Create the sample inputs under root (idempotent: if root/'truth.json' of this generator
    version exists and not force, return its parsed content without regenerating). Returns the
    truth dict (also written to root/'truth.json', written LAST)."""
    root = Path(root)
    truth_path = root / "truth.json"
    if truth_path.exists() and not force:
        truth = json.loads(truth_path.read_text(encoding="utf-8"))
        if truth.get("version") == TRUTH_VERSION:  # inputs of an older generator are made again
            return truth
    root.mkdir(parents=True, exist_ok=True)

    pages, stored_images, missing_urls = plan_pages()
    warc_images = write_warcs(root, pages, stored_images)
    docs = write_docs(root)
    pairs = write_image_pairs(root)
    videos = write_videos(root)

    truth = {
        "version": TRUTH_VERSION,
        "seed": CURRENT.seed,
        "pages": [_page_truth(p) for p in pages],
        "image_urls_in_warc": sorted(img["url"] for img in warc_images),
        "missing_image_urls": sorted(missing_urls),
        "warc_images": warc_images,
        "docs": docs,
        "image_pairs": len(pairs),
        "image_pair_langs": {p["key"]: p["lang"] for p in pairs if p["lang"] != "eng_Latn"},
        "videos": videos,
    }
    # truth.json is the completion marker: it is written last and atomically,
    # so an interrupted run is regenerated instead of being trusted.
    tmp = truth_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(truth, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, truth_path)
    return truth


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Generate the earlyfuse sample pipeline inputs.")
    parser.add_argument("folder", help="output folder")
    parser.add_argument("--force", action="store_true", help="regenerate even if truth.json exists")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    truth = generate_sample_inputs(args.folder, force=args.force)
    kinds: dict[str, int] = {}
    for page in truth["pages"]:
        kinds[page["kind"]] = kinds.get(page["kind"], 0) + 1
    print(f"{args.folder}: {len(truth['pages'])} pages {kinds}, {len(truth['docs'])} docs, "
          f"{truth['image_pairs']} image pairs, {len(truth['videos'])} videos "
          f"({time.perf_counter() - started:.1f}s)")


