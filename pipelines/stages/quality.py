"""Quality stage: Gopher quality and repetition, C4 and FineWeb rules (filters.quality_rules).

All signals are measured in one pass per document and kept in `signals`; the first failing
rule names the rejection, e.g. `quality:gopher_quality:mean_word_length`.
"""

from __future__ import annotations

from filters.quality import Thresholds, decide, signals
from pipelines.config import QualityConfig
from pipelines.schema import caption_documents, document_texts
from pipelines.stage import BatchStage


class QualityProcessor:
    def __init__(self, thresholds: Thresholds):
        self.t = thresholds

    def __call__(self, batch):
        texts = document_texts(batch)
        langs = batch.column("lang").to_pylist()
        captioned = caption_documents(batch)
        sigs, reasons = [], []
        for text, lang, is_pair in zip(texts, langs, captioned):
            if is_pair:
                # Gopher's rules describe prose; a caption is judged with its image.
                sigs.append({"quality.skipped": 1.0})
                reasons.append(None)
                continue
            s = signals(text, lang or "und_Zyyy", self.t)
            reasons.append(decide(s, self.t, lang or "und_Zyyy"))
            # NaN marks a rule that does not apply (no stop-word list, unspaced script).
            sigs.append({k: float(v) for k, v in s.items() if v == v})
        return {"signals": sigs, "reasons": reasons}


class Quality(BatchStage):
    name = "quality"
    reads = ("parts", "lang")
    writes = ("signals", "status")

    def __init__(self, cfg: QualityConfig):
        self.cfg = cfg

    def make_processor(self, ctx):
        return QualityProcessor(self.cfg)
