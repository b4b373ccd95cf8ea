"""fastText quality classifiers (DCLM, Llama 3): the probability of one label is the score.

`model_labels` reads a model's labels without loading its matrices (a DCLM model is GBs), for
checking a config on the driver; `QualityClassifier` scores batches; `train` makes a model with
DCLM's recipe (bigrams, fastText's defaults otherwise). Both prepare text with `prepare_text`.
"""

from __future__ import annotations

import ctypes
import os
import platform
import random
import struct
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from filters.models import resolve_model

LABEL_PREFIX = "__label__"
MIN_EXAMPLES = 10  # per class: fewer cannot train anything or give a held-out figure worth reading

# The file layout of fastText's saveModel: magic, version, Args (12 int32 and the double `t`),
# then the dictionary header (size, nwords, nlabels as int32; ntokens, pruneidx_size as int64).
_HEAD = struct.Struct("<2i12id3i2q")
_MAGIC = 793712314
_VERSIONS = (11, 12)  # the two versions fastText has written; their layout is the same
_SUPERVISED = 3       # Args.model: cbow 1, skipgram 2, supervised 3
_CHUNK = 1 << 24
_KSUB = 256           # centroids per sub-quantizer of a quantized (.ftz) matrix
_M_PERTURB = -6       # glibc's mallopt parameter

