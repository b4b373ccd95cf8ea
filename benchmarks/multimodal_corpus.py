"""A multimodal corpus at web sizes, for the Spark-against-one-process rows (bench_e2e).

The bundled sample's pictures are small drawings (at most 800x600) and its text repeats a
few hundred sentences; per record they cost far less than the web's do, so Spark's cost per
record looks larger against them than it is on real data. This corpus is built from blocks
of 500 documents, each from its own seed (a corpus of n documents is the first n / 500
blocks, so the sizes share their blocks and the generation):

- 160 text pages and 120 pages with 1 to 4 photos in one WARC file, the photos stored as
  image responses after the first page that links them, and each photo page carrying its
  site's logo (a 240x64 PNG, shared by every page of the site; too small to keep);
- 150 image-text pairs in an img2dataset-layout tar (`<key>.jpg|png`, `.txt`, `.json`);
- 57 JSONL documents;
- 7 junk pages (link lists, a line of text), 3 pages copied from another page under
  another URL, and 3 pairs whose picture is another pair's, resized and re-encoded;
- 3 short videos (the sample's generator, other shapes, colours and lengths).

Photos are 0.3 to 6 megapixels (log-uniform), in the usual aspect ratios, JPEG quality 75
to 92 at about 0.15-0.18 bytes a pixel, as photos on the web are; one in ten is a PNG
graphic (flat colours and shapes, 0.3 to 1.5 megapixels). Text is English produced by a
word-trigram chain over real prose available offline (benchmarks/real_text.py), so its
vocabulary is open and no two documents share lines.

    python -m benchmarks.multimodal_corpus OUT_DIR --docs 2000
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import math
import os
import random
import re
import shutil
import tarfile
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

VERSION = 1
BLOCK_DOCS = 500
TEXT_PAGES, PHOTO_PAGES, PAIRS, DOCS, JUNK_PAGES, COPIED_PAGES, RESIZED_PAIRS, VIDEOS = 160, 120, 147, 57, 7, 3, 3, 3
MIN_MP, MAX_MP = 0.3, 6.0
ASPECTS = (4 / 3, 3 / 2, 16 / 9, 1.0, 3 / 4, 2 / 3)
MARKER = "corpus.json"
_NOISE_SIDE = 3600  # larger than any photo's side (6 MP at 16:9 is 3266 x 1837)


# --------------------------------------------------------------------------- text


@functools.lru_cache(maxsize=1)
def _chain() -> tuple[list[tuple[str, str]], dict[tuple[str, str], list[str]]]:
    """Sentence starts and a word-trigram table from the prose sentences of real_text."""
    from benchmarks.real_text import paragraphs

    word = re.compile(r"^[A-Za-z][a-z'-]*[,;:.]?$")
    starts, table = [], defaultdict(list)
    for p in paragraphs():
        for s in re.split(r"(?<=[.!?])\s+", " ".join(p.split())):
            w = s.split()
            if not (6 <= len(w) <= 40 and s[0].isupper() and s.endswith(".")):
                continue
            if sum(bool(word.match(x)) for x in w) < 0.9 * len(w):
                continue
            starts.append((w[0], w[1]))
            for a, b, c in zip(w, w[1:], w[2:]):
                table[(a, b)].append(c)
    return starts, dict(table)


def sentence(rng: random.Random, min_words: int = 8, max_words: int = 40) -> str:
    starts, table = _chain()
    a, b = rng.choice(starts)
    out = [a, b]
    while len(out) < max_words:
        options = table.get((a, b))
        if not options:
            break
        c = rng.choice(options)
        out.append(c)
        a, b = b, c
        if c.endswith(".") and len(out) >= min_words:
            break
    text = " ".join(out).rstrip(",;:")
    return text if text.endswith(".") else text + "."


def article(rng: random.Random, words: int) -> list[str]:
    """Paragraphs of 2 to 6 sentences, about `words` words in all."""
    paras, n = [], 0
    while n < words:
        para = " ".join(sentence(rng) for _ in range(rng.randint(2, 6)))
        paras.append(para)
        n += len(para.split())
    return paras


def title(rng: random.Random) -> str:
    return sentence(rng, 4, 10).rstrip(".")


# --------------------------------------------------------------------------- pictures


def _noise_plane(seed: int) -> np.ndarray:
    """Fine texture shared by a block's photos (each crops it elsewhere): Gaussian noise at
    half resolution, smoothed by upscaling, as sensor grain and foliage look to JPEG."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    half = rng.normal(128, 40, (_NOISE_SIDE // 2, _NOISE_SIDE // 2, 3)).clip(0, 255).astype(np.uint8)
    plane = Image.fromarray(half).resize((_NOISE_SIDE, _NOISE_SIDE), Image.BILINEAR)
    return ((np.asarray(plane, np.int16) - 128) // 4).astype(np.int16)


def photo_size(rng: random.Random, min_mp: float | None = None, max_mp: float | None = None) -> tuple[int, int]:
    lo, hi = MIN_MP if min_mp is None else min_mp, MAX_MP if max_mp is None else max_mp
    mp = math.exp(rng.uniform(math.log(lo), math.log(hi)))
    aspect = rng.choice(ASPECTS)
    width = int(round(math.sqrt(mp * 1e6 * aspect)))
    return width, max(1, int(round(width / aspect)))


def photo(rng: random.Random, plane: np.ndarray, width: int, height: int):
    """A smooth random scene with sharp-edged objects and grain."""
    from PIL import Image, ImageDraw

    nrng = np.random.default_rng(rng.getrandbits(64))
    gx, gy = nrng.integers(3, 9, 2)
    base = Image.fromarray(nrng.integers(0, 256, (gy, gx, 3), dtype=np.uint8)).resize((width, height), Image.BICUBIC)
    draw = ImageDraw.Draw(base)
    for _ in range(rng.randint(3, 12)):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        box = [x0, y0, x0 + rng.randint(width // 20, width // 3), y0 + rng.randint(height // 20, height // 3)]
        fill = tuple(rng.randrange(256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=fill)
    y, x = rng.randrange(_NOISE_SIDE - height + 1), rng.randrange(_NOISE_SIDE - width + 1)
    pixels = np.asarray(base, np.int16) + plane[y:y + height, x:x + width]
    return Image.fromarray(pixels.clip(0, 255).astype(np.uint8))


def encode(image, fmt: str, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    if fmt == "jpeg":
        image.convert("RGB").save(buf, format="JPEG", quality=quality)
    else:
        image.save(buf, format="PNG")
    return buf.getvalue()


def picture(rng: random.Random, plane: np.ndarray) -> tuple[bytes, str, tuple[int, int]]:
    """(encoded bytes, format, size): nine photos in ten, else a PNG graphic."""
    from jobs.sample.pictures import draw_picture

    if rng.random() < 0.1:
        width, height = photo_size(rng, MIN_MP, 1.5)
        image, _ = draw_picture(rng, width, height)
        return encode(image, "png"), "png", (width, height)
    width, height = photo_size(rng)
    return encode(photo(rng, plane, width, height), "jpeg", rng.choice((75, 80, 85, 90, 92))), "jpeg", (width, height)


# --------------------------------------------------------------------------- pages


def _page_html(page_title: str, site: str, paragraphs: list[str], images: dict[int, list[str]],
               logo: str | None) -> bytes:
    from html import escape as esc

    body = []
    for i, para in enumerate(paragraphs):
        body.append(f"<p>{esc(para)}</p>")
        for url in images.get(i, []):
            body.append(f'<figure><img src="{esc(url)}" alt="Photo"></figure>')
    logo_html = f'<img src="{esc(logo)}" alt="{esc(site)}">' if logo else esc(site)
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        f"<title>{esc(page_title)} | {esc(site)}</title>", "</head>", "<body>",
        f'<header><div class="logo"><a href="/">{logo_html}</a></div>',
        '<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>'
        '<li><a href="/about">About</a></li></ul></nav></header>',
        "<main><article>", f"<h1>{esc(page_title)}</h1>", *body, "</article></main>",
        f"<footer><p>© 2025 {esc(site)}. All rights reserved.</p></footer>", "</body>", "</html>", "",
    ]).encode("utf-8")


def _junk_html(rng: random.Random, n: int) -> bytes:
    if n % 2:  # a link list
        items = "".join(f'<li><a href="/p/{rng.randrange(10**6)}">{title(rng)[:24]}</a></li>' for _ in range(30))
        return f"<!DOCTYPE html><html><head><title>Links</title></head><body><ul>{items}</ul></body></html>".encode()
    return (f"<!DOCTYPE html><html><head><title>Page</title></head><body><p>{title(rng)}</p>"
            "</body></html>").encode()


def _write_block(root: Path, block: int) -> dict:
    """One block's WARC file, pairs tar, JSONL and videos under root (the corpus layout)."""
    from jobs.sample.warc import WarcWriter

    rng = random.Random(f"earlyfuse-multimodal-v{VERSION}:{block}")
    plane = _noise_plane(rng.getrandbits(32))
    hosts = [f"site{block:04d}-{i}.example.com" for i in range(6)]
    logos = {h: encode(_logo(rng, h), "png") for h in hosts}
    warc = WarcWriter(f"crawl-{block:04d}.warc.gz", block % 28)
    photos, pages, stored = 0, [], set()
    for i in range(TEXT_PAGES + PHOTO_PAGES):
        host = rng.choice(hosts)
        url = f"https://{host}/{block:04d}/{i:04d}.html"
        paras = article(rng, rng.choice((150, 250, 400, 600, 900)))
        images: dict[int, list[str]] = {}
        extra = []
        if i >= TEXT_PAGES:
            for k in range(rng.choice((1, 1, 2, 2, 3, 4))):
                data, fmt, _ = picture(rng, plane)
                img_url = f"https://cdn.{host}/{block:04d}/{i:04d}-{k}.{'png' if fmt == 'png' else 'jpg'}"
                images.setdefault(rng.randrange(len(paras)), []).append(img_url)
                extra.append((img_url, f"image/{fmt}", data))
            photos += len(extra)
        logo = f"https://{host}/logo.png" if images else None
        page = _page_html(title(rng), host, paras, images, logo)
        pages.append((url, page))
        warc.add(url, "text/html; charset=utf-8", page)
        for img in extra:
            warc.add(*img)
        if logo and logo not in stored:
            stored.add(logo)
            warc.add(logo, "image/png", logos[host])
    for n, (url, page) in enumerate(rng.sample(pages[:TEXT_PAGES], COPIED_PAGES)):
        warc.add(url.replace(".html", f"-copy{n}.html"), "text/html; charset=utf-8", page)
    for n in range(JUNK_PAGES):
        warc.add(f"https://{rng.choice(hosts)}/{block:04d}/junk-{n}.html", "text/html", _junk_html(rng, n))
    _put(root / "warc" / f"crawl-{block:04d}.warc.gz", warc.bytes())

    members, pair_bytes = [], []
    for i in range(PAIRS + RESIZED_PAIRS):
        key = f"{block:04d}{i:05d}"
        if i < PAIRS:
            data, fmt, (w, h) = picture(rng, plane)
            pair_bytes.append((data, fmt))
        else:  # another pair's picture at 80% of its size
            from PIL import Image

            src, fmt = rng.choice(pair_bytes)
            img = Image.open(io.BytesIO(src))
            w, h = int(img.width * 0.8), int(img.height * 0.8)
            data = encode(img.convert("RGB").resize((w, h), Image.BILINEAR), "jpeg", 85)
            fmt = "jpeg"
        caption = sentence(rng, 6, 24)
        ext = "png" if fmt == "png" else "jpg"
        record = {"key": key, "caption": caption, "url": f"https://photos.example.net/{key}.{ext}",
                  "width": w, "height": h, "status": "success", "error_message": None}
        members += [(f"{key}.{ext}", data), (f"{key}.json", json.dumps(record).encode()),
                    (f"{key}.txt", caption.encode())]
    _put(root / "images" / f"pairs-{block:04d}.tar", _tar(members))

    lines = []
    for i in range(DOCS):
        doc_id = f"b{block:04d}-doc-{i:04d}"
        text = "\n\n".join(article(rng, rng.choice((120, 200, 350, 600))))
        lines.append(json.dumps({"id": doc_id, "url": f"https://docs.example.org/{doc_id}",
                                 "date": "2024-06-01T08:00:00Z", "text": text}))
    _put(root / "docs" / f"docs-{block:04d}.jsonl", ("\n".join(lines) + "\n").encode())

    from benchmarks.scaled_corpus import video_specs
    from jobs.sample.videos import write_videos

    specs = [dict(s, file=f"video/clip-b{block:04d}-{j}.mp4") for j, s in enumerate(video_specs(block + 1))]
    write_videos(root, specs[:VIDEOS])
    return {"block": block, "pages": len(pages) + COPIED_PAGES + JUNK_PAGES, "photos_on_pages": photos,
            "pairs": PAIRS + RESIZED_PAIRS, "docs": DOCS, "videos": VIDEOS}


def _logo(rng: random.Random, host: str):
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (240, 64), tuple(rng.randrange(256) for _ in range(3)))
    ImageDraw.Draw(image).text((8, 24), host, fill=(255, 255, 255))
    return image


def _tar(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _put(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


# --------------------------------------------------------------------------- corpora


def _block(base: Path, block: int) -> Path:
    """A finished block's folder (generated on first use; `done.json` written last)."""
    folder = base / f"mm-block-v{VERSION}-{block:04d}"
    if not (folder / "done.json").exists():
        shutil.rmtree(folder, ignore_errors=True)
        info = _write_block(folder, block)
        (folder / "done.json").write_text(json.dumps(info) + "\n")
    return folder


def generate(base: str | os.PathLike, docs: int, workers: int | None = None) -> Path:
    """A corpus of `docs` documents (rounded up to whole blocks): a folder of links to the
    blocks' files, in the sample's layout (warc/, docs/, images/, video/)."""
    base = Path(base)
    n_blocks = -(-docs // BLOCK_DOCS)
    root = base / f"mm-{n_blocks * BLOCK_DOCS}-v{VERSION}"
    if (root / MARKER).exists():
        return root
    t = time.perf_counter()
    base.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(workers or os.cpu_count()) as pool:
        blocks = list(pool.map(_block, [base] * n_blocks, range(n_blocks)))
    shutil.rmtree(root, ignore_errors=True)
    for folder in blocks:
        for path in folder.rglob("*"):
            if path.is_file() and path.name != "done.json":
                link = root / path.relative_to(folder)
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(path.resolve())
    infos = [json.loads((f / "done.json").read_text()) for f in blocks]
    totals = {k: sum(i[k] for i in infos) for k in ("pages", "photos_on_pages", "pairs", "docs", "videos")}
    info = {"version": VERSION, "documents": n_blocks * BLOCK_DOCS, "blocks": n_blocks, "totals": totals,
            "bytes": sum(p.stat().st_size for p in root.rglob("*") if p.is_file()),
            "generate_s": round(time.perf_counter() - t, 1)}
    (root / MARKER).write_text(json.dumps(info, indent=2) + "\n")
    return root


def cached(docs: int) -> Path:
    base = Path(os.environ.get("EARLYFUSE_BENCH_CACHE") or Path(tempfile.gettempdir()) / "earlyfuse-bench")
    return generate(base, docs)


def write_config(root: str | os.PathLike, path: str | os.PathLike) -> Path:
    """configs/sample.toml's stages over this corpus (shards of up to 256 samples)."""
    from benchmarks.scaled_corpus import write_config as sample_config

    path = sample_config(root, path)
    text = path.read_text(encoding="utf-8")
    if "max_samples = 32\n" not in text:
        raise ValueError("configs/sample.toml changed: no `max_samples = 32` to replace")
    path.write_text(text.replace("max_samples = 32\n", "max_samples = 256\n"), encoding="utf-8")
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.multimodal_corpus", description=__doc__.split("\n")[0])
    ap.add_argument("folder")
    ap.add_argument("--docs", type=int, default=2000)
    args = ap.parse_args(argv)
    root = generate(args.folder, args.docs)
    print(json.dumps({"root": str(root), **json.loads((root / MARKER).read_text())}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
