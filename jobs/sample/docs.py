"""The sample's JSONL corpus: articles in eleven languages, junk, one exact copy."""

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
        lines.append(json.dumps({"id": doc["id"], "url": doc["url"], "text": doc["text"]}, ensure_ascii=False))
    _write(root / "docs" / "docs.jsonl", ("\n".join(lines) + "\n").encode())
    return [{k: d[k] for k in ("id", "lang", "kind", "dup_of")} | ({"reason": d["reason"]} if "reason" in d else {})
            for d in docs]
