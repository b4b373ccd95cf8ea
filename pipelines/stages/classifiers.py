"""Model-based quality classifiers: fastText models scoring documents (Llama 3, DCLM;
docs/stages/quality.md, "Classifiers").

Every `[[classifiers]]` entry is scored in one per-record pass, fused with the quality rules
(one model load per Python worker each), and stored as the signal `classifier.<name>`
(clamped to [0, 1]). `threshold` classifiers reject there (`classifier:<name>`, the first
failing one in config order); `top_fraction` ones are decided over all documents after the
pass (`ClassifierTop`), by the signals, over the documents every threshold classifier kept.
Image-text pairs are not scored (their caption is judged with its picture), nor documents
outside a classifier's `languages`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from pipelines.config import ClassifierConfig
from pipelines.frames import LocalFrame
from pipelines.global_stage import Decision, GlobalStage
from pipelines.schema import caption_documents, document_texts
from pipelines.stage import BatchStage


def signal(cfg: ClassifierConfig) -> str:
    return f"classifier.{cfg.name}"


class ClassifierProcessor:
    def __init__(self, cfgs: list[ClassifierConfig]):
        self.cfgs = cfgs

    def __call__(self, batch):
        from filters.classifier import load_classifier  # fastText: loaded where a model is used

        texts = document_texts(batch)
        langs = batch.column("lang").to_pylist()
        pairs = caption_documents(batch)
        n = len(texts)
        signals: list[dict] = [{} for _ in range(n)]
        reasons: list[str | None] = [None] * n
        for cfg in self.cfgs:
            todo = [i for i in range(n) if reasons[i] is None and not pairs[i]
                    and (not cfg.languages or langs[i] in cfg.languages)]
            if not todo:
                continue
            model = load_classifier(cfg.model, cfg.label, cfg.max_chars, cfg.lowercase)
            scores = model.scores([texts[i] for i in todo])
            for i, s in zip(todo, scores):
                signals[i][signal(cfg)] = s
                if cfg.mode == "threshold" and s < cfg.threshold:
                    reasons[i] = cfg.name
        return {"signals": signals, "reasons": reasons}


class Classifiers(BatchStage):
    name = "classifier"
    reads = ("parts", "lang")
    writes = ("signals", "status")

    def __init__(self, cfgs: list[ClassifierConfig]):
        self.cfgs = list(cfgs)

    def make_processor(self, ctx):
        return ClassifierProcessor(self.cfgs)


def top_rows(ids: list[str], scores: np.ndarray, fraction: float) -> np.ndarray:
    """Indices of the best `round(fraction * n)` rows: highest score first, ties by lowest id
    (exact, deterministic)."""
    k = int(round(fraction * len(ids)))
    order = sorted(range(len(ids)), key=lambda i: (-scores[i], ids[i]))
    return np.array(order[:k], dtype=np.int64)


class ClassifierTop(GlobalStage):
    """The `top_fraction` classifiers' decision, from the scores the per-record pass stored.
    On the driver (at most `driver_max_rows` scores) it is exact: the best round(f x n)
    documents by score, ties by id. Beyond, Spark's `approxQuantile` gives the cutoff score
    (rank error at most `relative_error` x n) and every document at or above it is kept."""

    name = "classifier"   # its rejections are the classifier stage's: `classifier:<name>`
    family = "curation"
    kind = "classifier_top"
    reads = ("signals",)
    writes = ("status",)
    barrier = True
    key_schema = pa.schema([("id", pa.string()), ("clf", pa.int32()), ("score", pa.float64())])
    relative_error = 1e-4

    def __init__(self, cfgs: list[ClassifierConfig], driver_max_rows: int = 1_000_000):
        self.cfgs = [c for c in cfgs if c.mode == "top_fraction"]
        self.driver_max_rows = driver_max_rows

    def keys(self, batch):
        rows = []
        for doc_id, sig in zip(batch.column("id").to_pylist(), batch.column("signals").to_pylist()):
            sig = dict(sig or ())
            rows += [(doc_id, j, sig[signal(c)]) for j, c in enumerate(self.cfgs) if signal(c) in sig]
        return pa.RecordBatch.from_arrays([pa.array([r[k] for r in rows], t.type)
                                           for k, t in enumerate(self.key_schema)], schema=self.key_schema)

    def decide(self, keys, scope):
        if isinstance(keys, LocalFrame):
            return self._exact(keys.to_arrow())
        return self._approx(keys, scope)

    def _exact(self, table: pa.Table) -> Decision:
        ids = np.array(table.column("id").to_pylist(), dtype=object)
        clf = table.column("clf").to_numpy()
        score = table.column("score").to_numpy()
        gone: set[str] = set()
        rejects, stats = [], {}
        for j, cfg in enumerate(self.cfgs):
            mine = np.array([c == j and i not in gone for c, i in zip(clf, ids)], dtype=bool)
            pool, s = list(ids[mine]), score[mine]
            kept = {pool[i] for i in top_rows(pool, s, cfg.fraction)}
            out = sorted(set(pool) - kept)
            gone.update(out)
            rejects.append((LocalFrame(pa.table({"id": pa.array(out, pa.string())})), cfg.name))
            lowest = min((s[i] for i, d in enumerate(pool) if d in kept), default=None)
            stats[cfg.name] = {"scored": len(pool), "kept": len(kept), "cutoff": None if lowest is None
                               else round(float(lowest), 6), "exact": True}
        return Decision(rejects=rejects, stats=stats)

    def _approx(self, keys, scope) -> Decision:
        from pyspark.sql import functions as F

        from pipelines.frames import SparkFrame

        df = keys.df
        gone = None
        rejects, stats = [], {}
        for j, cfg in enumerate(self.cfgs):
            pool = df.filter(F.col("clf") == j)
            if gone is not None:
                pool = pool.join(gone, "id", "left_anti")
            pool = scope.materialize(SparkFrame(pool), f"classifier_{cfg.name}").df
            n = pool.count()
            cut = pool.approxQuantile("score", [1.0 - cfg.fraction], self.relative_error)
            cutoff = cut[0] if cut else 0.0
            out = pool.filter(F.col("score") < cutoff).select("id")
            gone = out if gone is None else gone.unionByName(out)
            rejects.append((SparkFrame(out), cfg.name))
            stats[cfg.name] = {"scored": n, "cutoff": round(cutoff, 6), "exact": False,
                               "relative_error": self.relative_error}
        return Decision(rejects=rejects, stats=stats)
