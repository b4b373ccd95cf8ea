"""spaCy's English affix rules for one whitespace-free chunk (prefixes, suffixes, infixes,
URLs and special cases, as datatrove's word tokenizer applies them), with shortcuts for the
commonest shapes of chunk. `_affixes(chunk, specials, guarded=False)` is the rules as
written; everything else must give exactly its answer, which tests check on every chunk of
several corpora and on random strings."""

from __future__ import annotations

import re

from filters.quality.spacy_rules import (
    _ASCII_INFIX_RE,
    _ASCII_URL_NO_AT_RE,
    _CURRENCY_LIST,
    _INFIX_RE,
    _PREFIX_RE,
    _PUNCT_LIST,
    _QUOTE_LIST,
    _SPECIALS,
    _SUFFIX_RE,
    _UNITS,
    _URL_RE,
)


# Cheap necessary conditions for the rules' regexes to match an ASCII string (no ASCII
# character is a symbol of category So, the "icon" class): when one fails, the search is
# skipped. Derived from the rules' own alternatives; tests compare guarded and unguarded
# tokenization on every chunk of several corpora and on random strings.
def _unescaped(items: list[str]) -> list[str]:
    return [i.replace("\\", "") for i in items]


_PREFIX_FIRST = frozenset(lit[0] for lit in _unescaped(
    ["§", "%", "=", "—", "–", "+", ".", *_PUNCT_LIST, *_QUOTE_LIST, *_CURRENCY_LIST]) if lit[0] not in "UCA")
_SUFFIX_LAST = frozenset(lit[-1] for lit in _unescaped([*_PUNCT_LIST, *_QUOTE_LIST])) | frozenset(".+$%—–…")
_INFIX_CHARS = frozenset(".+-*^,~:<>=/")
_DIGITS = frozenset("0123456789")
_SUFFIX_TAIL = 6


# ASCII characters that, at the start, are a one-character prefix, and at the end a
# one-character suffix, whatever surrounds them ("." "+" "$" "%" depend on their neighbours).
_PREFIX_ONE = frozenset(c for c in _PREFIX_FIRST if c.isascii()) - frozenset(".+")
_SUFFIX_ONE = frozenset(c for c in _SUFFIX_LAST if c.isascii()) - frozenset(".+$%")


def _prefix_len(s: str) -> int:
    """Length of the prefix _PREFIX_RE finds at the start of s (0 for none)."""
    if s.isascii():
        c = s[0]
        if c in _PREFIX_ONE:
            return 1
        if c == ".":  # only a run of two or more dots is a prefix
            n = len(s) - len(s.lstrip("."))
            return n if n > 1 else 0
        if c == "+":
            return 0 if s[1:2] in _DIGITS else 1
        if c in "UCA":
            return 3 if s.startswith("US$") else 2 if s.startswith(("C$", "A$")) else 0
        return 0
    m = _PREFIX_RE.search(s)
    return m.end() if m else 0


def _suffix_len(s: str) -> int:
    """Length of the suffix _SUFFIX_RE finds at the end of s (0 for none)."""
    if s.isascii():
        return _ascii_suffix_len(s)
    if s[-1] not in ".…":
        # Every suffix but a run of dots is at most 4 characters: search the tail only
        # (lookbehinds still see the characters before it).
        m = _SUFFIX_RE.search(s, max(0, len(s) - _SUFFIX_TAIL))
    else:
        m = _SUFFIX_RE.search(s)
    return (m.end() - m.start()) if m else 0


# The suffix rule's ASCII alternatives that only follow a digit: units, currencies, "+".
_AFTER_DIGIT = frozenset(u for u in [*_UNITS.split("|"), *_unescaped(_CURRENCY_LIST), "+"] if u.isascii())
_AFTER_DIGIT_MAX = max(map(len, _AFTER_DIGIT))


def _ascii_suffix_len(s: str) -> int:
    """_SUFFIX_RE on an ASCII string, without the regex: the search's leftmost match that
    reaches the end. Only "..+" and "." end in a dot, and no other alternative holds one."""
    n = len(s)
    last = s[-1]
    if last in _SUFFIX_ONE:
        return 1
    if last == ".":
        dots = n - len(s.rstrip("."))
        if dots > 1:
            return dots
        before = s[-2:-1]
        return 1 if before and (before in _DOT_AFTER or (before.isupper() and s[-3:-2].isupper())) else 0
    if _DIGITS.isdisjoint(s[-_AFTER_DIGIT_MAX - 1:]):  # no unit can follow a digit here
        return 2 if s[-2:] in ("'s", "'S") else 0
    for p in range(max(0, n - _AFTER_DIGIT_MAX), n):
        tail = s[p:]
        if (p and s[p - 1] in _DIGITS and tail in _AFTER_DIGIT) or tail == "'s" or tail == "'S":
            return n - p
    return 0


