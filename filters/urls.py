"""URL blocklists: domain and URL lists (UT1 layout, plain files, datatrove's archive) and banned words.

`UrlBlocklist.check(url)` returns None for an allowed URL, else one reason:

- ``invalid_url``: no usable host could be parsed. Such a URL cannot be checked against any
  list, and in crawl data it is junk far more often than content, so it is reported rather
  than waved through; a caller that wants to keep these treats the reason as allowed.
- ``blocked_domain``: the host itself is listed.
- ``blocked_subdomain``: a parent of the host is listed (``example.com`` blocks
  ``a.b.example.com``). This includes bare TLD entries: datatrove's archive lists ``xxx``,
  ``porn``, ``adult`` and ``sex``, which therefore block those whole TLDs (datatrove, which
  only compares the registered domain and the full host, never matches them).
- ``blocked_url``: a listed URL equals the URL or is a path-segment prefix of it, as in
  squidGuard, the tool UT1's ``urls`` files are written for (``x.com/bad`` blocks
  ``x.com/bad/page`` but not ``x.com/badge``). Scheme, port, ``www.``, host case, trailing
  slash and fragment are ignored; path case is kept because servers treat it as significant.
- ``blocked_substring``: a configured substring occurs in the lowercased URL.
- ``banned_word``: datatrove URLFilter's hard banned word, or at least ``soft_word_threshold``
  distinct soft-banned words, among the URL's alphanumeric runs.
- ``banned_subword``: a banned subword occurs in the URL stripped to its letters and digits.

The word rules copy datatrove (same tokenisation, same ``#``-comment skipping of its word
files, same threshold) with one deliberate change: URL words are lowercased before the
comparison. datatrove compares the URL's original case against lowercased word lists, so
``/PORN`` passes there; URL case carries no meaning for these rules.

Domain and URL lists are kept as sorted arrays of 64-bit keys (CRC-32 and Adler-32 of the
normalized entry) instead of Python sets: datatrove's 4.6M-domain archive takes about 520 MB
as a set of str in every worker process and 36 MB of keys this way, and lookups stay
O(log n) over the host's few suffixes. The price is a false match when an unlisted host
shares both checksums with a listed one: about 1e-11 per lookup. The keys are stable across
processes and Python versions, so a pickled blocklist stays valid in Spark workers.
"""

from __future__ import annotations

import functools
import importlib.resources
import ipaddress
import re
import tarfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

import numpy as np

DATATROVE_ARCHIVE = "url_filterblacklistsv0_3_0.tar.gz"
_DATATROVE_WORD_FILES = {
    "banned_words": "banned_words.txt",
    "banned_subwords": "banned_subwords.txt",
    "soft_banned_words": "soft_banned_words.txt",
}

# datatrove url_filter's `normalizer`: words are runs of ASCII letters and digits.
_NON_ALNUM = re.compile(r"[^a-zA-Z0-9]+")
_ASCII_HOST = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
# A chunk made only of these bytes, with no line starting with "www.", no empty label and no
# blank line, is already in normalized form and skips the per-line Python work.
_NORMALIZED_DOMAIN_BYTES = b"abcdefghijklmnopqrstuvwxyz0123456789.-_\n"
# With newlines read as dots, one search for ".." finds leading, trailing and double dots
# and blank lines.
_NEWLINE_AS_DOT = bytes.maketrans(b"\n", b".")
_CHUNK_BYTES = 1 << 24
_NO_KEYS = np.empty(0, np.uint64)


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # lone surrogates come from undecodable input


def _key(entry: bytes) -> int:
    return zlib.crc32(entry) << 32 | zlib.adler32(entry)


def _keys(entries: list[bytes]) -> np.ndarray:
    crc = np.fromiter(map(zlib.crc32, entries), np.uint64, len(entries))
    adler = np.fromiter(map(zlib.adler32, entries), np.uint64, len(entries))
    return crc << np.uint64(32) | adler


