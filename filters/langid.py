"""Language identification with fastText models, normalised to FLORES-200-style codes.

Models: the embedded `lid176` preset, or any fastText LID file (NLLB's lid218e, OpenLID,
GlotLID, a model of your own). The label format, `__label__en` or `__label__eng_Latn`, is
read off the model's labels; every prediction comes out as `xxx_Scrp`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

from filters.lang_codes import normalize_label
from filters.models import resolve_model

UND = "und_Zyyy"
_FLORES_LABEL = re.compile(r"^__label__[a-z]{2,3}_[A-Z][a-z]{3}$")
_PARAGRAPH_RE = re.compile(r"\n\s*\n|\n")


def _letters_re(n: int) -> re.Pattern:
    # n letters anywhere, as one search: no list of every letter is built.
    return re.compile(r"(?:[^\W\d_][\W\d_]*){" + str(n) + "}")


def label_format(labels: Sequence[str]) -> str:
    """`flores` when (nearly) every label is `xxx_Scrp`, else `iso` (lid.176's `en`, `zh`)."""
    flores = sum(1 for lab in labels if _FLORES_LABEL.match(lab))
    return "flores" if labels and flores >= 0.9 * len(labels) else "iso"


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
        self.label_format = label_format(self.labels)
        self.codes = sorted({normalize_label(lab) for lab in self.labels})
        self.max_chars = max_chars
        self.min_chars = min_chars
        self._enough = _letters_re(min_chars)

    def _prepare(self, text: str) -> str:
        # A newline is the one character fastText's predict refuses (it ends a line); other
        # whitespace runs are already skipped by its tokenizer, so nothing else is touched.
        return text[: self.max_chars].replace("\n", " ")

    def predict(self, texts: Sequence[str], k: int = 1) -> list[tuple[str, float]]:
        return [top[0] for top in self.predict_topk(texts, k=k)]

    def predict_topk(self, texts: Sequence[str], k: int = 3) -> list[list[tuple[str, float]]]:
        prepared = [self._prepare(t or "") for t in texts]
        judged = [i for i, t in enumerate(prepared) if self._enough.search(t)]
        out: list[list[tuple[str, float]]] = [[(UND, 0.0)] for _ in prepared]
        if not judged:
            return out
        labels, probs = self.model.predict([prepared[i] for i in judged], k=k)
        for i, labs, ps in zip(judged, labels, probs):
            text = prepared[i]
            out[i] = [(normalize_label(lab, text), float(min(p, 1.0))) for lab, p in zip(labs, ps)]
        return out

    def paragraph_shares(self, texts: Sequence[str]) -> list[dict[str, float]]:
        """Per text, the share of its letters in each language, judged paragraph by paragraph.

        Paragraphs too short to judge count for nothing; a text with none judged is `und`.
        All paragraphs of all texts go to fastText in one call.
        """
        paras, owner = [], []
        for i, text in enumerate(texts):
            for p in _PARAGRAPH_RE.split(text or ""):
                if p.strip():
                    paras.append(p)
                    owner.append(i)
        weights: list[dict[str, float]] = [defaultdict(float) for _ in texts]
        for i, p, (code, _) in zip(owner, paras, self.predict(paras)):
            if code != UND:
                weights[i][code] += len(p)
        out = []
        for w in weights:
            total = sum(w.values())
            out.append({c: round(n / total, 4) for c, n in sorted(w.items(), key=lambda kv: -kv[1])}
                       if total else {UND: 1.0})
        return out
