"""A Common-Crawl-like WARC corpus for end-to-end benchmarks, generated and cached on disk.

Pages are rendered by the sample generator's page composer (`jobs.sample.pages.render_html`:
site header, nav, article, footer, cookie notice) and given the rest of what a real CMS page
carries around its article: inline CSS and JavaScript, a JSON-LD block, a mega-menu, a
breadcrumb, a sidebar of related and most-read links, a newsletter form, footer link columns
and a cookie banner. Article bodies come from the quality benchmark's generator
(`benchmarks.quality_corpus.make_corpus`): English pages of varied quality (good prose, short
pages, lists, repeated lines, spam, lorem ipsum, menus, ...), combinatorial sentences, so no
two pages share their text and near-duplicate removal would have nothing to do.

Records are written like Common Crawl's: one gzip member per record, a request and a
response per page, `WARC-Identified-Payload-Type` on responses, several files so parallel
workers each get some. Only `text/html` 200 responses, no images: this corpus measures the
text path.

    python -m benchmarks.warc_corpus [N_PAGES] [N_FILES]
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import random
import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

VERSION = 1
N_PAGES = 6000
N_FILES = 8
START = datetime(2026, 2, 1, tzinfo=UTC)
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://earlyfuse.invalid/bench-warc")

_MENU_SECTIONS = ["World", "Business", "Politics", "Science", "Technology", "Health", "Sport",
                  "Culture", "Travel", "Food", "Opinion", "Weather", "Local", "Education"]
_SUBMENU = ["Latest", "Analysis", "Features", "Interviews", "Photos", "Video", "Podcasts",
            "Archive", "Live", "Explainers"]
_FOOTER_LINKS = ["About us", "Contact", "Careers", "Advertise", "Terms of use", "Privacy policy",
                 "Cookie settings", "Accessibility", "Sitemap", "RSS feeds", "Newsletters",
                 "Corrections", "Editorial standards", "Help", "Subscribe", "Gift subscriptions",
                 "Apps", "Events", "Shop", "Archive"]


def cache_dir(n_pages: int = N_PAGES, n_files: int = N_FILES) -> Path:
    return Path(tempfile.gettempdir()) / f"earlyfuse-bench-warc-v{VERSION}-{n_pages}-{n_files}"


def _token(rng: random.Random, n: int = 12) -> str:
    return "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))


def _head_extra(rng: random.Random, url: str, title: str, site: str) -> str:
    css_rules = "".join(
        f".{_token(rng, 6)}{{margin:{rng.randint(0, 24)}px {rng.randint(0, 24)}px;"
        f"color:#{rng.randrange(16 ** 6):06x};font-size:{rng.randint(10, 22)}px}}\n"
        for _ in range(rng.randint(40, 90)))
    config = {"site": site, "page": url, "build": _token(rng, 16), "abTests":
              {_token(rng, 8): rng.choice(["a", "b", "control"]) for _ in range(rng.randint(5, 15))},
              "ads": [{"slot": _token(rng, 10), "sizes": [[300, 250], [728, 90]],
                       "targeting": {"kw": _token(rng, 7), "pos": i}} for i in range(rng.randint(4, 10))]}
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": title,
          "url": url, "publisher": {"@type": "Organization", "name": site},
          "datePublished": (START - timedelta(days=rng.randint(1, 900))).isoformat()}
    script = ("(function(w,d){var q=w.__q=w.__q||[];function t(e){q.push([e,Date.now()])}"
              + "".join(f"d.addEventListener('{rng.choice(['click', 'scroll', 'load'])}',"
                        f"function(){{t('{_token(rng, 8)}')}});" for _ in range(rng.randint(10, 30)))
              + "})(window,document);")
    return (f'<link rel="canonical" href="{html.escape(url)}">'
            f'<meta name="description" content="{html.escape(title)}">'
            f'<meta property="og:title" content="{html.escape(title)}">'
            f'<link rel="stylesheet" href="/static/css/main.{_token(rng, 10)}.css">'
            f"<style>{css_rules}</style>"
            f'<script type="application/ld+json">{json.dumps(ld)}</script>'
            f"<script>window.__CONFIG__={json.dumps(config)};</script>"
            f"<script>{script}</script>"
            f'<script async src="/static/js/vendor.{_token(rng, 10)}.js"></script>')


def _mega_menu(rng: random.Random) -> str:
    items = []
    for section in rng.sample(_MENU_SECTIONS, rng.randint(8, len(_MENU_SECTIONS))):
        slug = section.lower()
        subs = "".join(f'<li><a href="/{slug}/{s.lower()}/">{s}</a></li>'
                       for s in rng.sample(_SUBMENU, rng.randint(3, 7)))
        items.append(f'<li class="menu-item"><a href="/{slug}/">{section}</a><ul class="sub-menu">{subs}</ul></li>')
    return (f'<div class="mega-menu" id="menu-{_token(rng, 5)}"><ul>{"".join(items)}</ul>'
            '<form class="search" action="/search"><input type="text" name="q" placeholder="Search">'
            '<button type="submit">Search</button></form></div>')


def _link_list(rng: random.Random, heads: list[str], n: int) -> str:
    links = "".join(f'<li><a href="/{_token(rng, 4)}/{_token(rng, 10)}.html">{html.escape(h)}</a></li>'
                    for h in rng.sample(heads, min(n, len(heads))))
    return f"<ul>{links}</ul>"


def _sidebar(rng: random.Random, heads: list[str]) -> str:
    return ('<aside class="sidebar">'
            f'<section class="related"><h3>Related articles</h3>{_link_list(rng, heads, rng.randint(5, 10))}</section>'
            f'<section class="most-read"><h3>Most read</h3><ol>{_link_list(rng, heads, 5)}</ol></section>'
            '<section class="newsletter"><h3>Get our newsletter</h3>'
            '<p>The day\'s top stories in your inbox every morning.</p>'
            '<form action="/newsletter"><input type="email" name="email"><button>Sign up</button></form></section>'
            f'<div class="ad-slot" id="ad-{_token(rng, 8)}" data-sizes="300x250"></div>'
            "</aside>")


def _footer_extra(rng: random.Random, site: str) -> str:
    cols = []
    for _ in range(4):
        links = "".join(f'<li><a href="/{_token(rng, 6)}/">{t}</a></li>'
                        for t in rng.sample(_FOOTER_LINKS, rng.randint(4, 8)))
        cols.append(f'<div class="footer-col"><ul>{links}</ul></div>')
    return (f'<div class="footer-links">{"".join(cols)}</div>'
            f'<div class="social"><a href="https://social.example/{_token(rng, 8)}">'
            f'Follow {html.escape(site)}</a></div>')


def _cookie_banner(rng: random.Random) -> str:
    return (f'<div id="cookie-banner-{_token(rng, 4)}" class="cookie-banner" role="dialog">'
            "<p>We and our partners use cookies and similar technologies to store and access "
            "information on your device for personalised advertising and content, measurement "
            "and audience research.</p><button>Accept all</button><button>Manage choices</button></div>"
            f"<script>document.getElementById('cookie').dataset.v='{_token(rng, 20)}';</script>")


def page_html(i: int, text: str, rng: random.Random) -> tuple[str, str]:
    """(url, html) of page i whose article body is `text` (one <p> per non-empty line)."""
    from benchmarks.quality_corpus import _HEADLINES, _OBJECTS, _SUBJECTS, _VERBS, _cap
    from jobs.sample.pages import CHROME, Page, render_html

    chrome = CHROME["eng_Latn"]
    host, site = chrome["sites"][i % len(chrome["sites"])]
    title = f"{_cap(rng.choice(_SUBJECTS))} {rng.choice(_VERBS)[0]} {rng.choice(_OBJECTS)}"
    url = f"https://{host}/{rng.choice(_MENU_SECTIONS).lower()}/2026/{i:06d}-{_token(rng, 6)}.html"
    paragraphs = [[ln.strip()] for ln in text.split("\n") if ln.strip()]
    page = Page(url=url, lang="eng_Latn", kind="good", title=title, host=host, site=site,
                chrome_lang="eng_Latn", paragraphs=paragraphs)
    doc = render_html(page, {})
    heads = [f"{_cap(rng.choice(_SUBJECTS))} {rng.choice(_VERBS)[0]} {rng.choice(_OBJECTS)}"
             for _ in range(12)] + list(_HEADLINES)
    byline = (f'<div class="byline">By <a href="/authors/{_token(rng, 6)}">Staff reporter</a> · '
              f'<time>{(START - timedelta(days=rng.randint(1, 900))).date()}</time></div>')
    crumbs = (f'<nav class="breadcrumb"><a href="/">Home</a> › '
              f'<a href="/{url.split("/")[3]}/">{url.split("/")[3].title()}</a></nav>')
    share = '<div class="share"><a href="#">Share</a> <a href="#">Tweet</a> <a href="#">Email</a></div>'
    doc = (doc.replace("</head>", _head_extra(rng, url, title, site) + "</head>", 1)
              .replace("</nav>", "</nav>" + _mega_menu(rng), 1)
              .replace("<main>", "<main>" + crumbs, 1)
              .replace("</h1>", "</h1>" + byline, 1)
              .replace("</article>", share + "</article>", 1)
              .replace("</main>", "</main>" + _sidebar(rng, heads), 1)
              .replace("</footer>", _footer_extra(rng, site) + "</footer>" + _cookie_banner(rng), 1))
    return url, doc


def _record(headers: list[tuple[str, str]], block: bytes) -> bytes:
    head = ["WARC/1.1", *(f"{k}: {v}" for k, v in headers), f"Content-Length: {len(block)}"]
    raw = "\r\n".join(head).encode() + b"\r\n\r\n" + block + b"\r\n\r\n"
    return gzip.compress(raw, compresslevel=6, mtime=0)


def _page_records(url: str, payload: bytes, when: datetime) -> bytes:
    host, _, path = url.removeprefix("https://").partition("/")
    date = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    request = (f"GET /{path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: earlyfuse-bench/1.0\r\n"
               f"Accept: */*\r\n\r\n").encode()
    response = (f"HTTP/1.1 200 OK\r\nDate: {format_datetime(when, usegmt=True)}\r\nServer: nginx\r\n"
                f"Content-Type: text/html; charset=utf-8\r\nContent-Length: {len(payload)}\r\n\r\n").encode() + payload
    req_id = f"<urn:uuid:{uuid.uuid5(NAMESPACE, 'request|' + url)}>"
    digest = hashlib.sha1(payload).hexdigest()
    return (_record([("WARC-Type", "request"), ("WARC-Date", date), ("WARC-Record-ID", req_id),
                     ("WARC-Target-URI", url), ("Content-Type", "application/http; msgtype=request")], request)
            + _record([("WARC-Type", "response"), ("WARC-Date", date),
                       ("WARC-Record-ID", f"<urn:uuid:{uuid.uuid5(NAMESPACE, 'response|' + url)}>"),
                       ("WARC-Target-URI", url), ("WARC-Concurrent-To", req_id),
                       ("WARC-Payload-Digest", f"sha1:{digest}"),
                       ("WARC-Identified-Payload-Type", "text/html"),
                       ("Content-Type", "application/http; msgtype=response")], response))


def make_warc_corpus(n_pages: int = N_PAGES, n_files: int = N_FILES, root: Path | None = None) -> dict:
    """The corpus folder (made once, then reused) and its numbers:
    {"dir", "files", "pages", "warc_bytes", "html_bytes", "text_words"}."""
    from benchmarks.quality_corpus import make_corpus

    root = Path(root) if root else cache_dir(n_pages, n_files)
    info_path = root / "corpus.json"
    if info_path.is_file():
        info = json.loads(info_path.read_text())
        if info.get("version") == VERSION and all((root / f).is_file() for f in info["files"]):
            return dict(info, dir=str(root))
    root.mkdir(parents=True, exist_ok=True)
    texts = make_corpus(n_pages, seed=11)
    rng = random.Random(f"earlyfuse-bench-warc-{VERSION}")
    files = [f"bench-{k:05d}.warc.gz" for k in range(n_files)]
    outs = [open(root / (f + ".part"), "wb") for f in files]
    html_bytes = 0
    try:
        for i, text in enumerate(texts):
            url, doc = page_html(i, text, rng)
            payload = doc.encode("utf-8")
            html_bytes += len(payload)
            outs[i % n_files].write(_page_records(url, payload, START + timedelta(seconds=7 * i)))
    finally:
        for f in outs:
            f.close()
    for f in files:
        (root / (f + ".part")).replace(root / f)
    info = {"version": VERSION, "files": files, "pages": n_pages,
            "warc_bytes": sum((root / f).stat().st_size for f in files), "html_bytes": html_bytes,
            "text_words": sum(len(t.split()) for t in texts)}
    info_path.write_text(json.dumps(info, indent=1))
    return dict(info, dir=str(root))


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:3]]
    print(json.dumps(make_warc_corpus(*args), indent=1))