_URL_HINT_RE = re.compile(r"\.[0-9a-z]")
# The ASCII infixes captured, so that one split returns pieces and infixes alike.
_ASCII_INFIX_SPLIT_RE = re.compile(f"({_ASCII_INFIX_RE.pattern})")


def _affixes(chunk: str, specials: dict, guarded: bool = True) -> list[str]:
    """spaCy's Tokenizer._split_affixes + _attach_tokens for one whitespace-free chunk
    (`guarded=False` runs every regex, for the tests that check the guards)."""
    prefixes: list[str] = []
    suffixes: list[str] = []
    string = chunk
    last = -1
    while string and len(string) != last:
        if string in specials:
            break
        last = len(string)
        if guarded:
            pre_len = _prefix_len(string)
        else:
            m = _PREFIX_RE.search(string)
            pre_len = m.end() if m else 0
        if pre_len:
            prefix, minus_pre = string[:pre_len], string[pre_len:]
            if minus_pre and minus_pre in specials:
                string = minus_pre
                prefixes.append(prefix)
                break
        rest = string[pre_len:]
        if not rest:
            suf_len = 0
        elif guarded:
            suf_len = _suffix_len(rest)
        else:
            m = _SUFFIX_RE.search(rest)
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
        _core_tokens(string, specials, guarded, tokens)
    tokens.extend(reversed(suffixes))
    return tokens


def _core_tokens(string: str, specials: dict, guarded: bool, tokens: list[str]) -> None:
    """What the rules make of the string left when no prefix or suffix applies (a special
    case, a URL, or pieces split at infixes), appended to `tokens`. Guarded, the regexes
    run only when a cheap test shows they may match."""
    if string in specials:
        tokens.extend(specials[string])
        return
    ascii_ = guarded and string.isascii()
    if not guarded:
        url = _URL_RE.match(string) is not None
    else:  # both of the URL rule's host forms need a "." before a digit or a lower-case letter
        url = "." in string and (not ascii_ or _URL_HINT_RE.search(string) is not None) and (
            (_ASCII_URL_NO_AT_RE if ascii_ and "@" not in string else _URL_RE).match(string) is not None)
    if url:
        tokens.append(string)
    elif ascii_:
        if _INFIX_CHARS.isdisjoint(string):
            tokens.append(string)
            return
        # One split in C: pieces and infixes alternate; an infix at the very start is not
        # split off (the rules skip a match at position 0), empty pieces are dropped.
        parts = _ASCII_INFIX_SPLIT_RE.split(string)
        if not parts[0] and len(parts) > 2:
            parts[2] = parts[1] + parts[2]
            parts[1] = ""
        tokens.extend(filter(None, parts))
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


_SPECIAL_PATTERNS: dict[tuple[str, ...], str] = {}
_PATTERN_FIRST: dict[str, list[int]] = {}  # first token -> lengths of the patterns it starts
_PATTERN_PAIRS: set[tuple[str, str]] = set()  # the first two tokens of every pattern


def _load_special_patterns() -> None:
    """spaCy's second pass: special cases that affix rules would split (say "Mr." inside
    "Mr.Smith", or "''" inside "''quoted''") are found again in the token sequence."""
    for key in _SPECIALS:
        if _PREFIX_RE.search(key) or _INFIX_RE.search(key) or _SUFFIX_RE.search(key):
            _SPECIAL_PATTERNS[tuple(_affixes(key, {}, guarded=False))] = key
    # One-token patterns ("'" and the like) stand for themselves and, being the shortest,
    # cover nothing a longer match could take: they are left out.
    for p in _SPECIAL_PATTERNS:
        if len(p) > 1:
            _PATTERN_FIRST.setdefault(p[0], []).append(len(p))
            _PATTERN_PAIRS.add(p[:2])
    for lengths in _PATTERN_FIRST.values():
        lengths.sort(reverse=True)


# Characters that are always a suffix after letters, and always a prefix before them, in
# spaCy's English rules (no lookbehind or lookahead conditions them).
_EDGE_SUFFIX = frozenset(",;:!?)\"'")
_EDGE_PREFIX = frozenset("(\"'")


# What may sit at the core of an ASCII chunk with no rule applying to it: letters, digits
# and underscores, with no digit directly before a letter (a unit suffix, as in "5km").
_CORE_RE = re.compile(r"(?![0-9_]*[A-Za-z])[0-9_]*|[A-Za-z_]+[0-9_]*")
# Characters after which a final "." is a suffix (spaCy's class holds "(?:" too, see
# spacy_rules); after an upper-case letter it is one only when two are there.
_DOT_AFTER = frozenset("0123456789abcdefghijklmnopqrstuvwxyz%-+,:;!?()[]{}<>_#*&|'\"`")


