"""Quality stage: Gopher quality signals and thresholds (filters.gopher_quality)."""

from __future__ import annotations

from filters.gopher_quality import GopherThresholds, decide, signals
from pipelines.config import QualityConfig
from pipelines.schema import caption_documents, document_texts
from pipelines.stage import BatchStage


class QualityProcessor:
    def __init__(self, thresholds: GopherThresholds):
        self.t = thresholds

    def __call__(self, batch):
        texts = document_texts(batch)
        langs = batch.column("lang").to_pylist()
        captioned = caption_documents(batch)
        sigs, reasons = [], []
        for text, lang, is_pair in zip(texts, langs, captioned):
            if is_pair:
                # Gopher's rules describe prose; a caption is judged with its image.
                sigs.append({"gopher.skipped": 1.0})
                reasons.append(None)
                continue
            s = signals(text, lang or "")
            reasons.append(decide(s, self.t))
            sigs.append({f"gopher.{k}": float(v) for k, v in s.items()})
        return {"signals": sigs, "reasons": reasons}


class Quality(BatchStage):
    name = "quality"
    reads = ("parts", "lang")
    writes = ("signals", "status")

    def __init__(self, cfg: QualityConfig):
        self.cfg = cfg

    def make_processor(self):
        return QualityProcessor(self.cfg)
