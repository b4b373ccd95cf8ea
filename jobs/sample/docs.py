"""The sample's JSONL corpus: articles in eleven languages, junk, one exact copy; site
boilerplate (navigation, cookie banner) on every article, which line dedup removes; one
page padded past the quality rules by that boilerplate alone; and an older crawl of one
page, in a file of its own, which URL dedup rejects."""

from __future__ import annotations

import json
from pathlib import Path

from jobs.sample.common import rng as _rng
from jobs.sample.common import write as _write
from jobs.sample.pages import ArticleComposer, _join, _min_length
from jobs.sample.tables import DOC_LANGS, LANGS, SPAM_KEYWORDS


def write_docs(root: Path) -> list[dict]:
    rng = _rng("docs")
    composer = ArticleComposer(_rng("doc-articles"))
    docs = []
    for lang in DOC_LANGS:
        paragraphs = composer.article(lang, n_min=6, n_max=10, min_len=_min_length(lang) * 3 // 4)
        docs.append({"lang": lang, "kind": "good", "dup_of": None,
                     "text": "\n\n".join(_join(lang, p) for p in paragraphs)})
    spam = " ".join(rng.choice(SPAM_KEYWORDS["eng_Latn"]) for _ in range(60))
    docs.append({"lang": "eng_Latn", "kind": "low_quality", "reason": "keyword_spam", "dup_of": None,
                 "text": spam})
    docs.append({"lang": "eng_Latn", "kind": "low_quality", "reason": "short", "dup_of": None,
                 "text": "Click here."})
    for doc in docs:
        if doc["kind"] == "good":
            doc["text"] += "\n\n" + "\n".join(_boilerplate(rng))
    # Prose a few words short of the Gopher minimum, padded past it by the boilerplate:
    # kept without line dedup, rejected by the quality rules once the boilerplate is gone.
    short = ("The new library opens at nine on weekdays. Children read in the garden when the weather is fine. "
             "The cafe next door sells fresh bread and tea. Volunteers run a book swap every Saturday morning.")
    docs.append({"lang": "eng_Latn", "kind": "boilerplate_padded", "dup_of": None,
                 "text": short + "\n\n" + "\n".join(_boilerplate(rng))})
    rng.shuffle(docs)
    # The copy goes after its source so "first occurrence wins" dedup keeps the original.
    source_index = rng.choice([i for i, d in enumerate(docs[:-10]) if d["kind"] == "good"])
    source = docs[source_index]
    copy = dict(source, kind="exact_dup")
    docs.insert(rng.randint(source_index + 1, len(docs)), copy)
    for i, doc in enumerate(docs):
        doc["id"] = f"doc-{i:05d}"
    copy["dup_of"] = source["id"]
    lines = []
    for doc in docs:
        short_lang = LANGS[doc["lang"]]["html"].split("-")[0]
        doc["url"] = f"https://docs.example.org/{short_lang}/{doc['id']}"
        doc["date"] = "2024-06-01T08:00:00Z"
        lines.append(json.dumps({"id": doc["id"], "url": doc["url"], "date": doc["date"], "text": doc["text"]},
                                ensure_ascii=False))
    _write(root / "docs" / "docs.jsonl", ("\n".join(lines) + "\n").encode())
    # A year-older crawl of one article's URL (spelled differently), with other text.
    newer = next(d for d in docs if d["kind"] == "good" and d["lang"] == "eng_Latn")
    old_text = "\n\n".join(_join("eng_Latn", p) for p in composer.article("eng_Latn", n_min=6, n_max=8,
                                                                           min_len=_min_length("eng_Latn")))
    older = {"id": "doc-old-00000", "lang": "eng_Latn", "kind": "older_version", "dup_of": newer["id"],
             "url": newer["url"].replace("https://docs.example.org", "HTTPS://Docs.Example.org:443") + "#top",
             "date": "2023-06-01T08:00:00Z"}
    _write(root / "docs" / "docs-2023.jsonl", (json.dumps(
        {"id": older["id"], "url": older["url"], "date": older["date"], "text": old_text}) + "\n").encode())
    docs.append(older)
    return [{k: d[k] for k in ("id", "lang", "kind", "dup_of", "url")} | ({"reason": d["reason"]} if "reason" in d
                                                                        else {}) for d in docs]


def _boilerplate(rng) -> list[str]:
    """A site's navigation and cookie banner, as every page of it repeats them: the year and
    the case vary from page to page, which line dedup's normalisation ignores."""
    year = rng.choice([2023, 2024, 2025])
    nav = "Home | News | Docs | About us | Contact"
    return [nav.upper() if rng.random() < 0.3 else nav,
            "We use cookies to give you the best experience on our website. By continuing, you accept them.",
            f"Copyright {year} Docs Example Ltd. All rights reserved."]
