"""Language identification with fastText models, normalised to FLORES-200-style codes."""

from __future__ import annotations

import re
from typing import Sequence

from filters.lang_codes import normalize_label
from filters.models import resolve_model

UND = "und_Zyyy"
_WS_RE = re.compile(r"\s+")
# Letters in any script; digits, punctuation and markup do not make a language.
_LETTER_RE = re.compile(r"[^\W\d_]", re.UNICODE)


class LanguageIdentifier:
    """`predict(texts)` -> [(code, score)], one fastText call per batch.

    Texts with fewer than `min_chars` letters get `und_Zyyy` and score 0: a guess on a few
    words would be confident and wrong.
    """

    def __init__(self, model: str = "lid176", max_chars: int = 2000, min_chars: int = 20):
        import fasttext  # heavy; imported where a model is really loaded

        self.path = resolve_model(model)
        self.model = fasttext.load_model(str(self.path))
        self.labels = list(self.model.get_labels())
        self.max_chars = max_chars
        self.min_chars = min_chars

    def _prepare(self, text: str) -> str:
        # fastText treats a newline as end of input; its own training collapsed whitespace.
        return _WS_RE.sub(" ", text[: self.max_chars]).strip()

    def predict(self, texts: Sequence[str], k: int = 1) -> list[tuple[str, float]]:
        return [top[0] for top in self.predict_topk(texts, k=k)]

    def predict_topk(self, texts: Sequence[str], k: int = 3) -> list[list[tuple[str, float]]]:
        prepared = [self._prepare(t or "") for t in texts]
        judged = [i for i, t in enumerate(prepared)
                  if len(_LETTER_RE.findall(t)) >= self.min_chars]
        out: list[list[tuple[str, float]]] = [[(UND, 0.0)] for _ in prepared]
        if not judged:
            return out
        labels, probs = self.model.predict([prepared[i] for i in judged], k=k)
        for i, labs, ps in zip(judged, labels, probs):
            text = prepared[i]
            out[i] = [(normalize_label(lab, text), float(min(p, 1.0))) for lab, p in zip(labs, ps)]
        return out