class _KeySet:
    """Membership of normalized strings, by sorted 64-bit keys (see the module docstring)."""

    __slots__ = ("keys",)

    def __init__(self, keys: np.ndarray | None = None):
        # Sort and drop repeats by hand: np.unique's hash-based path takes seconds on 4.6M keys.
        keys = np.sort(keys) if keys is not None else _NO_KEYS
        self.keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if len(keys) else keys

    @classmethod
    def presorted(cls, keys: np.ndarray) -> _KeySet:
        """Keys already sorted and unique (a saved set), taken as they are: no copy."""
        ks = cls.__new__(cls)
        ks.keys = keys
        return ks

    @classmethod
    def of(cls, entries: Iterable[str]) -> _KeySet:
        return cls(_keys([_encode(e) for e in entries]))

    def __len__(self) -> int:
        return len(self.keys)

    def __or__(self, other: _KeySet) -> _KeySet:
        return _KeySet(np.concatenate([self.keys, other.keys]))

    def first_hit(self, candidates: list[str]) -> int | None:
        """Index of the first candidate in the set; one searchsorted call for all of them."""
        size = len(self.keys)
        if not size:
            return None
        # Search with a uint64 array, never a Python int: searchsorted(int) of a value above
        # 2**63 falls back to object comparison and takes milliseconds.
        wanted = [_key(_encode(c)) for c in candidates]
        positions = self.keys.searchsorted(np.array(wanted, np.uint64))
        found = self.keys[np.minimum(positions, size - 1)].tolist()
        return next((i for i, (f, w) in enumerate(zip(found, wanted)) if f == w), None)


# --- normalization -----------------------------------------------------------------------


def normalize_host(host: str) -> str | None:
    """Lowercase ASCII (punycode) host without ``www.`` and trailing dot; None if unusable."""
    host = host.strip().lower().rstrip(".")
    if not host:
        return None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    if host[0] in "0123456789[" or ":" in host:  # skip the costly ValueError for plain names
        try:
            return ipaddress.ip_address(host.strip("[]")).compressed
        except ValueError:
            pass
    if not _ASCII_HOST.fullmatch(host):
        return None
    # "www.com" stays whole: stripping would leave a bare TLD that blocks nothing by itself.
    if host.startswith("www.") and "." in host[4:]:
        host = host[4:]
    return host


def parse_url(url: str) -> tuple[str, str, str] | None:
    """(host, path without trailing slash, query) of a URL, scheme optional; None if unusable."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        if not parts.netloc and "://" not in url:
            # "example.com/x" and "example.com:8080/x" have no "//": urlsplit reads the host
            # as a path or a scheme.
            parts = urlsplit("//" + url)
        host = parts.hostname
    except ValueError:  # e.g. an unclosed "[" of an IPv6 host
        return None
    host = normalize_host(host) if host else None
    if host is None:
        return None
    return host, parts.path.rstrip("/"), parts.query


def host_suffixes(host: str) -> list[str]:
    """The host then each parent domain, longest first; an IP address is only itself."""
    if ":" in host or host.replace(".", "").isdigit():
        return [host]
    labels = host.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


def url_keys(host: str, path: str, query: str) -> list[str]:
    """The URL's comparison key, then its shorter path-segment prefixes down to the bare host."""
    segments = path.split("/")
    keys = [host + "/".join(segments[:n]) for n in range(len(segments), 0, -1)]
    if query:
        keys.insert(0, f"{keys[0]}?{query}")
    return keys


def _entry(line: str, kind: str) -> tuple[str, str] | None:
    """("domain" | "url", normalized entry) of one list line; None for blanks, comments, junk.

    `kind` "auto" reads a line with a "/" as a URL and anything else as a domain.
    """
    line = line.strip()
    if not line or line.startswith("#"):
        return None
    token, *comment = line.split(maxsplit=1)
    if comment and not comment[0].startswith("#"):  # "example.com  # why" is fine, "a b" is junk
        return None
    if kind == "url" or (kind == "auto" and "/" in token):
        parsed = parse_url(token)
        return ("url", url_keys(*parsed)[0]) if parsed else None
    if "/" in token or ":" in token or "@" in token:
        parsed = parse_url(token)
        host = parsed[0] if parsed else None
    else:
        host = normalize_host(token)
    return ("domain", host) if host else None


def _is_normalized_domains(chunk: bytes) -> bool:
    if chunk.translate(None, _NORMALIZED_DOMAIN_BYTES) or chunk.startswith((b"www.", b".")):
        return False
    body = chunk.rstrip(b"\n")
    return not body.endswith(b".") and b".." not in body.translate(_NEWLINE_AS_DOT) and b"\nwww." not in body


def _line_chunks(stream: BinaryIO) -> Iterator[bytes]:
    """The stream in large pieces that end on line boundaries."""
    rest = b""
    while block := stream.read(_CHUNK_BYTES):
        block = rest + block
        cut = block.rfind(b"\n") + 1
        if cut:
            yield block[:cut]
        rest = block[cut:]
    if rest:
        yield rest


