"""Quality rules: ours (`filters.quality.measure`, the quality stage's call) against
datatrove's four filters chained, on real text and on generated pages, cold and warm.

Baseline, as datatrove's users run it: GopherQualityFilter -> GopherRepetitionFilter ->
C4QualityFilter -> FineWebQualityFilter at their defaults, one Document through the filters
in order, stopping at the first that drops it (C4 rewrites `doc.text` for the filters after
it). Ours measures the groups in the same order and also stops at the first failing group.

Each side runs in its own fresh process, three processes per side, interleaved, on the same
documents: it imports and warms up on one unrelated sentence, then times a first pass over
the corpus (cold: our per-chunk tokenizer cache and spaCy's are empty) and a second pass
(warm: both caches hold the corpus). Times are CPU seconds of the process
(`time.process_time`). The row's ratio is the median cold ratio on real text
(benchmarks/real_text.py: the standard library's documentation and the installed packages'
descriptions, an open vocabulary); the generated pages (benchmarks/quality_corpus.py, a
few hundred templates) and the warm passes are in its detail. Both sides keep and drop the
same documents (checked here on both corpora).

    python -m benchmarks.bench_quality
"""

from __future__ import annotations

import functools
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks.timing import rate, ratio_row

TARGET = 10.0
N_DOCS = 3000
RUNS = 3
ROOT = Path(__file__).resolve().parent.parent


def _docs(corpus: str) -> list[str]:
    if corpus == "real":
        from benchmarks.real_text import documents

        return documents(N_DOCS)
    from benchmarks.quality_corpus import make_corpus

    return make_corpus(N_DOCS, seed=1)


def _datatrove_chain():
    from datatrove.data import Document
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )

    filters = [GopherQualityFilter(), GopherRepetitionFilter(), C4QualityFilter(), FineWebQualityFilter()]

    def run_one(text: str) -> bool:
        doc = Document(text=text, id="0")
        return all(f.filter(doc) is True for f in filters)

    return run_one


def _ours():
    from filters.quality import measure

    def run_one(text: str) -> bool:
        return measure(text)[0] is None

    return run_one


def _child() -> None:
    """One side, one corpus, in this fresh process: cold pass, warm pass, decisions."""
    import time

    side, corpus = sys.argv[1], sys.argv[2]
    docs = _docs(corpus)
    fn = _ours() if side == "ours" else _datatrove_chain()
    fn("A short unrelated sentence loads the models and the code paths, nothing of the corpus.")
    times, kept = [], []
    for _ in range(2):
        t = time.process_time()
        kept = [fn(d) for d in docs]
        times.append(time.process_time() - t)
    print(json.dumps({"cold": times[0], "warm": times[1], "kept": "".join("1" if k else "0" for k in kept)}))


def _run(side: str, corpus: str) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, "-c", "from benchmarks.bench_quality import _child; _child()",
                           side, corpus], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.1f}x ({min(values):.1f}-{max(values):.1f})"


@functools.lru_cache(maxsize=1)
def measure(runs: int = RUNS) -> dict:
    out = {}
    for corpus in ("real", "generated"):
        ours, base = [], []
        for _ in range(runs):  # interleaved, so machine load falls on both sides alike
            ours.append(_run("ours", corpus))
            base.append(_run("datatrove", corpus))
        docs = _docs(corpus)
        agree = sum(a == b for a, b in zip(ours[0]["kept"], base[0]["kept"])) / len(docs)
        out[corpus] = {
            "n": len(docs), "words": sum(len(d.split()) for d in docs) / len(docs),
            "agree": agree, "kept": ours[0]["kept"].count("1") / len(docs),
            **{f"{phase}_{side}": [r[phase] for r in rows] for phase in ("cold", "warm")
               for side, rows in (("ours", ours), ("base", base))},
        }
        for phase in ("cold", "warm"):
            out[corpus][f"{phase}_ratio"] = [b / o for o, b in zip(out[corpus][f"{phase}_ours"],
                                                                  out[corpus][f"{phase}_base"])]
    return out


def run() -> dict:
    m = measure()
    real, gen = m["real"], m["generated"]
    return {
        "name": "quality rules (Gopher quality+repetition, C4, FineWeb) vs datatrove chained, cold, real text",
        "ours": rate(real["n"], real["cold_ours"], "docs/s"), "baseline": rate(real["n"], real["cold_base"], "docs/s"),
        **ratio_row(real["cold_base"], real["cold_ours"]), "target": TARGET,
        "detail": (f"one core each, fresh processes, {RUNS} per side interleaved, median (min-max) of the "
                   f"ratios; real text ({real['n']} documents of the standard library's and the installed "
                   f"packages' documentation, mean {real['words']:.0f} words, kept {real['kept']:.1%}): "
                   f"cold {_spread(real['cold_ratio'])}, warm {_spread(real['warm_ratio'])}; generated "
                   f"pages ({gen['n']}, mean {gen['words']:.0f} words, kept {gen['kept']:.1%}): cold "
                   f"{_spread(gen['cold_ratio'])}, warm {_spread(gen['warm_ratio'])}; keep/drop agreement "
                   f"with datatrove {real['agree']:.4f} (real), {gen['agree']:.4f} (generated); both sides "
                   f"stop at the first failing filter"),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
