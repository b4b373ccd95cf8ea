"""Tokenize stage (Arrow batch in, Arrow token lists out) vs raw tiktoken on the same texts."""

from __future__ import annotations

import time

import pyarrow as pa

from benchmarks.corpus import corpus
from pipelines.schema import record, records_to_batch, text_part

TARGET = 0.8


def _batches(texts: list[str], rows: int) -> list[pa.RecordBatch]:
    out = []
    for i in range(0, len(texts), rows):
        recs = [record(f"id{j}", "bench", f"u{j}", [text_part(t)]) for j, t in enumerate(texts[i:i + rows], i)]
        for r in recs:
            r["lang"] = "eng_Latn"
        out.append(records_to_batch(recs))
    return out


def run(n_docs: int = 4000, repeats: int = 3) -> dict:
    from pipelines.stages.tokenize import tokenize_batch, tokenizer

    texts = corpus(n_docs)
    batches = _batches(texts, 512)
    spec = "tiktoken:cl100k_base"
    enc = tokenizer(spec).encoding
    batch_texts = [texts[i:i + 512] for i in range(0, len(texts), 512)]
    tokenize_batch(batches[0], spec, "\n\n")  # warm: tokenizer built, regex compiled
    enc.encode_ordinary_batch(batch_texts[0], num_threads=1)

    def ours():
        return sum(tokenize_batch(b, spec, "\n\n").column("n_tokens").to_numpy().sum() for b in batches)

    def raw():
        return sum(sum(len(x) + 2 for x in enc.encode_ordinary_batch(t, num_threads=1)) for t in batch_texts)

    best_ours = best_raw = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        n_ours = ours()
        best_ours = min(best_ours, time.perf_counter() - t)
        t = time.perf_counter()
        n_raw = raw()
        best_raw = min(best_raw, time.perf_counter() - t)
    assert n_ours == n_raw, (n_ours, n_raw)
    mb = sum(len(t.encode()) for t in texts) / 1e6
    return {"name": "tokenize stage vs tiktoken encode_ordinary_batch",
            "ours": f"{mb / best_ours:.1f} MB/s", "baseline": f"{mb / best_raw:.1f} MB/s",
            "ratio": best_raw / best_ours, "target": TARGET,
            "detail": f"{n_docs} docs, {mb:.1f} MB, {n_ours:,} tokens, 1 thread each"}
