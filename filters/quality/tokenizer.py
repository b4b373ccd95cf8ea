"""Word tokens of a text as datatrove's English tokenizer (spaCy, blank "en") gives them,
applied per whitespace chunk and memoised like spaCy's own cache. Unspaced scripts (Han,
Kana, Thai, ...) are one token per character. The caches are per process (no locking): one
per thread or process, as Spark runs them."""

from __future__ import annotations

import re
import unicodedata

import regex

from filters.quality.charsets import _SENT_PUNCT, PUNCTUATION_SET, STOP_WORDS
from filters.quality.spacy_rules import _INFIX_RE, _PREFIX_RE, _SPECIALS, _SUFFIX_RE, _URL_RE
from filters.scripts import UNSPACED_CLASS, UNSPACED_RANGES
from filters.words import split_words

# Exactly the unspaced characters, for the stdlib `re`, which scans whole texts much faster
# than `regex` with script properties; the first is a cheap superset to narrow texts down.
_HIGH_CHAR_RE = re.compile("[\u0e01-\U00033479]")
_UNSPACED_CHAR_RE = re.compile(f"[{UNSPACED_RANGES}]")
_UNSPACED_TOKEN_RE = regex.compile(rf"^[{UNSPACED_CLASS}]\p{{M}}*$")


def _affixes(chunk: str, specials: dict) -> list[str]:
    """spaCy's Tokenizer._split_affixes + _attach_tokens for one whitespace-free chunk."""
    prefixes: list[str] = []
    suffixes: list[str] = []
    string = chunk
    last = -1
    while string and len(string) != last:
        if string in specials:
            break
        last = len(string)
        m = _PREFIX_RE.search(string)
        pre_len = m.end() if m else 0
        if pre_len:
            prefix, minus_pre = string[:pre_len], string[pre_len:]
            if minus_pre and minus_pre in specials:
                string = minus_pre
                prefixes.append(prefix)
                break
        m = _SUFFIX_RE.search(string[pre_len:])
        suf_len = (m.end() - m.start()) if m else 0
        if suf_len:
            suffix, minus_suf = string[-suf_len:], string[:-suf_len]
            if minus_suf and minus_suf in specials:
                string = minus_suf
                suffixes.append(suffix)
                break
        if pre_len and suf_len and pre_len + suf_len <= len(string):
            string = string[pre_len:-suf_len]
            prefixes.append(prefix)
            suffixes.append(suffix)
        elif pre_len:
            string = minus_pre
            prefixes.append(prefix)
        elif suf_len:
            string = minus_suf
            suffixes.append(suffix)
        if string and string in specials:
            break
    tokens = prefixes
    if string:
        if string in specials:
            tokens.extend(specials[string])
        elif _URL_RE.match(string):
            tokens.append(string)
        else:
            start = 0
            for m in _INFIX_RE.finditer(string):
                s, e = m.start(), m.end()
                if s == 0:
                    continue
                if s != start:
                    tokens.append(string[start:s])
                if s != e:
                    tokens.append(string[s:e])
                start = e
            if start < len(string):
                tokens.append(string[start:])
    tokens.extend(reversed(suffixes))
    return tokens


_SPECIAL_PATTERNS: dict[tuple[str, ...], str] = {}
_PATTERN_LENGTHS: list[int] = []


def _load_special_patterns() -> None:
    """spaCy's second pass: special cases that affix rules would split (say "Mr." inside
    "Mr.Smith", or "''" inside "''quoted''") are found again in the token sequence."""
    for key in _SPECIALS:
        if _PREFIX_RE.search(key) or _INFIX_RE.search(key) or _SUFFIX_RE.search(key):
            _SPECIAL_PATTERNS[tuple(_affixes(key, {}))] = key
    _PATTERN_LENGTHS.extend(sorted({len(p) for p in _SPECIAL_PATTERNS}, reverse=True))


def _split_chunk(chunk: str) -> list[str]:
    tokens = _affixes(chunk, _SPECIALS)
    if len(tokens) < 2:
        return tokens
    if not _SPECIAL_PATTERNS:
        _load_special_patterns()
    matches = []
    for i in range(len(tokens)):
        for n in _PATTERN_LENGTHS:
            if i + n <= len(tokens) and tuple(tokens[i:i + n]) in _SPECIAL_PATTERNS:
                matches.append((i, i + n))
    if not matches:
        return tokens
    # Longest first, then leftmost; a match is taken unless its first or last token is
    # already covered, and covers its tokens either way (spaCy's _filter_special_spans).
    matches.sort(key=lambda m: (m[0] - m[1], m[0]))
    seen: set[int] = set()
    taken = []
    for a, b in matches:
        if a not in seen and b - 1 not in seen:
            taken.append((a, b))
        seen.update(range(a, b))
    out: list[str] = []
    pos = 0
    for a, b in sorted(taken):
        out.extend(tokens[pos:a])
        text = "".join(tokens[a:b])
        out.extend(_SPECIALS.get(text, tokens[a:b]))
        pos = b
    out.extend(tokens[pos:])
    return out


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


def _token_id(tok: str) -> int:
    i = _VOCAB.get(tok)
    if i is None:
        i = _VOCAB[tok] = len(_TOK_LENS)
        _TOK_LENS.append(len(tok))
    return i


def _reset_caches() -> None:
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


def _entry(chunk: str) -> tuple:
    toks = _split_chunk(chunk)
    if not chunk.isascii() and _UNSPACED_CHAR_RE.search(chunk):
        toks = [w for t in toks for w in (split_words(t) if _UNSPACED_CHAR_RE.search(t) else (t,))]
    n_nonsym = len_nonsym = n_alpha = n_uns = 0
    cls = []
    for t in toks:
        if not PUNCTUATION_SET.issuperset(t):
            n_nonsym += 1
            len_nonsym += len(t)
        if any(c.isalpha() for c in t):
            n_alpha += 1
        if _UNSPACED_TOKEN_RE.match(t):
            n_uns += 1
        cls.append("2" if t in _SENT_PUNCT else "1" if _is_punct(t) else "0")
    ent = (tuple(_token_id(t) for t in toks), len(toks), n_nonsym, len_nonsym, n_alpha,
           "".join(cls), n_uns)
    _CHUNKS[chunk] = ent
    return ent


def words(text: str) -> list[str]:
    """The tokens datatrove's English word tokenizer (spaCy, blank "en") would give
    (for checking and debugging; `signals` works on token ids)."""
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
