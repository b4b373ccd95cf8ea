"""Tokenize stage (Arrow batch of records in, Arrow token streams out) vs tiktoken alone on
the same texts, one thread each.

Baseline, as tiktoken's users call it for one thread: a loop of `encode_ordinary`, and
`encode_ordinary_batch(texts, num_threads=1)` (a thread pool even at one thread); the row
takes whichever is faster on the run's median. Both sides warm up alike, run interleaved,
`timing.RUNS` times; the ratio is the median of the per-round ratios with its range.
The stage does more than the baseline (Arrow in and out, BOS/EOS, the separator between
text runs) and is credited only with the tokens tiktoken would produce.

Corpora: real text with an open vocabulary (benchmarks/real_text.py), the row's ratio; and
the texts extracted from the generated sample (several languages), in the detail.

    python -m benchmarks.bench_tokenize
"""

from __future__ import annotations

import json
import statistics

import pyarrow as pa

from benchmarks.timing import interleaved, rate, ratio_row, ratio_text
from pipelines.schema import record, records_to_batch, text_part

TARGET = 0.8
SPEC = "tiktoken:cl100k_base"
ROWS = 512


def _batches(texts: list[str]) -> list[pa.RecordBatch]:
    out = []
    for i in range(0, len(texts), ROWS):
        recs = [record(f"id{j}", "bench", f"u{j}", [text_part(t)]) for j, t in enumerate(texts[i:i + ROWS], i)]
        for r in recs:
            r["lang"] = "eng_Latn"
        out.append(records_to_batch(recs))
    return out


def _compare(texts: list[str]) -> dict:
    from pipelines.stages.tokenize import tokenize_batch, tokenizer

    batches = _batches(texts)
    enc = tokenizer(SPEC).encoding
    chunks = [texts[i:i + ROWS] for i in range(0, len(texts), ROWS)]
    counts = {}

    def ours():
        # Each stream holds BOS and EOS around the text's tokens.
        counts["ours"] = sum(int(tokenize_batch(b, SPEC, "\n\n").column("n_tokens").to_numpy().sum()) - 2 * b.num_rows
                             for b in batches)

    def loop():
        encode = enc.encode_ordinary
        counts["loop"] = sum(len(encode(t)) for t in texts)

    def batch():
        counts["batch"] = sum(len(x) for c in chunks for x in enc.encode_ordinary_batch(c, num_threads=1))

    times = interleaved({"ours": ours, "loop": loop, "batch": batch})
    assert counts["ours"] == counts["loop"] == counts["batch"], counts
    base = min(("loop", "batch"), key=lambda k: statistics.median(times[k]))
    mb = sum(len(t.encode()) for t in texts) / 1e6
    return {"times": times, "base": base, "mb": mb, "tokens": counts["ours"], "n": len(texts),
            **ratio_row(times[base], times["ours"])}


def run() -> dict:
    from benchmarks.corpus import corpus
    from benchmarks.real_text import documents

    real = _compare(documents(3000))
    sample = _compare(corpus(4000))
    t = real["times"]
    return {
        "name": "tokenize stage vs tiktoken (faster of encode_ordinary loop and batch call), real text",
        "ours": rate(real["mb"], t["ours"], "MB/s", ".1f"),
        "baseline": rate(real["mb"], t[real["base"]], "MB/s", ".1f"),
        **{k: real[k] for k in ("ratio", "ratio_min", "ratio_max", "runs")}, "target": TARGET,
        "detail": (f"1 thread each, {real['runs']} interleaved runs after a warm-up, median (min-max); real text "
                   f"({real['n']} documents, {real['mb']:.1f} MB, {real['tokens']:,} tokens): baseline = "
                   f"{real['base']} (loop {rate(real['mb'], t['loop'], 'MB/s', '.1f')}, batch "
                   f"{rate(real['mb'], t['batch'], 'MB/s', '.1f')}), ratio {ratio_text(real)}; generated sample "
                   f"texts ({sample['n']} docs, {sample['mb']:.1f} MB, several languages): baseline = "
                   f"{sample['base']}, ratio {ratio_text(sample)}"),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
