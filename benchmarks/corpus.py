"""Benchmark inputs made from the generated sample, so no download is needed."""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def sample_texts() -> list[str]:
    """Texts extracted from the sample WARCs and JSONL (real extraction, real languages)."""
    import json

    from jobs.sample import generate_sample_inputs
    from pipelines.readers.warc import read_warc

    root = Path(tempfile.mkdtemp(prefix="earlyfuse-bench-"))
    generate_sample_inputs(root)
    texts = []
    for path in sorted((root / "warc").glob("*.warc.gz")):
        with open(path, "rb") as f:
            for rec in read_warc(f, "crawl", path.name, 10_000_000):
                if rec["status"] == "keep":
                    texts.append(rec["parts"][0]["text"])
    for line in (root / "docs").glob("*.jsonl"):
        for raw in line.read_text().splitlines():
            try:
                texts.append(json.loads(raw)["text"])
            except (ValueError, KeyError, TypeError):
                continue
    return texts


def corpus(n_docs: int) -> list[str]:
    base = sample_texts()
    # Suffix each copy so repeated texts are not identical strings (no caching effects).
    return [f"{base[i % len(base)]}\n{i}" for i in range(n_docs)]
