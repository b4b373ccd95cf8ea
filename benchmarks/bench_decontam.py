"""Decontamination: the stage's two passes against a plain Python loop of set look-ups of
the same hashed n-grams, and the stage's share of a whole text run.

Sets: 10 tasks of 1,000 questions each, real-text sentences of 8 to 40 words (the standard
library's documentation and the installed packages' descriptions, benchmarks/real_text.py)
with their words reversed, so that the documents cut from the same text do not already hold
them; long and short questions both occur (a question under 13 words is matched whole, at its
own length). Documents: `N_DOCS` real-text documents of 1 to 5 KB (the classifier row's),
one in fifty with a question pasted in.

Ours: the stage as a worker runs it, on Arrow batches of 512 records: the first pass
(`matched_hashes`, the n-grams each document holds, for the common-text count) and the
second (`DecontaminateProcessor`: find, cut to sentence ends, rebuild the parts of the
documents touched). Baseline, as a Python user would write it: the same normalisation
(lower-case, punctuation removed, whitespace split), each n-gram of each length the index
holds joined and hashed with xxh3 (`xxh3_64_intdigest`), looked up in a Python set of the
same hashes; one pass, no cutting (credited with less work than ours does).

Whole run: `earlyfuse run` on the documents as JSONL (language ID, quality rules, exact and
near dedup, tokenize, shards) with and without the sets, interleaved, fresh output each;
the stage's share is (with - without) / with.
"""

from __future__ import annotations

import json
import random
import shutil
import tempfile
import time
from pathlib import Path

import xxhash

from benchmarks.timing import interleaved, rate, ratio_row, spread

N_DOCS = 3000
TASKS, QUESTIONS = 10, 1000


def questions(seed: int = 3) -> dict[str, list[str]]:
    from benchmarks.real_text import paragraphs

    rng = random.Random(seed)
    # Real sentences with their words in reverse order: real words and lengths, but text the
    # documents (cut from the same paragraphs) do not already hold.
    sentences = [" ".join(reversed(s.split())) for p in paragraphs() for s in p.replace("\n", " ").split(". ")
                 if 8 <= len(s.split()) <= 40]
    rng.shuffle(sentences)
    return {f"task{t}": sentences[t * QUESTIONS:(t + 1) * QUESTIONS] for t in range(TASKS)}


def documents(n: int, sets: dict[str, list[str]], seed: int = 4) -> list[list[str]]:
    from benchmarks.bench_classifier import documents as real

    rng = random.Random(seed)
    docs = real(n)
    flat = [q for qs in sets.values() for q in qs]
    for i in range(0, n, 50):
        docs[i] = docs[i] + [rng.choice(flat) + "."]
    return docs


def baseline(texts: list[str], lengths: list[int], index: set[int]) -> int:
    from filters.decontam import _punctuation

    punct = _punctuation()
    found = 0
    for text in texts:
        ws = [w for w in (t.translate(punct) for t in text.lower().split()) if w]
        for n in lengths:
            for i in range(len(ws) - n + 1):
                if xxhash.xxh3_64_intdigest(" ".join(ws[i:i + n])) in index:
                    found += 1
    return found


def run(n_docs: int = N_DOCS, rows: int = 512) -> dict:
    from filters.decontam import build_index, words
    from pipelines.config import DecontaminationConfig, EvalSetConfig
    from pipelines.schema import record, records_to_batch, text_part
    from pipelines.stages.decontaminate import DecontaminateProcessor, matched_hashes

    sets = questions()
    index = build_index(sets)
    docs = documents(n_docs, sets)
    batches = [records_to_batch([record(f"d{j}", "b", f"u{j}", [text_part(t) for t in parts])
                                 for j, parts in enumerate(docs[i:i + rows], i)]) for i in range(0, len(docs), rows)]
    texts = ["\n\n".join(parts) for parts in docs]
    # The baseline's own index: the same n-grams, as a user would key them (joined words).
    keyed = set()
    for qs in sets.values():
        for q in qs:
            ws, _, _ = words(q)
            if len(ws) >= 8:
                n = min(len(ws), 13)
                keyed.update(xxhash.xxh3_64_intdigest(" ".join(ws[i:i + n])) for i in range(len(ws) - n + 1))
    lengths = sorted(index.by_length)
    cfg = DecontaminationConfig(sets=[EvalSetConfig(name=t, paths=["-"]) for t in sets])
    proc = DecontaminateProcessor(cfg, index)
    out = {}

    def ours():
        hits = sum(matched_hashes(b, index).num_rows for b in batches)
        results = [proc(b) for b in batches]
        out["ours"] = (hits, sum(r is not None for res in results for r in res["reasons"]),
                       sum(bool(s) for res in results for s in res["signals"]))

    def base():
        out["base"] = baseline(texts, lengths, keyed)

    times = interleaved({"ours": ours, "base": base}, runs=3)
    touched = out["ours"][2]
    assert touched >= 0.9 * (n_docs // 50) and out["base"] > 0, (touched, out["base"])  # a few are < 8 words
    row = ratio_row(times["base"], times["ours"])
    share = whole_run_share(docs, sets)
    return {"name": "decontamination stage (both passes) vs a Python loop of hashed n-gram set look-ups, "
                    "10 tasks x 1,000 questions, real text",
            "ours": rate(len(docs), times["ours"], "docs/s"), "baseline": rate(len(docs), times["base"], "docs/s"),
            **row, "target": 1.0,
            "detail": f"{len(docs):,} documents, index of {index.size:,} n-grams over {len(lengths)} lengths; "
                      f"{touched} documents touched; 3 interleaved runs after a warm-up, one core each; {share}"}


def whole_run_share(docs: list[list[str]], sets: dict[str, list[str]], rounds: int = 3) -> str:
    from pipelines.config import parse_config
    from pipelines.run import run_pipeline

    tmp = Path(tempfile.mkdtemp(prefix="earlyfuse-bench-decontam-"))
    try:
        with open(tmp / "docs.jsonl", "w") as f:
            for i, parts in enumerate(docs):
                f.write(json.dumps({"id": f"d{i}", "url": f"https://x.org/{i}", "text": "\n\n".join(parts)}) + "\n")
        (tmp / "sets").mkdir()
        for name, qs in sets.items():
            (tmp / "sets" / f"{name}.jsonl").write_text("".join(json.dumps({"question": q}) + "\n" for q in qs))

        def one(with_sets: bool):
            out = tmp / ("with" if with_sets else "without")
            shutil.rmtree(out, ignore_errors=True)
            cfg = {"run": {"name": "dc", "output": str(out), "progress": False, "master": "local[2]"},
                   "inputs": [{"name": "docs", "format": "jsonl", "path": str(tmp / "docs.jsonl")}]}
            if with_sets:
                cfg["decontamination"] = {"sets": [{"name": n, "paths": [str(tmp / "sets" / f"{n}.jsonl")]}
                                                   for n in sets]}
            t0 = time.perf_counter()
            run_pipeline(parse_config(cfg))
            return time.perf_counter() - t0

        one(True)
        pairs = [(one(False), one(True)) for _ in range(rounds)]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    shares = spread([(w - wo) / w for wo, w in pairs])
    return (f"whole text run (JSONL, language ID, quality, dedup, shards, local[2]) "
            f"{spread([w for _, w in pairs])['median']:.1f} s with the sets, "
            f"{spread([wo for wo, _ in pairs])['median']:.1f} s without: the stage's share "
            f"{100 * shares['median']:.0f}% ({100 * shares['min']:.0f}-{100 * shares['max']:.0f}%)")
