"""Quality stage: Gopher quality and repetition, C4 and FineWeb rules (filters.quality).

The groups are measured in one pass per document, in order, and their signals kept in
`signals`; the first failing rule names the rejection, e.g.
`quality:gopher_quality:mean_word_length`. Measuring stops at the first group that rejects,
as datatrove's chain stops (kept documents carry every signal either way); with
`quality.all_signals` rejected documents carry every group's signals too.
"""

from __future__ import annotations

from filters.quality import measure
from pipelines.config import QualityConfig
from pipelines.schema import caption_documents, document_texts
from pipelines.stage import BatchStage


class QualityProcessor:
    def __init__(self, cfg: QualityConfig):
        self.t = cfg
        self.all_signals = cfg.all_signals

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
            reason, s = measure(text, lang or "und_Zyyy", self.t, stop_at_reject=not self.all_signals)
            reasons.append(reason)
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
