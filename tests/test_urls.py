"""URL blocklists: list formats, normalization, datatrove's archive and word rules."""

from __future__ import annotations

import pickle
import random
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest

from filters import urls
from filters.urls import UrlBlocklist

ASSETS = Path(urls._datatrove_assets())
# datatrove reads tldextract's `registered_domain`, deprecated since tldextract 5.3.
_TLD_DEPRECATION = pytest.mark.filterwarnings("ignore:The 'registered_domain' property:DeprecationWarning")


@pytest.fixture(scope="module")
def small():
    return UrlBlocklist(
        domains=["example.com", "WWW.Blocked.ORG", "bücher.de", "192.0.2.7", "xn--e1afmkfd.com"],
        urls=["http://www.site.com/bad/", "site.com/page?id=3"],
        substrings=["Casino"],
    )


@pytest.mark.parametrize(
    "url, reason",
    [
        ("https://example.com/x", "blocked_domain"),
        ("HTTPS://WWW.EXAMPLE.COM:8443/", "blocked_domain"),
        ("example.com", "blocked_domain"),
        ("//example.com./path", "blocked_domain"),
        ("http://user:pw@example.com/", "blocked_domain"),
        ("http://blocked.org", "blocked_domain"),
        ("http://a.b.example.com/", "blocked_subdomain"),
        ("https://www.deep.sub.blocked.org/x", "blocked_subdomain"),
        ("https://notexample.com/", None),
        ("https://example.com.evil.net/", None),
        ("https://example.org/", None),
        ("http://192.0.2.7:8080/x", "blocked_domain"),
        ("http://192.0.2.77/", None),
        ("http://BÜCHER.de/katalog", "blocked_domain"),
        ("http://xn--bcher-kva.de/", "blocked_domain"),
        ("http://shop.bücher.de/", "blocked_subdomain"),
        ("https://пример.com/", "blocked_domain"),  # listed as punycode
    ],
)
def test_domains(small, url, reason):
    assert small.check(url) == reason


@pytest.mark.parametrize(
    "url, reason",
    [
        ("https://site.com/bad", "blocked_url"),
        ("http://WWW.SITE.COM:81/bad/", "blocked_url"),
        ("site.com/bad#section", "blocked_url"),
        ("https://site.com/bad/deeper/page.html", "blocked_url"),  # squidGuard: listed path and below
        ("https://site.com/badge", None),  # a prefix only at a "/" boundary
        ("https://site.com/Bad", None),  # path case is significant
        ("https://site.com/", None),
        ("https://other.site.com/bad", None),  # URL entries are per host
        ("https://site.com/page?id=3", "blocked_url"),
        ("https://site.com/page?id=4", None),
        ("https://site.com/page", None),
        ("https://mycasino-online.net/", "blocked_substring"),
        ("https://example.net/CASINO/games", "blocked_substring"),
        ("https://en.wikipedia.org/wiki/Python", None),
        ("https://ok.org/caf\udcff", None),  # a lone surrogate in the path neither raises nor blocks
    ],
)
def test_urls_and_substrings(small, url, reason):
    assert small.check(url) == reason


def test_setup_cache_is_the_built_list_memory_mapped(embedded, tmp_path):
    """`make setup` stores the keys; workers map them instead of rebuilding the list."""
    assert all(p.is_file() for p in urls.embedded_cache_paths())  # written by jobs.install_models
    assert isinstance(embedded._domains.keys, np.memmap) and isinstance(embedded._urls.keys, np.memmap)
    built = UrlBlocklist._from_datatrove()
    assert np.array_equal(built._domains.keys, embedded._domains.keys)
    assert np.array_equal(built._urls.keys, embedded._urls.keys)
    assert (built.banned_words, built.soft_banned_words, built.banned_subwords) == \
        (embedded.banned_words, embedded.soft_banned_words, embedded.banned_subwords)
    # Saving again elsewhere gives the same files, named by datatrove's version.
    paths = urls.save_embedded_cache(tmp_path)
    assert [p.name for p in paths] == [p.name for p in urls.embedded_cache_paths()]
    assert "datatrove-" in paths[0].name
    assert np.array_equal(np.load(paths[0]), built._domains.keys)


