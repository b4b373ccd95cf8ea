"""Line-level deduplication (Llama 3's, with CCNet's line normalisation), the Spark-free parts.

A line is normalised (`normalize_line`) and hashed to a signed 64-bit integer (`line_hash`).
Documents are spread over buckets (`bucket_of`); a line counts once per document
(`doc_line_hashes`), and the lines seen in too many documents of a bucket are removed from
every document of that bucket (`remove_lines`). Counting and thresholds are the caller's.

Normalisation follows CCNet's normalize_for_dedup: strip, lower-case, every decimal digit
to "0", punctuation and non-printing characters removed; unlike CCNet it case-folds, removes
every Unicode punctuation character and ASCII's symbols (not only CCNet's list) and
collapses whitespace.
"""

from __future__ import annotations

import functools
import hashlib
import math
import string
from itertools import compress

import numpy as np
import regex

# CCNet's own "unicode punctuation": mostly \p{P} already, but also a few symbols it treats
# as punctuation (´ ∶ ～ ━ ►). Its fullwidth "１" is a digit, so it becomes "0" like CCNet's.
CCNET_PUNCT = "，。、„”“«»１」「《》´∶：？！（）；–—．～’…━〈〉【】％►"
# C0/C1 controls go, as in CCNet, except those that are whitespace (tab, NEL, ...): CCNet
# deletes a tab and glues the words on either side, here it separates them like a space.
_CONTROLS = "".join(c for c in map(chr, [*range(0x20), *range(0x7F, 0xA0)]) if not c.isspace())
_DIGIT = regex.compile(r"\d")  # every Unicode decimal digit (Nd), as CCNet's \d
# ASCII's punctuation is string.punctuation: with `|`, `+`, `$`, `<`, `=`... (Unicode calls
# those symbols) a navigation bar "Home | News" is the line "Home News" with other separators.
_SPECIAL = regex.compile(rf"[\d\p{{P}}{regex.escape(CCNET_PUNCT + _CONTROLS + string.punctuation)}]")
# None of the above is a letter or mark; this simpler class scans about four times faster.
_NOT_LETTER = regex.compile(r"[^\p{L}\p{M}]+")


def _ascii_tables() -> tuple[bytes, bytes]:
    """The same rules for ASCII as a bytes.translate table: UTF-8 leaves bytes >= 0x80 to
    other characters, so the table applies to any text's encoding."""
    table, drop = bytearray(range(256)), bytearray()
    for i in range(128):
        if _DIGIT.match(chr(i)):
            table[i] = ord("0")
        elif _SPECIAL.match(chr(i)):
            drop.append(i)
    return bytes(table), bytes(drop)


_ASCII_TABLE, _ASCII_DROP = _ascii_tables()
_ALL_ASCII = bytes(range(128))
_GOLDEN = 0x9E3779B97F4A7C15  # odd, so distinct buckets get distinct masks


@functools.cache  # bounded by the characters that exist; _SPECIAL alone costs ~0.5 µs a call
def _replacement(char: str) -> str | None:
    if not _SPECIAL.match(char):
        return None
    return "0" if _DIGIT.match(char) else ""


def _fold(text: str) -> str:
    """Case-fold, digits to "0", punctuation and controls out; keeps every "\\n", so the
    lines of a folded text line up with the text's lines."""
    text = text.casefold()  # not lower(): "Straße" and "STRASSE", "ς" and "σ" are one word
    if not text.isascii():
        # Regex only over the non-ASCII characters: most are letters, which need nothing.
        rest = "".join(text.encode("utf-8", "surrogatepass").translate(None, _ALL_ASCII)
                       .decode("utf-8", "surrogatepass").split())
        if not rest.isalpha():
            for char in set("".join(_NOT_LETTER.findall(rest))):
                if (new := _replacement(char)) is not None:
                    text = text.replace(char, new)
    return text.encode("utf-8", "surrogatepass").translate(_ASCII_TABLE, _ASCII_DROP).decode(
        "utf-8", "surrogatepass")


