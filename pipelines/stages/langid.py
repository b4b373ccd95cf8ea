"""Language ID stage: fastText over each document's text, FLORES-200-style codes.

Captions and subtitles are part of a document's text and are judged with it; alt texts are
identified separately and their codes written into their image parts' meta.
"""

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


def decide(code: str, score: float, is_pair: bool, cfg: LangIdConfig) -> str | None:
    confident = not code.startswith("und") and score >= cfg.min_score_per_lang.get(code, cfg.min_score)
    if is_pair and not confident:
        # Captions are short and often undeterminable; a picture is not rejected for a
        # caption the model cannot place. Its language is still recorded.
        return None
    if code.startswith("und"):
        return "undetermined" if cfg.reject_und else None
    if cfg.keep and code not in cfg.keep:
        return "language_not_kept"
    if code in cfg.drop:
        return "language_dropped"
    if not confident:
        return "low_score"
    return None


def keep_majority(parts: list[dict], majority: str, lid) -> tuple[list[dict], int]:
    """Text parts trimmed to their paragraphs in the document's main language."""
    from filters.langid import _PARAGRAPH_RE, UND

    dropped = 0
    out = []
    for p in parts:
        if p["kind"] != "text" or not p["text"]:
            out.append(p)
            continue
        paras = [x for x in _PARAGRAPH_RE.split(p["text"]) if x.strip()]
        codes = [c for c, _ in lid.predict(paras)]
        kept = [x for x, c in zip(paras, codes) if c in (majority, UND)]
        dropped += len(paras) - len(kept)
        out.append(dict(p, text="\n".join(kept) if len(kept) < len(paras) else p["text"]))
    return out, dropped


class LangIdProcessor:
    def __init__(self, cfg: LangIdConfig):
        self.cfg = cfg

    def __call__(self, batch):
        cfg = self.cfg
        lid = identifier(cfg.model, cfg.max_chars, cfg.min_chars)
        texts = document_texts(batch)
        tops = lid.predict_topk(texts, k=cfg.top_k)
        captioned = caption_documents(batch)
        signals = [{"langid.score": top[0][1]} for top in tops]
        if cfg.top_k > 1:
            for sig, top in zip(signals, tops):
                sig.update({f"langid.top.{c}": s for c, s in top})
        reasons = [decide(top[0][0], top[0][1], is_pair, cfg) for top, is_pair in zip(tops, captioned)]
        result = {"lang": [t[0][0] for t in tops], "lang_score": [t[0][1] for t in tops]}
        parts_out = None
        if cfg.paragraph_mode != "off":
            shares = lid.paragraph_shares(texts)
            for i, (share, is_pair) in enumerate(zip(shares, captioned)):
                signals[i].update({f"langid.share.{c}": v for c, v in share.items()})
                main, main_share = next(iter(share.items()))
                if is_pair or reasons[i] is not None or main_share >= cfg.min_majority_share:
                    continue
                if cfg.paragraph_mode == "reject":
                    reasons[i] = "mixed_language"
                elif cfg.paragraph_mode == "majority":
                    if parts_out is None:
                        parts_out = batch.column("parts").to_pylist()
                    parts_out[i], n = keep_majority(parts_out[i], main, lid)
                    signals[i]["langid.dropped_paragraphs"] = float(n)
        if cfg.alt_text:
            parts_out = self._alt_text(batch, parts_out, lid)
        if parts_out is not None:
            result["parts"] = parts_out
        result.update(signals=signals, reasons=reasons)
        return result

    @staticmethod
    def _alt_text(batch, parts_out, lid):
        """Alt texts through the same identifier, one call for the batch."""
        import pyarrow.compute as pc

        flat = batch.column("parts").flatten()
        alts = pc.map_lookup(flat.field("meta"), "alt", "first")
        if alts.null_count == len(alts):
            return parts_out
        if parts_out is None:
            parts_out = batch.column("parts").to_pylist()
        where, texts = [], []
        for i, parts in enumerate(parts_out):
            for j, p in enumerate(parts):
                alt = dict(p["meta"] or []).get("alt") if p["kind"] == "image" else None
                if alt:
                    where.append((i, j))
                    texts.append(alt)
        for (i, j), (code, score) in zip(where, lid.predict(texts)):
            p = parts_out[i][j]
            meta = [(k, v) for k, v in (p["meta"] or []) if k not in ("alt_lang", "alt_lang_score")]
            parts_out[i][j] = dict(p, meta=meta + [("alt_lang", code), ("alt_lang_score", f"{score:.3f}")])
        return parts_out


class LanguageId(BatchStage):
    name = "langid"
    reads = ("parts",)
    writes = ("lang", "lang_score", "signals", "status", "parts")

    def __init__(self, cfg: LangIdConfig):
        self.cfg = cfg

    def make_processor(self, ctx):
        return LangIdProcessor(self.cfg)