def _read_list(stream: BinaryIO, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Keys of the (domains, urls) in a one-entry-per-line stream."""
    parts = []
    for chunk in _line_chunks(stream):
        if kind != "url" and _is_normalized_domains(chunk):
            parts.append((_keys(chunk.split()), _NO_KEYS))  # only "\n" as whitespace: split() = lines
            continue
        found: dict[str, list[bytes]] = {"domain": [], "url": []}
        for line in chunk.decode("utf-8", "replace").splitlines():
            if entry := _entry(line, kind):
                found[entry[0]].append(_encode(entry[1]))
        parts.append((_keys(found["domain"]), _keys(found["url"])))
    return _concat(parts)


def _concat(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    domains, urls = zip(*parts) if parts else ((), ())
    return np.concatenate([_NO_KEYS, *domains]), np.concatenate([_NO_KEYS, *urls])


def _word_set(lines: Iterable[str]) -> frozenset[str]:
    """datatrove url_filter's parse_list: skip "#" lines, keep letters and digits, lowercase."""
    words = (_NON_ALNUM.sub("", line).lower() for line in lines if not line.strip().startswith("#"))
    return frozenset(w for w in words if w)  # an empty word would match every URL


def _datatrove_assets():
    return importlib.resources.files("datatrove") / "assets"


# --- the blocklist -----------------------------------------------------------------------


class UrlBlocklist:
    """A URL blocklist; build with the constructor, `from_files`, `from_ut1` or `embedded`,
    and combine with ``|``. Never modified after construction: `embedded` hands one shared
    instance to every caller in the process."""

    def __init__(
        self,
        domains: Iterable[str] = (),
        urls: Iterable[str] = (),
        *,
        substrings: Iterable[str] = (),
        banned_words: Iterable[str] = (),
        banned_subwords: Iterable[str] = (),
        soft_banned_words: Iterable[str] = (),
        soft_word_threshold: int = 2,
    ):
        if soft_word_threshold < 1:
            raise ValueError("soft_word_threshold must be at least 1 (0 would block every URL)")
        self._domains = _KeySet.of(e[1] for d in domains if (e := _entry(d, "domain")))
        self._urls = _KeySet.of(e[1] for u in urls if (e := _entry(u, "url")))
        self.substrings = frozenset(s.lower() for s in substrings if s)
        self.banned_words = _word_set(banned_words)
        self.banned_subwords = _word_set(banned_subwords)
        self.soft_banned_words = _word_set(soft_banned_words)
        self.soft_word_threshold = soft_word_threshold

    @classmethod
    def _with_keys(cls, domains: np.ndarray, urls: np.ndarray, **options) -> UrlBlocklist:
        blocklist = cls(**options)
        blocklist._domains = _KeySet(domains)
        blocklist._urls = _KeySet(urls)
        return blocklist

    @classmethod
    def from_files(cls, *paths: str | Path, **options) -> UrlBlocklist:
        """Plain lists: one domain or URL (a line with "/") per line, "#" comments, blanks."""
        parts = []
        for path in paths:
            with open(path, "rb") as stream:
                parts.append(_read_list(stream, "auto"))
        return cls._with_keys(*_concat(parts), **options)

    @classmethod
    def from_ut1(cls, root: str | Path, categories: Iterable[str] | None = None, **options) -> UrlBlocklist:
        """A UT1 blacklists folder: ``<root>/<category>/domains`` and ``.../urls``.

        `categories` None takes every category folder; a requested category that is not
        there raises, since a typo would otherwise silently block nothing.
        """
        root = Path(root)
        available = {p.name for p in root.iterdir() if p.is_dir()}
        chosen = sorted(available) if categories is None else list(categories)
        if missing := sorted(set(chosen) - available):
            raise ValueError(f"UT1 categories not in {root}: {missing}")
        parts = []
        for category in chosen:
            for name, kind in (("domains", "domain"), ("urls", "url")):
                path = root / category / name
                if path.is_file():
                    with open(path, "rb") as stream:
                        parts.append(_read_list(stream, kind))
        return cls._with_keys(*_concat(parts), **options)

    @classmethod
    def embedded(cls) -> UrlBlocklist:
        """datatrove URLFilter's integrated lists: its archive plus its three word lists.

        Loaded once per process (a few seconds of gunzip and hashing) and shared.
        """
        return _embedded()

    @classmethod
    def _from_datatrove(cls) -> UrlBlocklist:
        assets = _datatrove_assets()
        parts = []
        # Read from the archive without extracting it: URLFilter unpacks 120 MB to disk.
        with (assets / DATATROVE_ARCHIVE).open("rb") as raw, tarfile.open(fileobj=raw, mode="r|gz") as tar:
            for member in tar:
                kind = {"domains": "domain", "urls": "url"}.get(Path(member.name).name)
                if kind and member.isfile():
                    parts.append(_read_list(tar.extractfile(member), kind))
        words = {
            option: (assets / name).read_text(encoding="utf-8").splitlines()
            for option, name in _DATATROVE_WORD_FILES.items()
        }
        return cls._with_keys(*_concat(parts), **words)

    def __or__(self, other: UrlBlocklist) -> UrlBlocklist:
        if self.soft_word_threshold != other.soft_word_threshold:
            raise ValueError("cannot combine blocklists with different soft_word_threshold")
        combined = UrlBlocklist(soft_word_threshold=self.soft_word_threshold)
        combined._domains = self._domains | other._domains
        combined._urls = self._urls | other._urls
        combined.substrings = self.substrings | other.substrings
        combined.banned_words = self.banned_words | other.banned_words
        combined.banned_subwords = self.banned_subwords | other.banned_subwords
        combined.soft_banned_words = self.soft_banned_words | other.soft_banned_words
        return combined

    @property
    def n_domains(self) -> int:
        return len(self._domains)

    @property
    def n_urls(self) -> int:
        return len(self._urls)

    def __repr__(self) -> str:
        return (
            f"UrlBlocklist({self.n_domains} domains, {self.n_urls} urls, {len(self.substrings)} substrings, "
            f"{len(self.banned_words)}/{len(self.soft_banned_words)}/{len(self.banned_subwords)} "
            "banned/soft/sub words)"
        )

    def check(self, url: str) -> str | None:
        """None when the URL is allowed, else the reason (see the module docstring)."""
        parsed = parse_url(url)
        if parsed is None:
            return "invalid_url"
        host, path, query = parsed
        hit = self._domains.first_hit(host_suffixes(host))
        if hit is not None:
            return "blocked_domain" if hit == 0 else "blocked_subdomain"
        if self._urls.first_hit(url_keys(host, path, query)) is not None:
            return "blocked_url"
        return self.check_words(url)

    def check_words(self, url: str) -> str | None:
        """The substring and banned-word rules alone, on the URL as written."""
        lowered = url.lower()
        if any(map(lowered.__contains__, self.substrings)):
            return "blocked_substring"
        words = set(_NON_ALNUM.split(lowered))
        if not self.banned_words.isdisjoint(words):
            return "banned_word"
        if len(self.soft_banned_words.intersection(words)) >= self.soft_word_threshold:
            return "banned_word"
        squashed = _NON_ALNUM.sub("", lowered)
        if any(map(squashed.__contains__, self.banned_subwords)):
            return "banned_subword"
        return None


def embedded_cache_paths(folder: Path | None = None) -> tuple[Path, Path]:
    """Where `jobs.install_models` keeps the embedded list's sorted keys (domains, urls):
    named by datatrove's version, so an upgrade never reads a stale list."""
    from importlib.metadata import version

    from filters.models import models_dir

    stem = f"url-blocklist-datatrove-{version('datatrove')}"
    folder = folder or models_dir()
    return folder / f"{stem}.domains.npy", folder / f"{stem}.urls.npy"


def save_embedded_cache(folder: Path | None = None) -> tuple[Path, Path]:
    """Build the embedded list once (at set-up time) and store its keys as .npy files."""
    blocklist = UrlBlocklist._from_datatrove()
    paths = embedded_cache_paths(folder)
    for path, keys in zip(paths, (blocklist._domains.keys, blocklist._urls.keys)):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        with open(tmp, "wb") as f:
            np.save(f, keys, allow_pickle=False)
        tmp.replace(path)
    return paths


@functools.cache
def _embedded() -> UrlBlocklist:
    """From the set-up cache when it is there: memory-mapped, so every Python worker on a
    machine shares one copy in the page cache and starts in milliseconds instead of
    spending 2-3 s of gunzip and hashing each."""
    domains_path, urls_path = embedded_cache_paths()
    if not (domains_path.is_file() and urls_path.is_file()):
        return UrlBlocklist._from_datatrove()
    assets = _datatrove_assets()
    words = {option: (assets / name).read_text(encoding="utf-8").splitlines()
             for option, name in _DATATROVE_WORD_FILES.items()}
    blocklist = UrlBlocklist(**words)
    blocklist._domains = _KeySet.presorted(np.load(domains_path, mmap_mode="r", allow_pickle=False))
    blocklist._urls = _KeySet.presorted(np.load(urls_path, mmap_mode="r", allow_pickle=False))
    return blocklist
