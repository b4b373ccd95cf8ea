"""Language-ID stage (Arrow batch in, codes and decisions out) vs raw fastText `predict`.

The baseline is fastText as its users call it, on each text's first `max_chars` characters
with newlines replaced (which fastText requires): a loop of `model.predict(text)`, and one
`model.predict(list_of_texts)` per 512 texts (fastText's batch call); the row takes the
faster on the median. Ours is the stage's batch function as a Spark worker runs it: texts
pulled from the Arrow batch, one fastText call per batch, codes normalised to FLORES-200
style, undeterminable texts caught, decisions and signals made. Warm-up alike, runs
interleaved (`timing.RUNS`), median (min-max) of the per-round ratios.

    python -m benchmarks.bench_langid
"""

from __future__ import annotations

import json
import statistics

from benchmarks.bench_tokenize import _batches
from benchmarks.corpus import corpus
from benchmarks.timing import interleaved, rate, ratio_row, ratio_text

TARGET = 0.85


def run(n_docs: int = 8000) -> dict:
    from pipelines.config import LangIdConfig
    from pipelines.stages.langid import LangIdProcessor, identifier

    texts = corpus(n_docs)
    batches = _batches(texts)
    cfg = LangIdConfig()
    proc = LangIdProcessor(cfg)
    model = identifier(cfg.model, cfg.max_chars, cfg.min_chars).model
    limit = cfg.max_chars  # both sides classify the same prefix: the ratio is our overhead
    prepared = [t[:limit].replace("\n", " ") for t in texts]
    counts = {}

    def ours():
        counts["ours"] = sum(len(proc(b)["lang"]) for b in batches)

    def loop():
        counts["loop"] = sum(len(model.predict(t[:limit].replace("\n", " "))[0]) > 0 for t in texts)

    def batch():
        counts["batch"] = sum(len(model.predict(prepared[i:i + 512])[0]) for i in range(0, len(texts), 512))

    times = interleaved({"ours": ours, "loop": loop, "batch": batch})
    assert counts["ours"] == counts["loop"] == counts["batch"] == n_docs, counts
    base = min(("loop", "batch"), key=lambda k: statistics.median(times[k]))
    row = ratio_row(times[base], times["ours"])
    return {"name": "language-ID stage vs fastText predict (faster of loop and list call)",
            "ours": rate(n_docs, times["ours"], "docs/s"), "baseline": rate(n_docs, times[base], "docs/s"),
            **row, "target": TARGET,
            "detail": f"{n_docs} sample docs in 11 languages, lid.176, first {cfg.max_chars} chars of each on both "
                      f"sides; {row['runs']} interleaved runs after a warm-up, median (min-max): ratio "
                      f"{ratio_text(row)}; baseline = {base} (loop {rate(n_docs, times['loop'], 'docs/s')}, list call "
                      f"{rate(n_docs, times['batch'], 'docs/s')}); the list call's texts are prepared outside the "
                      f"timing"}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