# What str.splitlines splits on (DCLM joins a document's lines with spaces so). fastText's predict
# refuses "\n"; its tokenizer splits at \r \v \f but keeps \x1c-\x1e \x85 \u2028 \u2029 in words.
_LINE_ENDS = ("\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


class ModelFileError(ValueError):
    """The file is not a (complete) fastText classifier."""


def model_labels(path: str) -> list[str]:
    """The labels of a fastText `.bin`/`.ftz` classifier, in `get_labels()` order.

    Also checks that the file is as long as its matrices say: fastText itself loads a
    truncated model without complaint and predicts from zeros."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        try:
            n, pruned = _check_head(f.read(_HEAD.size))
            labels, end = _dictionary_labels(f, _HEAD.size, n)
            end = _matrices_end(f, end + 8 * max(pruned, 0))
        except ModelFileError as e:
            raise ModelFileError(f"{path}: {e}") from None
    if end > size:
        raise ModelFileError(f"{path}: truncated ({size:,} bytes of {end:,})")
    return labels


def _check_head(head: bytes) -> tuple[int, int]:
    if len(head) < 8 or struct.unpack_from("<i", head)[0] != _MAGIC:
        raise ModelFileError("not a fastText model (no fastText magic number)")
    if len(head) < _HEAD.size:
        raise ModelFileError("truncated in the header")
    v = _HEAD.unpack(head)
    version, model, n, nwords, nlabels, pruned = v[1], v[9], v[15], v[16], v[17], v[19]
    if version not in _VERSIONS:
        raise ModelFileError(f"fastText file format version {version}, not 11 or 12")
    if model != _SUPERVISED:
        raise ModelFileError("a fastText word-vector model, not a classifier")
    if nwords < 0 or nlabels < 1 or n != nwords + nlabels:
        raise ModelFileError(f"corrupt dictionary header ({n} entries, {nwords} words, {nlabels} labels)")
    return n, pruned


def _dictionary_labels(f, offset: int, n: int) -> tuple[list[str], int]:
    """Walk the `n` entries (word, NUL, int64 count, int8 type) in large chunks; return the
    labels and the file offset after the last entry. A count may hold NUL bytes, so each
    search starts at a word."""
    labels, buf, pos, step = [], b"", 0, 1 << 16  # reads grow to _CHUNK: small models read little
    for _ in range(n):
        end = buf.find(b"\0", pos)
        while end < 0 or end + 9 >= len(buf):
            chunk = f.read(step)
            if not chunk:
                raise ModelFileError("truncated in the dictionary")
            offset += pos
            buf, pos, step = buf[pos:] + chunk, 0, min(2 * step, _CHUNK)
            end = buf.find(b"\0")
        kind = buf[end + 9]
        if kind:
            if kind != 1:
                raise ModelFileError(f"corrupt dictionary entry (type {kind})")
            labels.append(buf[pos:end].decode("utf-8", "replace"))
        pos = end + 10
    return labels, offset + pos


def _matrices_end(f, pos: int) -> int:
    """Where the input and output matrices end (fastText's loadModel order)."""
    quant = _read(f, pos, "<?")[0]
    pos = _matrix_end(f, pos + 1, quant)
    qout = _read(f, pos, "<?")[0]
    return _matrix_end(f, pos + 1, quant and qout)


def _matrix_end(f, pos: int, quant: bool) -> int:
    if not quant:
        m, n = _read(f, pos, "<2q")
        return pos + 16 + 4 * m * n
    qnorm, m, n, codesize = _read(f, pos, "<?2qi")
    pos = _quantizer_end(f, pos + 21 + codesize)
    return _quantizer_end(f, pos + m) if qnorm else pos


def _quantizer_end(f, pos: int) -> int:
    dim = _read(f, pos, "<4i")[0]
    return pos + 16 + 4 * dim * _KSUB


def _read(f, pos: int, fmt: str) -> tuple:
    """Sizes at `pos`: a short read is a truncated file, a negative size a corrupt one."""
    f.seek(pos)
    data = f.read(struct.calcsize(fmt))
    if len(data) < struct.calcsize(fmt):
        raise ModelFileError("truncated in the matrices")
    values = struct.unpack(fmt, data)
    if min(values) < 0:
        raise ModelFileError(f"corrupt matrix header {values}")
    return values


def prepare_text(text: str, max_chars: int, lowercase: bool) -> str:
    """What fastText sees, at training and at scoring: the first `max_chars` characters, line
    ends as spaces, `__label__` as a space (NeMo Curator's rule: a word starting with it is a
    label to fastText, which at training would make it one of the line's labels), optionally
    lower-cased."""
    text = text[:max_chars]
    # Ten replace() calls: memchr scans, several times faster than str.translate or a regex.
    for ch in _LINE_ENDS:
        text = text.replace(ch, " ")
    text = text.replace(LABEL_PREFIX, " ")
    return text.lower() if lowercase else text


def full_label(label: str) -> str:
    """`hq` -> `__label__hq`; a label with the prefix is kept."""
    return label if label.startswith(LABEL_PREFIX) else LABEL_PREFIX + label


def _predict(model, texts: list[str], k: int):
    try:
        return model.predict(texts, k=k)
    except TypeError:
        # fastText's binding refuses a str it cannot encode as UTF-8 (a lone surrogate from
        # JSON); the same "?" replacement as the training file's writer.
        safe = [t.encode("utf-8", "replace").decode("utf-8") for t in texts]
        return model.predict(safe, k=k)


class QualityClassifier:
    """`scores(texts)` -> the probability of `label` per text, one fastText call per batch."""

    def __init__(self, path: str, label: str, max_chars: int = 100_000, lowercase: bool = False):
        import fasttext  # heavy; imported where a model is really loaded

        self.path = str(resolve_model(path))
        self.labels = model_labels(self.path)  # also refuses a truncated file fastText would load
        self.label = full_label(label)
        if self.label not in self.labels:
            raise ValueError(f"{self.path}: label {self.label!r} is not one of the model's labels: "
                             f"{', '.join(self.labels)}")
        self.model = fasttext.load_model(self.path)
        self.max_chars = max_chars
        self.lowercase = lowercase

    def scores(self, texts: list[str]) -> list[float]:
        if not texts:
            return []
        prepared = [prepare_text(t or "", self.max_chars, self.lowercase) for t in texts]
        # k = every label: the wanted one is always there (k=-1 is the same and no faster).
        labels, probs = _predict(self.model, prepared, len(self.labels))
        want = self.label
        # fastText adds 1e-5 inside its log-probabilities, so a sure text comes out at 1.00001.
        return [min(max(float(p[labs.index(want)]), 0.0), 1.0) if want in labs else 0.0
                for labs, p in zip(labels, probs)]


_LOADED: dict[tuple, QualityClassifier] = {}


def load_classifier(path: str, label: str, max_chars: int = 100_000, lowercase: bool = False) -> QualityClassifier:
    """One load per process (a Spark Python worker scores many batches with it)."""
    key = (str(path), label, max_chars, lowercase)
    if key not in _LOADED:
        _LOADED[key] = QualityClassifier(*key)
    return _LOADED[key]


def train(positives: list[str], negatives: list[str], *, output: str, positive_label: str = "hq",
          negative_label: str = "cc", lowercase: bool = False, max_chars: int = 100_000,
          valid_fraction: float = 0.1, seed: int = 0, epoch: int = 5, lr: float = 0.1, dim: int = 100,
          word_ngrams: int = 2, min_count: int = 1, threads: int = 1, bucket: int = 2_000_000) -> dict:
    """A fastText classifier of positives against negatives, DCLM's way, saved to `output`
    (quantized first when it ends in `.ftz`); returns held-out accuracy, precision and recall
    of the positive label, the counts and the model's path. Deterministic for `threads=1`."""
    params = {"lowercase": lowercase, "max_chars": max_chars, "valid_fraction": valid_fraction, "seed": seed,
              "epoch": epoch, "lr": lr, "dim": dim, "word_ngrams": word_ngrams, "min_count": min_count,
              "threads": threads, "bucket": bucket}
    started = time.monotonic()
    labels = _check_labels(positive_label, negative_label)
    if not 0.0 <= valid_fraction < 1.0 or max_chars < 1:
        raise ValueError(f"valid_fraction must be in [0, 1) and max_chars >= 1, got {valid_fraction}, {max_chars}")
    rng = random.Random(seed)
    classes = [_usable(texts, name, max_chars, lowercase, valid_fraction, rng)
               for texts, name in ((positives, "positive"), (negatives, "negative"))]
    rows = [(lab, t) for lab, (_, fit, _) in zip(labels, classes) for t in fit]
    rng.shuffle(rows)  # fastText learns in file order: the classes interleaved
    out = Path(output)
    model = _fit(rows, out, epoch=epoch, lr=lr, dim=dim, wordNgrams=word_ngrams, minCount=min_count,
                 thread=threads, seed=seed, bucket=bucket)
    (pos_empty, pos_fit, pos_valid), (neg_empty, neg_fit, neg_valid) = classes
    return {"model": str(out), "quantized": out.suffix == ".ftz", "bytes": out.stat().st_size,
            "labels": {"positive": labels[0], "negative": labels[1]},
            "examples": {"positive": len(pos_fit) + len(pos_valid), "negative": len(neg_fit) + len(neg_valid)},
            "skipped_empty": {"positive": pos_empty, "negative": neg_empty},
            "train": {"positive": len(pos_fit), "negative": len(neg_fit)},
            "valid": {"positive": len(pos_valid), "negative": len(neg_valid)},
            **_held_out(model, labels[0], pos_valid, neg_valid), "words": len(model.words), "params": params,
            "seconds": round(time.monotonic() - started, 2)}


def _fit(rows: list[tuple[str, str]], out: Path, **fasttext_args):
    import fasttext

    out.parent.mkdir(parents=True, exist_ok=True)
    # Next to the model, not in /tmp: a DCLM-sized training file is GBs.
    with tempfile.TemporaryDirectory(prefix=".earlyfuse-classifier-", dir=out.parent) as tmp:
        path = os.path.join(tmp, "train.txt")
        with open(path, "w", encoding="utf-8", errors="replace") as f:
            f.writelines(f"{lab} {text}\n" for lab, text in rows)
        with _zero_filled_malloc():
            model = fasttext.train_supervised(input=path, verbose=0, **fasttext_args)
            if out.suffix == ".ftz":
                model.quantize(qnorm=True, thread=fasttext_args["thread"])
    model.save_model(str(out))
    return model


@contextmanager
def _zero_filled_malloc():
    """fastText since 2024 (this NumPy 2 wheel) allocates its input matrix uninitialised and
    draws only the first thread/10 of it (0.9.2 left the rest zero): the rest held what freed
    blocks held, and a second training in one process failed with "Encountered NaN" or made
    another model. glibc's M_PERTURB 0xff zero-fills each malloc while fastText trains."""
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None) if platform.libc_ver()[0] == "glibc" else None
    if mallopt:
        mallopt(_M_PERTURB, 0xFF)
    try:
        yield
    finally:
        if mallopt:
            mallopt(_M_PERTURB, 0)


def _check_labels(positive: str, negative: str) -> tuple[str, str]:
    labels = full_label(positive), full_label(negative)
    if any(lab == LABEL_PREFIX or len(lab.split()) != 1 for lab in labels):
        raise ValueError(f"labels must be non-empty words without spaces, got {positive!r} and {negative!r}")
    if labels[0] == labels[1]:
        raise ValueError(f"the positive and negative labels are the same ({labels[0]})")
    return labels


def _usable(texts: list[str], name: str, max_chars: int, lowercase: bool, fraction: float,
            rng: random.Random) -> tuple[int, list[str], list[str]]:
    """One class: how many texts had no word, then the others shuffled and split into training
    and held-out (the last `fraction`, at least one): stratified."""
    kept = [p for p in (prepare_text(t or "", max_chars, lowercase) for t in texts) if p.strip()]
    if len(kept) < MIN_EXAMPLES:
        raise ValueError(f"{len(kept)} non-empty {name} texts ({len(texts) - len(kept)} empty skipped); "
                         f"a classifier needs at least {MIN_EXAMPLES} of each class")
    rng.shuffle(kept)
    n_fit = len(kept) - (max(1, round(len(kept) * fraction)) if fraction > 0 else 0)
    return len(texts) - len(kept), kept[:n_fit], kept[n_fit:]


def _held_out(model, pos_label: str, pos_valid: list[str], neg_valid: list[str]) -> dict:
    """Accuracy of the top label, precision and recall of the positive one (None without a
    held-out set or without a positive prediction)."""
    if not pos_valid:
        return dict.fromkeys(("accuracy", "precision", "recall"))
    said_pos = [labs[:1] == [pos_label] for labs in _predict(model, pos_valid + neg_valid, 1)[0]]
    tp, fp = sum(said_pos[:len(pos_valid)]), sum(said_pos[len(pos_valid):])
    return {"accuracy": round((tp + len(neg_valid) - fp) / len(said_pos), 4),
            "precision": round(tp / (tp + fp), 4) if tp + fp else None, "recall": round(tp / len(pos_valid), 4)}