@pytest.mark.parametrize(
    "url",
    ["", "   ", "http://", "http://[::1", "http://exa mple.com/", "http://a..b/", "https://.", "::::"]
    + ["http://\udcff.com/"],  # a lone surrogate, as undecodable bytes arrive
)
def test_invalid_urls_are_reported_not_raised(small, url):
    assert small.check(url) == "invalid_url"


def test_ipv6_hosts(small):
    blocklist = UrlBlocklist(domains=["[2001:DB8:0:0::1]"])
    assert blocklist.check("http://[2001:db8::1]:8080/x") == "blocked_domain"
    assert blocklist.check("http://[2001:db8::2]/") is None


def test_plain_list_file(tmp_path):
    path = tmp_path / "block.txt"
    path.write_text(
        "# my list\n"
        "\n"
        "Bad-Site.COM\n"
        "  www.tracker.net   # inline note\n"
        "https://www.news.org/opinion/\n"
        "bücher.de.\n"
        "not a host!\n",
        encoding="utf-8",
    )
    blocklist = UrlBlocklist.from_files(path, substrings=["spam"])
    assert (blocklist.n_domains, blocklist.n_urls) == (3, 1)
    assert blocklist.check("http://bad-site.com/") == "blocked_domain"
    assert blocklist.check("http://cdn.tracker.net/") == "blocked_subdomain"
    assert blocklist.check("https://news.org/opinion/today") == "blocked_url"
    assert blocklist.check("https://news.org/sport") is None
    assert blocklist.check("https://xn--bcher-kva.de") == "blocked_domain"
    assert blocklist.check("https://ham.org/spam") == "blocked_substring"


def _write_ut1(root: Path):
    for category, domains, urls_ in [
        ("adult", "adult-one.com\nadult-two.net\n", "mixed.org/adult/\n"),
        ("gambling", "bet-now.com\n", None),
        ("news", "daily-news.com\n", "mixed.org/news\n"),
    ]:
        (root / category).mkdir(parents=True)
        (root / category / "domains").write_text(domains)
        if urls_:
            (root / category / "urls").write_text(urls_)
    (root / "README").write_text("not a category\n")


def test_ut1_layout(tmp_path):
    _write_ut1(tmp_path)
    chosen = UrlBlocklist.from_ut1(tmp_path, ["adult", "gambling"])
    assert chosen.check("https://adult-two.net/") == "blocked_domain"
    assert chosen.check("https://www.bet-now.com/") == "blocked_domain"
    assert chosen.check("https://mixed.org/adult/page") == "blocked_url"
    assert chosen.check("https://daily-news.com/") is None
    assert chosen.check("https://mixed.org/news") is None
    everything = UrlBlocklist.from_ut1(tmp_path)
    assert everything.check("https://daily-news.com/") == "blocked_domain"
    assert everything.check("https://mixed.org/news") == "blocked_url"
    with pytest.raises(ValueError, match="nope"):
        UrlBlocklist.from_ut1(tmp_path, ["adult", "nope"])


_NAMES = [f"d{i}.example{i % 7}.com" for i in range(5000)] + ["1.2.3.4", "xn--bcher-kva.de", "a_b-c.org", "x.io"]


@pytest.mark.parametrize(
    "messy",
    [
        lambda name: name.upper(),
        lambda name: "www." + name,
        lambda name: name + ".",
        lambda name: f"{name}  # listed\n\n# comment",
        lambda name: f"{name}:8080",
    ],
)
def test_fast_and_per_line_loading_agree(tmp_path, messy):
    """Clean lists skip per-line normalization; the result must be the same as with it."""
    clean, dirty = tmp_path / "clean.txt", tmp_path / "dirty.txt"
    clean.write_text("\n".join(_NAMES) + "\n")
    # Every other line, the last included and the first not: each check must see past line 1.
    dirty.write_text("\n".join(messy(n) if i % 2 else n for i, n in enumerate(_NAMES)) + "\n")
    assert urls._is_normalized_domains(clean.read_bytes())
    assert not urls._is_normalized_domains(dirty.read_bytes())
    expected = UrlBlocklist(domains=_NAMES)._domains.keys
    assert len(expected) == len(_NAMES)
    assert np.array_equal(UrlBlocklist.from_files(clean)._domains.keys, expected)
    assert np.array_equal(UrlBlocklist.from_files(dirty)._domains.keys, expected)


