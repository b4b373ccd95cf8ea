"""Language-ID stage (Arrow batch in, codes and decisions out) vs raw fastText `predict`.

The baseline is what anyone would write: a tight loop calling `model.predict` on each text
(its first `max_chars` characters, newlines replaced, which fastText requires). Ours is the stage's batch function as a
Spark worker runs it: texts pulled from the Arrow batch, one fastText call per batch, codes
normalised to FLORES-200 style, undeterminable texts caught, decisions and signals made.
"""

from __future__ import annotations

import time

from benchmarks.bench_tokenize import _batches
from benchmarks.corpus import corpus

TARGET = 0.85


def run(n_docs: int = 8000, repeats: int = 3) -> dict:
    from pipelines.config import LangIdConfig
    from pipelines.stages.langid import LangIdProcessor, identifier

    texts = corpus(n_docs)
    batches = _batches(texts, 512)
    cfg = LangIdConfig()
    proc = LangIdProcessor(cfg)
    model = identifier(cfg.model, cfg.max_chars, cfg.min_chars).model
    proc(batches[0])  # model loaded, regexes compiled
    limit = cfg.max_chars  # both sides classify the same prefix: the ratio is our overhead

    def ours():
        return sum(len(proc(b)["lang"]) for b in batches)

    def raw():
        return sum(len(model.predict(t[:limit].replace("\n", " "))[0]) for t in texts)

    best_ours = best_raw = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        n = ours()
        best_ours = min(best_ours, time.perf_counter() - t)
        t = time.perf_counter()
        raw()
        best_raw = min(best_raw, time.perf_counter() - t)
    assert n == len(texts)
    return {"name": "language-ID stage vs raw fastText predict loop",
            "ours": f"{n_docs / best_ours:,.0f} docs/s", "baseline": f"{n_docs / best_raw:,.0f} docs/s",
            "ratio": best_raw / best_ours, "target": TARGET,
            "detail": f"{n_docs} sample docs in 11 languages, lid.176, first {cfg.max_chars} chars "
                      "of each on both sides"}