def _normalized_lines(text: str) -> list[str]:
    # Whitespace runs collapse to one space: boilerplate re-flowed with other spacing
    # (double spaces, tabs, non-breaking spaces) is the same line.
    return list(map(" ".join, map(str.split, _fold(text).split("\n"))))


def normalize_line(line: str) -> str:
    """The form under which lines count as the same; "" for blank and punctuation-only lines."""
    return " ".join(_fold(line).split())


def _digest(normalized: str) -> bytes:
    return hashlib.blake2b(normalized.encode("utf-8", "surrogatepass"), digest_size=8).digest()


def line_hash(normalized: str) -> int:
    """64-bit BLAKE2b of the UTF-8 bytes as a signed int64: the same in every process and
    machine (unlike hash()), and it fits Spark's LongType and Arrow's int64."""
    return int.from_bytes(_digest(normalized), "little", signed=True)


def _hashes(normalized: list[str]) -> np.ndarray:
    return np.frombuffer(b"".join(map(_digest, normalized)), dtype="<i8").astype(np.int64)


def doc_line_hashes(texts: list[str]) -> np.ndarray:
    """Sorted distinct hashes of the document's non-empty normalised lines, over all parts.

    Once per document (document frequency): a page repeating its own line cannot get that
    line removed by itself; in-document repeats are the repetition filters' to judge.
    """
    lines = set().union(*map(_normalized_lines, texts))
    lines.discard("")
    return np.sort(_hashes(list(lines)))


def n_buckets(n_docs: int, bucket_docs: int) -> int:
    """How many buckets of about `bucket_docs` documents `n_docs` documents need (at least 1)."""
    if bucket_docs < 1 or n_docs < 0:
        raise ValueError(f"need bucket_docs >= 1 and n_docs >= 0, got {bucket_docs}, {n_docs}")
    return max(1, math.ceil(n_docs / bucket_docs))


def bucket_of(doc_id: str, n_buckets: int) -> int:
    """The document's bucket, from its id alone: the same on every run and machine."""
    # Personalised, so that buckets stay independent of any other BLAKE2b of the same id
    # (a sample taken by id hash would otherwise fall into the same buckets).
    digest = hashlib.blake2b(doc_id.encode("utf-8", "surrogatepass"), digest_size=8,
                             person=b"earlyfuse-bucket").digest()
    return int.from_bytes(digest, "little") % n_buckets


def bucket_key(bucket: int, h):
    """One int64 key for (bucket, line hash): counts and removals are per bucket, and one
    sorted int64 array of keys can hold every bucket. Works on ints and int64 arrays."""
    mask = bucket * _GOLDEN % 2**64
    mask -= (mask >= 2**63) << 64  # as a signed int64
    return h ^ mask if isinstance(h, int) else h ^ np.int64(mask)


def remove_lines(texts: list[str], bucket: int, frequent: np.ndarray) -> tuple[list[str], int, int]:
    """Drop every line whose bucket_key is in `frequent` (sorted int64) from every part.

    Returns (texts, lines removed, characters removed: how much shorter the texts got).
    Lines that normalise to "" stay (they carry the paragraph structure) and order is kept;
    a part left with only whitespace becomes "", a part with nothing removed is unchanged.
    """
    if frequent.size == 0:
        return list(texts), 0, 0
    folded = [_normalized_lines(text) for text in texts]
    distinct = list(set().union(*folded) - {""})
    if not distinct:
        return list(texts), 0, 0
    keys = bucket_key(bucket, _hashes(distinct))
    found = frequent[np.minimum(np.searchsorted(frequent, keys), frequent.size - 1)] == keys
    drop = set(compress(distinct, found))
    out, n_lines, n_chars = [], 0, 0
    for text, norms in zip(texts, folded):
        if drop.isdisjoint(norms):
            out.append(text)
            continue
        lines = text.split("\n")
        kept = [line for line, norm in zip(lines, norms) if norm not in drop]
        new = "\n".join(kept)
        new = "" if new.isspace() else new
        n_lines += len(lines) - len(kept)
        n_chars += len(text) - len(new)
        out.append(new)
    return out, n_lines, n_chars