@pytest.mark.parametrize(
    "chunk, normalized",
    [
        (b"a.com\nb.com\n", True),
        (b"a.com\nb.com", True),
        (b"a-b_c.com\n1.2.3.4\nxn--bcher-kva.de\n", True),
        (b"a.com\n\nb.com\n", False),
        (b"www.a.com\nb.com\n", False),
        (b"a.com\nwww.b.com\n", False),
        (b".a.com\n", False),
        (b"a.com\n.b.com\n", False),
        (b"a.com.\nb.com\n", False),
        (b"a.com\nb.com.", False),
        (b"a..com\n", False),
        (b"A.com\n", False),
        (b"a.com:80\n", False),
        (b"a.com # note\n", False),
    ],
)
def test_normalized_chunk_detection(chunk, normalized):
    assert urls._is_normalized_domains(chunk) is normalized


def test_million_line_list_loads_fast(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("".join(f"host{i}.zone{i % 1000}.example\n" for i in range(1_000_000)))
    start = time.perf_counter()
    blocklist = UrlBlocklist.from_files(path)
    elapsed = time.perf_counter() - start
    assert blocklist.n_domains == 1_000_000
    assert blocklist.check("https://host999999.zone999.example/") == "blocked_domain"
    assert blocklist.check("https://a.host5.zone5.example/") == "blocked_subdomain"
    assert blocklist.check("https://host5.zone6.example/") is None
    assert elapsed < 10, f"1M-line list took {elapsed:.1f}s"


def test_union_and_pickle(small, tmp_path):
    other = UrlBlocklist(domains=["other.net"], banned_words=["forbidden"])
    both = pickle.loads(pickle.dumps(small | other))
    assert both.check("https://example.com/") == "blocked_domain"
    assert both.check("https://x.other.net/") == "blocked_subdomain"
    assert both.check("https://site.com/bad") == "blocked_url"
    assert both.check("https://ok.org/forbidden-page") == "banned_word"
    with pytest.raises(ValueError):
        small | UrlBlocklist(soft_word_threshold=3)


def test_word_rules_and_threshold():
    blocklist = UrlBlocklist(
        banned_words=["#xx", "Bad Word"],
        soft_banned_words=["soft", "mild", "tame"],
        banned_subwords=["hid den"],
    )
    assert blocklist.check("https://a.com/xx") is None  # "#" lines are comments, as in datatrove
    assert blocklist.check("https://a.com/badword") == "banned_word"
    assert blocklist.check("https://a.com/bad-word") is None  # two words, neither banned alone
    assert blocklist.check("https://a.com/soft") is None
    assert blocklist.check("https://a.com/soft/soft-soft") is None  # distinct words are counted
    assert blocklist.check("https://a.com/soft_mild") == "banned_word"
    assert blocklist.check("https://a.com/softer-mildly") is None  # whole words only
    assert blocklist.check("https://a.com/x-hid-den-y") == "banned_subword"
    assert blocklist.check("https://a.com/xhiddeny") == "banned_subword"
    strict = UrlBlocklist(soft_banned_words=["soft", "mild", "tame"], soft_word_threshold=3)
    assert strict.check("https://a.com/soft_mild") is None
    assert strict.check("https://a.com/soft_mild/TAME") == "banned_word"
    with pytest.raises(ValueError):
        UrlBlocklist(soft_word_threshold=0)


# --- datatrove's archive and URLFilter ---------------------------------------------------


@pytest.fixture(scope="module")
def embedded():
    start = time.perf_counter()
    blocklist = UrlBlocklist.embedded()
    elapsed = time.perf_counter() - start
    print(f"embedded datatrove blocklist: {blocklist!r} loaded in {elapsed:.2f}s")
    assert elapsed < 30
    return blocklist


def _archive_samples(n: int = 200) -> dict[str, list[str]]:
    """The first `n` lines of each archive member, without reading the 120 MB of domains."""
    samples = {}
    with tarfile.open(ASSETS / urls.DATATROVE_ARCHIVE, "r|gz") as tar:
        for member in tar:
            head = tar.extractfile(member).read(1 << 16).decode("utf-8", "ignore")
            samples[member.name] = head.splitlines()[:-1][:n]  # the last line may be cut
            if len(samples) == 2:
                break
    return samples


def test_embedded_blocks_archive_entries(embedded):
    samples = _archive_samples()
    domains = [d for d in samples["domains"] if "." in d and not d.replace(".", "").isdigit()]
    assert len(domains) > 100
    for domain in domains[::20]:
        assert embedded.check(f"https://{domain}/some/page") == "blocked_domain"
        assert embedded.check(f"http://www.{domain}") == "blocked_domain"
        assert embedded.check(f"https://cdn.{domain}/x.js") == "blocked_subdomain"
    reasons = [embedded.check("http://" + url) for url in samples["urls"]]
    assert set(reasons) <= {"blocked_url", "blocked_domain", "blocked_subdomain"}
    assert reasons.count("blocked_url") > 10
    assert embedded.n_domains > 4_000_000 and embedded.n_urls > 15_000
    assert UrlBlocklist.embedded() is embedded  # cached per process


@pytest.mark.parametrize(
    "url",
    [
        "https://en.wikipedia.org/wiki/Python",
        "https://www.python.org/downloads/",
        "https://docs.python.org/3/library/urllib.parse.html",
        "https://github.com/huggingface/datatrove",
        "https://www.bbc.co.uk/news/science",
    ],
)
def test_embedded_allows_ordinary_sites(embedded, url):
    assert embedded.check(url) is None


def test_embedded_word_lists_match_datatrove(embedded):
    from datatrove.pipeline.filters.url_filter import parse_list

    for attribute, file_name in urls._DATATROVE_WORD_FILES.items():
        with open(ASSETS / file_name, encoding="utf-8") as f:
            expected = parse_list(f) - {""}
        assert getattr(embedded, attribute) == expected, attribute
    assert embedded.soft_word_threshold == 2


_DATATROVE_REASONS = {
    "domain": "blocked", "subdomain": "blocked", "url": "blocked_url", "hard_blacklisted": "banned_word",
    "soft_blacklisted": "banned_word", "blacklisted_subword": "banned_subword",
}


def _datatrove_url_filter(domains=(), **lists):
    """datatrove's URLFilter with these lists and not its integrated archive, on its real
    dependencies (tldextract, pyahocorasick: the test extra). tldextract is given its
    bundled Public Suffix List snapshot instead of a download, as CI has no network."""
    from datatrove.data import Document
    from datatrove.pipeline.filters.url_filter import URLFilter
    from tldextract import TLDExtract

    url_filter = URLFilter(use_integrated_lists=False, extra_domains=list(domains) or None, **lists)
    url_filter.tldextractor = TLDExtract(suffix_list_urls=(), cache_dir=None)

    def check(url: str) -> str | None:
        verdict = url_filter.filter(Document(text="", id="0", metadata={"url": url}))
        return None if verdict is True else _DATATROVE_REASONS[verdict[1]]

    return check


@pytest.fixture(scope="module")
def datatrove_word_filter():
    """datatrove's URLFilter with its three word lists and no domain lists."""
    lists = {
        option: (ASSETS / name).read_text(encoding="utf-8").splitlines(True)
        for option, name in urls._DATATROVE_WORD_FILES.items()
    }
    return _datatrove_url_filter(**lists), lists


def _generated_urls(lists: dict[str, list[str]], n: int = 200) -> list[str]:
    rng = random.Random(20240601)
    pools = {
        name: [line.strip() for line in lines if line.strip() and not line.startswith("#")]
        for name, lines in lists.items()
    }
    # Innocent words, several holding banned or soft words inside them.
    clean = "news python garden assess classic sussex scunthorpe therapist cocktail document analysis".split()
    urls_ = []
    for i in range(n):
        words = rng.sample(clean, rng.randint(1, 3))
        mix = i % 5  # 0: clean, 1: one soft, 2: two or more soft, 3: hard, 4: subword
        if mix == 1:
            words.append(rng.choice(pools["soft_banned_words"]))
        elif mix == 2:
            words += rng.sample(pools["soft_banned_words"], rng.randint(2, 3))
        elif mix == 3:
            words.append(rng.choice(pools["banned_words"]))
        elif mix == 4:
            phrase = rng.choice(pools["banned_subwords"])
            words.append(rng.choice([phrase.replace(" ", "-"), "x" + phrase.replace(" ", "") + "y"]))
        rng.shuffle(words)
        host = f"{words[0]}.{rng.choice(['com', 'org', 'de'])}"
        seps = [rng.choice("-_/.+") for _ in words[1:]]
        path = "".join(s + w for s, w in zip(seps, words[1:]))
        urls_.append(f"https://{host}/{path.lstrip('/')}" + rng.choice(["", "/", "?p=1", ".html"]))
    return urls_


@_TLD_DEPRECATION
def test_word_rules_agree_with_datatrove(datatrove_word_filter):
    datatrove_check, lists = datatrove_word_filter
    ours = UrlBlocklist(**lists)
    generated = _generated_urls(lists)
    verdicts = [(url, ours.check(url), datatrove_check(url)) for url in generated]
    assert [v for v in verdicts if v[1] != v[2]] == []
    verdicts = [ours for _, ours, _ in verdicts]
    # Every rule fired and many URLs passed: the agreement is not an all-None coincidence.
    assert verdicts.count(None) >= 40
    assert verdicts.count("banned_word") >= 40
    assert verdicts.count("banned_subword") >= 20


@_TLD_DEPRECATION
def test_uppercase_words_differ_from_datatrove_on_purpose(datatrove_word_filter):
    datatrove_check, lists = datatrove_word_filter
    ours = UrlBlocklist(**lists)
    assert datatrove_check("https://example.com/porn") == "banned_word"
    assert ours.check("https://example.com/porn") == "banned_word"
    # datatrove compares the URL's own case with lowercase lists and lets this through.
    assert datatrove_check("https://example.com/PORN") is None
    assert ours.check("https://example.com/PORN") == "banned_word"


def _domain_verdict(reason: str | None) -> str | None:
    return "blocked" if reason in ("blocked_domain", "blocked_subdomain") else reason


@_TLD_DEPRECATION
def test_domain_rules_agree_with_datatrove():
    """The domain list against datatrove's URLFilter and its real tldextract: real entries
    of datatrove's archive, hosts on and under them, near misses, and entries under
    multi-label public suffixes. Both block a host whose registered domain or whole name is
    listed; only ours also blocks hosts under a listed subdomain, hosts in upper case and
    names without a public suffix (next test), so those are compared on the listed name itself, as written."""
    from tldextract import TLDExtract

    registered = TLDExtract(suffix_list_urls=(), cache_dir=None)
    entries = [d for d in _archive_samples(3000)["domains"] if "." in d and not d.replace(".", "").isdigit()]
    entries += ["example.co.uk", "shop.example.com.au", "bad.github.io", "blocked.gov.br"]
    # tldextract finds no registered domain or full name without a public suffix, so
    # datatrove never matches such entries (next test); ours does.
    entries = [e for e in entries if registered(e).suffix]
    theirs, ours = _datatrove_url_filter(entries), UrlBlocklist(domains=entries)
    cases = []
    for entry in entries:
        cases += [f"https://{entry}/", f"http://{entry}:8080/x", f"https://not{entry}/",
                  f"https://{entry}.evil.net/"]
        if registered(entry).top_domain_under_public_suffix == entry:
            cases += [f"http://www.{entry}/", f"https://cdn.img.{entry}/a.js"]
    verdicts = [(url, _domain_verdict(ours.check(url)), theirs(url)) for url in cases]
    assert [v for v in verdicts if v[1] != v[2]] == []
    blocked = sum(v[1] == "blocked" for v in verdicts)
    assert blocked > 3000 and len(verdicts) - blocked > 3000, (blocked, len(verdicts))


@_TLD_DEPRECATION
def test_domain_rules_differ_from_datatrove_on_purpose():
    theirs, ours = _datatrove_url_filter(["ads.example.com"]), UrlBlocklist(domains=["ads.example.com"])
    assert theirs("https://ads.example.com/") == "blocked"
    assert ours.check("https://ads.example.com/") == "blocked_domain"
    # datatrove compares only the registered domain and the whole host, in the URL's case.
    assert theirs("https://eu.ads.example.com/") is None
    assert ours.check("https://eu.ads.example.com/") == "blocked_subdomain"
    assert theirs("https://ADS.example.com/") is None
    assert ours.check("https://ADS.example.com/") == "blocked_domain"
    # A name without a public suffix has neither for tldextract.
    theirs, ours = _datatrove_url_filter(["intranet.corp"]), UrlBlocklist(domains=["intranet.corp"])
    assert theirs("https://intranet.corp/") is None
    assert ours.check("https://intranet.corp/") == "blocked_domain"
