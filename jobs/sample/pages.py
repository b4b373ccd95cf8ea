"""The sample crawl's pages: articles composed from the sentence pools, planted exact and
near duplicates, junk pages, and their HTML."""

from __future__ import annotations

import html
import random
import unicodedata
from dataclasses import dataclass, field

from jobs.sample.common import rng as _rng
from jobs.sample.common import uid
from jobs.sample.pictures import draw_picture
from jobs.sample.tables import (
    CHROME,
    EXACT_DUP_LANGS,
    GOOD_PAGES,
    LANGS,
    LINK_LABELS,
    LOREM,
    LOW_QUALITY,
    MIN_CJK_CHARS,
    MIN_WORDS,
    MISSING_IMAGES,
    NAV_PATHS,
    NEAR_DUP_EDIT_SHARE,
    NEAR_DUP_LANGS,
    NEAR_DUP_MIN_JACCARD,
    PAGES_WITH_IMAGES,
    PAGES_WITH_TWO_IMAGES,
    REMARKS,
    REPEATED_LINES,
    SENTENCES,
    SHORT_TEXTS,
    SPAM_KEYWORDS,
    TITLES,
    WARC_FILES,
)


@dataclass
class Page:
    url: str
    lang: str
    kind: str
    title: str
    host: str
    site: str
    chrome_lang: str
    paragraphs: list[list[str]] = field(default_factory=list)
    extra_blocks: list[tuple] = field(default_factory=list)  # non-paragraph bodies of junk pages
    images: list[tuple[int, str]] = field(default_factory=list)  # (insert after paragraph i, url)
    dup_of: str | None = None
    reason: str | None = None
    jaccard: float | None = None
    file: str = ""


# --------------------------------------------------------------------------- text


def _join(lang: str, sentences: list[str]) -> str:
    return ("" if LANGS.get(lang, {}).get("cjk") else " ").join(sentences)


def _text_length(lang: str, sentences: list[str]) -> int:
    if LANGS[lang]["cjk"]:
        return sum(len(s) for s in sentences)
    return sum(len(s.split()) for s in sentences)


def _min_length(lang: str) -> int:
    return MIN_CJK_CHARS if LANGS[lang]["cjk"] else MIN_WORDS


def _shingles(lang: str, text: str, n: int = 5) -> set[tuple[str, ...]]:
    tokens = [c for c in text if not c.isspace()] if LANGS[lang]["cjk"] else text.lower().split()
    return {tuple(tokens[i:i + n]) for i in range(max(1, len(tokens) - n + 1))}


def jaccard_5gram(lang: str, a: str, b: str) -> float:
    sa, sb = _shingles(lang, a), _shingles(lang, b)
    return len(sa & sb) / len(sa | sb)


