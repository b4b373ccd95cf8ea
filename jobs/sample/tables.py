"""The sample's literal tables (sentences, titles, page chrome, palette, video specs), kept in
tables.json beside this module, and the numbers that shape the sample."""

from __future__ import annotations

import json
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

_T = json.loads((Path(__file__).with_name("tables.json")).read_text(encoding="utf-8"))

SEED = "earlyfuse-sample-v1"
TRUTH_VERSION = 2  # 2: docs with site boilerplate, crawl dates and an older crawl
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://earlyfuse.invalid/sample-data")


@dataclass
class Stream:
    """Where the sample's randomness and uuids come from; another stream, another sample of
    the same shape (the benchmarks' replicas)."""

    seed: str = SEED
    namespace: uuid.UUID = NAMESPACE


CURRENT = Stream()


@contextmanager
def reseeded(tag: str):
    """Generate under another seed and uuid namespace, derived from `tag`. Not thread-safe."""
    saved = CURRENT.seed, CURRENT.namespace
    CURRENT.seed, CURRENT.namespace = f"{SEED}:{tag}", uuid.uuid5(NAMESPACE, tag)
    try:
        yield
    finally:
        CURRENT.seed, CURRENT.namespace = saved


WARC_FILES = ("warc/crawl-00000.warc.gz", "warc/crawl-00001.warc.gz")
CRAWL_START = datetime(2026, 1, 1, tzinfo=UTC)

# Languages are keyed by FLORES-200 style codes because that is what the pipeline's
# language-id stage emits; "html" is the <html lang> attribute and "cjk" switches length and
# shingle measures from words to characters.
LANGS: dict[str, dict] = _T["langs"]

# Good pages per language; English is the largest group (~35% of all pages
# once its duplicates and junk pages are added), as in a real crawl.
GOOD_PAGES = {
    "eng_Latn": 31, "deu_Latn": 7, "fra_Latn": 7, "spa_Latn": 7,
    "ita_Latn": 6, "rus_Cyrl": 6, "ell_Grek": 5, "arb_Arab": 6,
    "hin_Deva": 6, "zho_Hans": 6, "jpn_Jpan": 6,
}
EXACT_DUP_LANGS = ["eng_Latn"] * 3 + ["deu_Latn", "fra_Latn", "rus_Cyrl", "zho_Hans", "arb_Arab"]
NEAR_DUP_LANGS = ["eng_Latn"] * 3 + ["deu_Latn", "spa_Latn", "ita_Latn", "ell_Grek", "hin_Deva"]
NEAR_DUP_MIN_JACCARD = 0.8
NEAR_DUP_EDIT_SHARE = 0.04  # stop splicing once this share of the words is new

# Pages below these lengths would be dropped by any sane quality filter, so
# good pages are always generated above them.
MIN_WORDS = 85
MIN_CJK_CHARS = 260

PAGES_WITH_IMAGES = 22
PAGES_WITH_TWO_IMAGES = 3
MISSING_IMAGES = 6
IMAGE_PAIRS = 20

SENTENCES: dict[str, list[str]] = _T["sentences"]
TITLES: dict[str, list[str]] = _T["titles"]
# Short sentences spliced into a copied article to make a near-duplicate: a whole inserted
# sentence disturbs few word 5-grams, so the copy stays above the Jaccard threshold while
# still differing by a few percent of its words.
REMARKS: dict[str, list[str]] = _T["remarks"]
NAV_PATHS: list[str] = _T["nav_paths"]
# Per-language page chrome. It is boilerplate an extractor must drop, so it is deliberately
# the same on every page of a site.
CHROME: dict[str, dict] = _T["chrome"]
LOREM: str = _T["lorem"]
SPAM_KEYWORDS: dict[str, list[str]] = _T["spam_keywords"]
# Junk pages: (reason, text language, host, site name). "lat_Latn" and "zxx_Zyyy" (no
# linguistic content) record what the text really is, even though those pages sit on
# English-language sites.
LOW_QUALITY: list[list[str]] = _T["low_quality"]
SHORT_TEXTS: dict[str, list[str]] = _T["short_texts"]
REPEATED_LINES: dict[str, str] = _T["repeated_lines"]
LINK_LABELS: dict[str, str] = _T["link_labels"]
PALETTE: dict[str, tuple[int, int, int]] = {k: tuple(v) for k, v in _T["palette"].items()}
SHAPES = ("circle", "square", "triangle", "diamond")
# Non-English captions stay generic so they never need gender or case agreement with
# colour names.
FOREIGN_CAPTIONS: dict[str, str] = _T["foreign_captions"]
DOC_LANGS = (["eng_Latn"] * 12 + ["deu_Latn"] * 4 + ["fra_Latn"] * 4 + ["spa_Latn"] * 4 + ["ita_Latn"] * 3
             + ["rus_Cyrl"] * 3 + ["zho_Hans"] * 2 + ["jpn_Jpan"] * 2 + ["arb_Arab"] * 2 + ["ell_Grek"])

VIDEOS: list[dict] = _T["videos"]
VIDEO_SIZE = (320, 240)
VIDEO_FPS = 24
# 3x5 bitmap digits so the frame counter looks the same on every machine, independent of
# which fonts Pillow finds.
DIGITS: dict[str, list[str]] = _T["digits"]
VTT_CUES: list[list[str]] = _T["vtt_cues"]