def _special_cores() -> frozenset[str]:
    """Every string left of a special case when some of its leading prefix characters and
    trailing suffix characters (or dots) are taken off: the only cores _peel needs to look
    up special cases around."""
    cores = set()
    for k in _SPECIALS:
        lead = len(k) - len(k.lstrip("".join(_PREFIX_ONE)))
        trail = len(k) - len(k.rstrip("".join(_SUFFIX_ONE) + "."))
        for p in range(lead + 1):
            for q in range(trail + 1):
                if p + q < len(k):
                    cores.add(k[p:len(k) - q])
    return frozenset(cores)


_SPECIAL_CORES = _special_cores()


def _peel(chunk: str) -> list[str] | None:
    """The rules' answer for an ASCII chunk that is a core wrapped in characters the rules
    always split off one by one, when no piece the rules would look up in the special cases
    is one and the core has no prefix or suffix of its own (then the rules' loop stops at
    the core, and only its special case, URL or infixes are left); None otherwise."""
    n = len(chunk)
    i, j = 0, n
    while i < n and chunk[i] in _PREFIX_ONE:
        i += 1
    while j > i:
        c = chunk[j - 1]
        if c in _SUFFIX_ONE:
            j -= 1
        elif c == "." and j - 2 >= i and (chunk[j - 2] in _DOT_AFTER or (
                chunk[j - 2].isupper() and j - 3 >= i and chunk[j - 3].isupper())):
            j -= 1
        else:
            break
    core = chunk[i:j]
    if not core:
        return None
    plain = _CORE_RE.fullmatch(core) is not None
    # A core of other characters must have no affix of its own (the cheap tests in front
    # are necessary conditions, as the scan stopped at its first and last characters). Only
    # a final "." is judged by the character before it, which for a core of "." alone is a
    # prefix character that the rules may still see: that case takes the rules.
    if not plain and (core == "." or (core[0] in ".+UCA" and _prefix_len(core)) or (
            (core[-1] in ".sS" or not _DIGITS.isdisjoint(core[-_AFTER_DIGIT_MAX - 1:]))
            and _ascii_suffix_len(core))):
        return None
    specials = _SPECIALS
    if core in _SPECIAL_CORES:
        for a in range(i + 1):
            for b in range(j, n + 1):
                if (a != i or b != j) and chunk[a:b] in specials:
                    return None
    tokens = [*chunk[:i]]
    if plain:
        tokens.extend(specials.get(core, (core,)))
    else:
        _core_tokens(core, specials, True, tokens)
    tokens.extend(chunk[j:])
    return tokens


def _affix_tokens(chunk: str) -> list[str]:
    """`_affixes(chunk, _SPECIALS)`, with the answer for the commonest shapes of chunk known
    without running the rules: letters or ASCII digits alone (no prefix, suffix, infix or URL
    rule can apply), an ASCII core wrapped in edge characters (`_peel`), and other letters
    with one edge character before or after them. Every other chunk takes the rules. Tests
    compare the two on every chunk of several corpora and on random strings."""
    specials = _SPECIALS
    if chunk.isalpha() or (chunk.isdigit() and chunk.isascii()):
        return list(specials.get(chunk, (chunk,)))
    if chunk in specials or len(chunk) < 2:
        return _affixes(chunk, specials)
    if chunk.isascii():
        tokens = _peel(chunk)
        return _affixes(chunk, specials) if tokens is None else tokens
    first, last = chunk[0], chunk[-1]
    head = chunk[:-1]
    if head.isalpha() and last in _EDGE_SUFFIX:
        return [*specials.get(head, (head,)), last]
    if first in _EDGE_PREFIX:
        rest = chunk[1:]
        if rest.isalpha():
            return [first, *specials.get(rest, (rest,))]
        mid = rest[:-1]
        if mid and mid.isalpha() and last in _EDGE_SUFFIX and rest not in specials and head not in specials:
            return [first, *specials.get(mid, (mid,)), last]
    return _affixes(chunk, specials)


def _special_spans(tokens: list[str]) -> list[str]:
    """spaCy's second pass over one chunk's tokens (see _load_special_patterns)."""
    matches = []
    n_tok = len(tokens)
    for i, tok in enumerate(tokens):
        for n in _PATTERN_FIRST.get(tok, ()):
            if i + n <= n_tok and tuple(tokens[i:i + n]) in _SPECIAL_PATTERNS:
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


_load_special_patterns()
