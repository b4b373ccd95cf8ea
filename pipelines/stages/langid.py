"""Language ID stage: fastText over each document's text, FLORES-200-style codes."""

from __future__ import annotations

from pipelines.config import LangIdConfig
from pipelines.schema import caption_documents, document_texts
from pipelines.stage import BatchStage

_IDENTIFIERS: dict[tuple, object] = {}


def identifier(model: str, max_chars: int, min_chars: int):
    """One model per Python worker process, loaded on first use."""
    key = (model, max_chars, min_chars)
    if key not in _IDENTIFIERS:
        from filters.langid import LanguageIdentifier

        _IDENTIFIERS[key] = LanguageIdentifier(model, max_chars=max_chars, min_chars=min_chars)
    return _IDENTIFIERS[key]


class LangIdProcessor:
    def __init__(self, cfg: LangIdConfig):
        self.cfg = cfg

    def __call__(self, batch):
        cfg = self.cfg
        lid = identifier(cfg.model, cfg.max_chars, cfg.min_chars)
        preds = lid.predict(document_texts(batch))
        # A picture with a missing or one-word caption is still a picture.
        captioned = caption_documents(batch)
        keep, drop = set(cfg.keep), set(cfg.drop)
        reasons = []
        for (code, score), is_pair in zip(preds, captioned):
            confident = not code.startswith("und") and score >= cfg.min_score_per_lang.get(code, cfg.min_score)
            if is_pair and not confident:
                # Captions are short and often undeterminable; a picture is not rejected for
                # a caption the model cannot place. Its language is still recorded.
                reasons.append(None)
            elif code.startswith("und"):
                reasons.append("undetermined" if cfg.reject_und else None)
            elif keep and code not in keep:
                reasons.append("language_not_kept")
            elif code in drop:
                reasons.append("language_dropped")
            elif not confident:
                reasons.append("low_score")
            else:
                reasons.append(None)
        return {"lang": [c for c, _ in preds], "lang_score": [s for _, s in preds],
                "reasons": reasons}


class LanguageId(BatchStage):
    name = "langid"
    reads = ("parts",)
    writes = ("lang", "lang_score", "status")

    def __init__(self, cfg: LangIdConfig):
        self.cfg = cfg

    def make_processor(self):
        return LangIdProcessor(self.cfg)