def _paragraph_sizes(rng: random.Random, n: int) -> list[int]:
    # At least two sentences per paragraph: a one-sentence paragraph would
    # recur verbatim across pages and trip line-level dedup by accident.
    k = rng.randint(3, min(5, n // 2))
    sizes = [2] * k
    for _ in range(n - 2 * k):
        sizes[rng.randrange(k)] += 1
    return sizes


class ArticleComposer:
    """Samples articles from the sentence pools, never reusing a paragraph."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[tuple[str, tuple[int, ...]]] = set()

    def article(self, lang: str, n_min: int = 8, n_max: int = 14, min_len: int | None = None) -> list[list[str]]:
        pool = SENTENCES[lang]
        min_len = _min_length(lang) if min_len is None else min_len
        for _ in range(200):
            order = self.rng.sample(range(len(pool)), len(pool))
            n = self.rng.randint(n_min, n_max)
            while n < len(pool) and _text_length(lang, [pool[i] for i in order[:n]]) < min_len:
                n += 1
            groups, start = [], 0
            for size in _paragraph_sizes(self.rng, n):
                groups.append(tuple(order[start:start + size]))
                start += size
            keys = {(lang, g) for g in groups}
            if keys & self.used:
                continue
            self.used |= keys
            return [[pool[i] for i in g] for g in groups]
        raise RuntimeError(f"sentence pool for {lang} too small for unique paragraphs")


def _slug(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = "".join(c.lower() if c.isalnum() else " " for c in ascii_title).split()
    return "-".join(words) or "article"


def _page_url(host: str, title: str, lang: str, number: int) -> str:
    slug = _slug(title) if lang.endswith("_Latn") else "article"
    section = NAV_PATHS[1 + number % 4].strip("/")
    return f"https://{host}/{section}/2025/12/{slug}-{number:04d}.html"


# --------------------------------------------------------------------------- pages


def _good_pages(rng: random.Random, composer: ArticleComposer) -> list[Page]:
    pages = []
    for lang, count in GOOD_PAGES.items():
        # Deal titles like cards so a headline repeats as rarely as possible.
        titles: list[str] = []
        for _ in range(count):
            if not titles:
                titles = rng.sample(TITLES[lang], len(TITLES[lang]))
            host, site = rng.choice(CHROME[lang]["sites"])
            title = titles.pop()
            number = len(pages)
            pages.append(Page(url=_page_url(host, title, lang, number), lang=lang, kind="good", title=title,
                              host=host, site=site, chrome_lang=lang, paragraphs=composer.article(lang)))
    return pages


def _attach_images(rng: random.Random, pages: list[Page]) -> tuple[list[dict], list[str]]:
    """Place <img> references between paragraphs; returns (images stored in the WARC, missing urls)."""
    chosen = rng.sample(pages, PAGES_WITH_IMAGES)
    slots = []
    for i, page in enumerate(chosen):
        wanted = 2 if i < PAGES_WITH_TWO_IMAGES else 1
        gaps = rng.sample(range(len(page.paragraphs) - 1), wanted)
        slots.extend((page, gap) for gap in sorted(gaps))
    missing = set(rng.sample(range(len(slots)), MISSING_IMAGES))
    stored, missing_urls = [], []
    png_count = 0
    for i, (page, gap) in enumerate(slots):
        name = uid(f"image:{page.url}:{gap}").hex[:12]
        if i in missing:
            url = f"https://static.{page.host}/img/{name}.jpg"
            missing_urls.append(url)
        else:
            fmt = "png" if len(stored) % 3 == 2 else "jpeg"
            alpha = fmt == "png" and png_count == 0
            png_count += fmt == "png"
            url = f"https://static.{page.host}/img/{name}.{'png' if fmt == 'png' else 'jpg'}"
            img_rng = _rng("warc-image", url)
            # Content pictures: at least 150 px on the shorter side, as the page-image filter
            # (images.page_min_side) asks of real pages' pictures.
            width = img_rng.randrange(272, 481, 8)
            height = int(width * img_rng.choice([0.75, 0.5625, 1.0]))
            image, caption = draw_picture(img_rng, width, height, alpha=alpha)
            stored.append({"url": url, "fmt": fmt, "alpha": alpha, "image": image, "alt": caption})
        page.images.append((gap, url))
    return stored, missing_urls


def _exact_dups(rng: random.Random, pages: list[Page]) -> list[Page]:
    """Same article republished on a sister site: only the chrome differs."""
    dups, taken = [], set()
    for lang in EXACT_DUP_LANGS:
        source = rng.choice([p for p in pages if p.lang == lang and p.url not in taken])
        taken.add(source.url)
        host, site = next(s for s in CHROME[lang]["sites"] if s[0] != source.host)
        url = _page_url(host, source.title, lang, 500 + len(dups))
        dups.append(Page(url=url, lang=lang, kind="exact_dup", title=source.title, host=host, site=site,
                         chrome_lang=lang, paragraphs=[list(p) for p in source.paragraphs],
                         images=list(source.images), dup_of=source.url))
    return dups


def _near_dups(rng: random.Random, pages: list[Page], exclude: set[str]) -> list[Page]:
    """Copies with one or two remark sentences spliced in (a few percent of the words)."""
    dups = []
    for lang in NEAR_DUP_LANGS:
        source = rng.choice([p for p in pages if p.lang == lang and p.url not in exclude])
        exclude.add(source.url)
        original = _article_text(source)
        paragraphs = [list(p) for p in source.paragraphs]
        score, added, size = 1.0, 0, _text_length(lang, [original])
        for remark in rng.sample(REMARKS[lang], 2):
            trial = [list(p) for p in paragraphs]
            para = trial[rng.randrange(len(trial))]
            para.insert(rng.randint(1, len(para)), remark)
            trial_score = jaccard_5gram(lang, original, "\n\n".join(_join(lang, p) for p in trial))
            if trial_score < NEAR_DUP_MIN_JACCARD and score < 1.0:
                break
            paragraphs, score = trial, trial_score
            added += _text_length(lang, [remark])
            if added >= NEAR_DUP_EDIT_SHARE * size:
                break
        host, site = rng.choice(CHROME[lang]["sites"])
        url = _page_url(host, source.title, lang, 600 + len(dups))
        dups.append(Page(url=url, lang=lang, kind="near_dup", title=source.title, host=host, site=site,
                         chrome_lang=lang, paragraphs=paragraphs, images=list(source.images),
                         dup_of=source.url, jaccard=round(score, 4)))
    return dups


def _junk_body(rng: random.Random, reason: str, lang: str) -> tuple[str, list[tuple]]:
    if reason == "short":
        title, text = SHORT_TEXTS[lang]
        return title, [("p", text)]
    if reason == "keyword_spam":
        words = SPAM_KEYWORDS[lang]
        lines = [" ".join(rng.choice(words) for _ in range(rng.randint(4, 7))) for _ in range(24)]
        return words[0].title(), [("p", line) for line in lines]
    if reason == "repeated_lines":
        return REPEATED_LINES[lang].rstrip(".!"), [("p", REPEATED_LINES[lang])] * 30
    if reason == "link_list":
        label = LINK_LABELS[lang]
        return label, [("ul", [(f"/c/{i}", f"{label} {i}") for i in range(1, 41)])]
    if reason == "numbers":
        rows = [f"SKU {rng.randrange(10000, 99999)} | {rng.randrange(1, 999)}.{rng.randrange(100):02d} | "
                f"{rng.randrange(1, 50)} | 2025-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
                for _ in range(25)]
        return "Price feed", [("p", row) for row in rows]
    if reason == "lorem_ipsum":
        return "Lorem ipsum", [("p", LOREM)] * 3
    if reason == "symbols":
        alphabet = "#$%&*+=|~^<>/\\-_0123456789"
        rows = [" ".join("".join(rng.choice(alphabet) for _ in range(rng.randint(2, 6))) for _ in range(10))
                for _ in range(20)]
        return "###", [("p", row) for row in rows]
    raise ValueError(reason)


def _low_quality_pages(rng: random.Random) -> list[Page]:
    pages = []
    for i, (reason, lang, host, site) in enumerate(LOW_QUALITY):
        title, blocks = _junk_body(rng, reason, lang)
        chrome_lang = lang if lang in CHROME else "eng_Latn"
        url = f"https://{host}/page/{700 + i:04d}.html"
        pages.append(Page(url=url, lang=lang, kind="low_quality", title=title, host=host, site=site,
                          chrome_lang=chrome_lang, extra_blocks=blocks, reason=reason))
    return pages


def _article_text(page: Page) -> str:
    return "\n\n".join(_join(page.lang, p) for p in page.paragraphs)


def render_html(page: Page, alts: dict[str, str]) -> str:
    esc = html.escape
    chrome = CHROME[page.chrome_lang]
    lang_attr = LANGS.get(page.chrome_lang, {"html": "en"})["html"]
    direction = ' dir="rtl"' if page.chrome_lang == "arb_Arab" else ""
    nav = "".join(f'<li><a href="{href}">{esc(label)}</a></li>' for href, label in zip(NAV_PATHS, chrome["nav"]))
    body = []
    images_after = {}
    for gap, url in page.images:
        images_after.setdefault(gap, []).append(url)
    for i, para in enumerate(page.paragraphs):
        body.append(f"<p>{esc(_join(page.lang, para))}</p>")
        for url in images_after.get(i, []):
            alt = alts.get(url, "Photo")
            body.append(f'<figure><img src="{esc(url)}" alt="{esc(alt)}"></figure>')
    for block in page.extra_blocks:
        if block[0] == "p":
            body.append(f"<p>{esc(block[1])}</p>")
        else:
            items = "".join(f'<li><a href="{esc(h)}">{esc(t)}</a></li>' for h, t in block[1])
            body.append(f"<ul>{items}</ul>")
    lines = [
        "<!DOCTYPE html>",
        f'<html lang="{lang_attr}"{direction}>',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{esc(page.title)} | {esc(page.site)}</title>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "</head>",
        "<body>",
        '<header class="site-header">',
        f'<div class="logo"><a href="/">{esc(page.site)}</a></div>',
        f"<nav><ul>{nav}</ul></nav>",
        "</header>",
        "<main>",
        "<article>",
        f"<h1>{esc(page.title)}</h1>",
        *body,
        "</article>",
        "</main>",
        "<footer>",
        f"<p>© 2025 {esc(page.site)}. {esc(chrome['rights'])}</p>",
        f'<p class="cookie-notice">{esc(chrome["cookie"])} <a href="/privacy">{esc(chrome["privacy"])}</a></p>',
        "</footer>",
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(lines)


def plan_pages() -> tuple[list[Page], list[dict], list[str]]:
    """All pages in crawl order with their WARC file assigned, plus the image plan."""
    rng = _rng("pages")
    composer = ArticleComposer(_rng("articles"))
    good = _good_pages(rng, composer)
    stored_images, missing_urls = _attach_images(_rng("images"), good)
    exact = _exact_dups(rng, good)
    near = _near_dups(rng, good, exclude={p.dup_of for p in exact})
    pages = good + exact + near + _low_quality_pages(rng)
    rng.shuffle(pages)
    half = (len(pages) + 1) // 2
    for i, page in enumerate(pages):
        page.file = WARC_FILES[0] if i < half else WARC_FILES[1]
    return pages, stored_images, missing_urls
