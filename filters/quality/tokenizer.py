"""Word tokens of a text as datatrove's English tokenizer (spaCy, blank "en") gives them,
applied per whitespace chunk (the rules are in affixes.py) and memoised like spaCy's own
cache. Unspaced scripts (Han, Kana, Thai, ...) are one token per character. The caches are
per process (no locking): one per thread or process, as Spark runs them."""

from __future__ import annotations

import re
import unicodedata

import regex

from filters.quality.affixes import _PATTERN_PAIRS, _affix_tokens, _special_spans
from filters.quality.charsets import _SENT_PUNCT, PUNCTUATION_SET, STOP_WORDS
from filters.quality.spacy_rules import _SPECIALS
from filters.scripts import UNSPACED_CLASS, UNSPACED_RANGES
from filters.words import split_words

# Exactly the unspaced characters, for the stdlib `re`, which scans whole texts much faster
# than `regex` with script properties; the first is a cheap superset to narrow texts down.
_HIGH_CHAR_RE = re.compile("[\u0e01-\U00033479]")
_UNSPACED_CHAR_RE = re.compile(f"[{UNSPACED_RANGES}]")
_UNSPACED_TOKEN_RE = regex.compile(rf"^[{UNSPACED_CLASS}]\p{{M}}*$")


# ASCII characters of Unicode category P*: a token of them only is punctuation.
_ASCII_PUNCT = frozenset("!\"#%&'()*,-./:;?@[\\]_{}")


# Per-chunk cache: chunk -> (token ids, n tokens, n non-symbol tokens, their total length,
# n tokens with a letter, sentence classes, n unspaced-script tokens). Token classes for the
# sentence counter: "2" sentence-final punctuation, "1" other punctuation, "0" anything else.
_VOCAB: dict[str, int] = {}
_TOK_LENS: list[int] = []
_CHUNKS: dict[str, tuple] = {}
_MAX_CHUNKS = 1 << 20
_MAX_VOCAB = 1 << 22
_STOP_IDS: dict[str, frozenset[int]] = {}
_ID_TO_TOKEN: list[str] = []
# Per-token facts: token -> (id, non-symbol, its length if non-symbol, has a letter,
# unspaced-script, sentence class). Chunks share tokens
# ("word", "word," and "(word"), so a new chunk is mostly made of known tokens.
_TOKENS: dict[str, tuple] = {}


def _token_id(tok: str) -> int:
    i = _VOCAB.get(tok)
    if i is None:
        i = _VOCAB[tok] = len(_TOK_LENS)
        _TOK_LENS.append(len(tok))
    return i


def _reset_caches() -> None:
    _TOKENS.clear()
    _CHUNKS.clear()
    _VOCAB.clear()
    _TOK_LENS.clear()
    _STOP_IDS.clear()
    _ID_TO_TOKEN.clear()


def _trim_caches() -> None:
    """Bound memory between documents (never within one: token ids must stay valid)."""
    if len(_CHUNKS) >= _MAX_CHUNKS:
        if len(_VOCAB) >= _MAX_VOCAB:
            _reset_caches()
        else:
            _CHUNKS.clear()


def _stop_ids(iso: str) -> frozenset[int] | None:
    words = STOP_WORDS.get(iso)
    if words is None:
        return None
    ids = _STOP_IDS.get(iso)
    if ids is None:
        ids = _STOP_IDS[iso] = frozenset(_token_id(w) for w in words)
    return ids


def _is_punct(tok: str) -> bool:
    return all(unicodedata.category(c).startswith("P") for c in tok)


def _token_info(t: str) -> tuple:
    info = _TOKENS.get(t)
    if info is not None:
        return info
    i = _token_id(t)
    if t.isalpha() and t.isascii():
        # The commonest new token, a word of ASCII letters: a non-symbol, cased token of no
        # unspaced script, no punctuation (what the general branch below finds for it).
        info = _TOKENS[t] = (i, 1, len(t), 1, 0, "0")
        return info
    nonsym = not PUNCTUATION_SET.issuperset(t)
    cls = "2" if t in _SENT_PUNCT else None
    if t.isascii():  # every ASCII letter is cased; no ASCII character is of an unspaced script
        alpha, uns = t.lower() != t.upper(), False
        cls = cls or ("1" if _ASCII_PUNCT.issuperset(t) else "0")
    else:
        alpha, uns = any(c.isalpha() for c in t), _UNSPACED_TOKEN_RE.match(t) is not None
        cls = cls or ("1" if _is_punct(t) else "0")
    info = _TOKENS[t] = (i, int(nonsym), len(t) if nonsym else 0, int(alpha), int(uns), cls)
    return info


def _entry(chunk: str) -> tuple:
    get = _TOKENS.get
    if chunk.isascii() and (chunk.isalpha() or chunk.isdigit()) and chunk not in _SPECIALS:
        i, nonsym, nonsym_len, alpha, uns, cls = get(chunk) or _token_info(chunk)  # the commonest chunk
        ent = _CHUNKS[chunk] = ((i,), 1, nonsym, nonsym_len, alpha, cls, uns)
        return ent
    toks = _affix_tokens(chunk)
    if len(toks) > 1 and not _PATTERN_PAIRS.isdisjoint(zip(toks, toks[1:])):
        toks = _special_spans(toks)
    if not chunk.isascii() and _UNSPACED_CHAR_RE.search(chunk):
        toks = [w for t in toks for w in (split_words(t) if _UNSPACED_CHAR_RE.search(t) else (t,))]
    if len(toks) == 1:
        i, nonsym, nonsym_len, alpha, uns, cls = get(toks[0]) or _token_info(toks[0])
        ent = ((i,), 1, nonsym, nonsym_len, alpha, cls, uns)
    elif len(toks) == 2:  # a word and one mark, mostly: no zip over two tokens
        a, b = toks
        a, b = get(a) or _token_info(a), get(b) or _token_info(b)
        ent = ((a[0], b[0]), 2, a[1] + b[1], a[2] + b[2], a[3] + b[3], a[5] + b[5], a[4] + b[4])
    else:
        ids, nonsym, nonsym_len, alpha, uns, cls = zip(*[get(t) or _token_info(t) for t in toks])
        ent = (ids, len(toks), sum(nonsym), sum(nonsym_len), sum(alpha), "".join(cls), sum(uns))
    _CHUNKS[chunk] = ent
    return ent


def words(text: str) -> list[str]:
    """The tokens datatrove's English word tokenizer (spaCy, blank "en") would give, but
    with each character of an unspaced script a token of its own (for checking and
    debugging; `signals` works on token ids)."""
    _trim_caches()
    get = _CHUNKS.get
    out: list[str] = []
    for chunk in text.split():
        ent = get(chunk) or _entry(chunk)
        out.extend(_id_to_token(i) for i in ent[0])
    return out


def _id_to_token(i: int) -> str:
    if len(_ID_TO_TOKEN) != len(_VOCAB):
        _ID_TO_TOKEN[:] = [""] * len(_VOCAB)
        for t, j in _VOCAB.items():
            _ID_TO_TOKEN[j] = t
    return _ID_TO_TOKEN[i]


_BOUNDARY_RE = re.compile("2[12]*0")


def _n_sentences(cls: str) -> int:
    """Sentences spaCy's sentencizer finds in a line with these token classes."""
    return 1 + len(_BOUNDARY_RE.findall(cls)) if cls else 1

