"""Pictures with captions that describe them: gradients and shapes, drawn deterministically;
the img2dataset-style tar of image-text pairs."""

from __future__ import annotations

import io
import json
import random
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from jobs.sample.common import rng as _rng
from jobs.sample.common import uid
from jobs.sample.common import write as _write
from jobs.sample.tables import FOREIGN_CAPTIONS, IMAGE_PAIRS, PALETTE, SHAPES


def encode_image(image: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    if fmt == "jpeg":
        image.convert("RGB").save(buf, format="JPEG", quality=85)
    else:
        image.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def _gradient(width: int, height: int, start: tuple, end: tuple, vertical: bool) -> np.ndarray:
    steps = np.linspace(0.0, 1.0, height if vertical else width, dtype=np.float32)
    ramp = steps[:, None, None] if vertical else steps[None, :, None]
    a, b = np.array(start, np.float32), np.array(end, np.float32)
    img = a * (1.0 - ramp) + b * ramp
    return np.broadcast_to(img, (height, width, 3)).astype(np.uint8)


def _shape_points(shape: str, cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    if shape == "triangle":
        return [(cx, cy - r), (cx + r, cy + r), (cx - r, cy + r)]
    return [(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)]  # diamond


def _draw_shape(draw: ImageDraw.ImageDraw, shape: str, cx: float, cy: float, r: float, fill: tuple) -> None:
    box = [cx - r, cy - r, cx + r, cy + r]
    if shape == "circle":
        draw.ellipse(box, fill=fill)
    elif shape == "square":
        draw.rectangle(box, fill=fill)
    else:
        draw.polygon(_shape_points(shape, cx, cy, r), fill=fill)


def _english_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def draw_picture(rng: random.Random, width: int, height: int, alpha: bool = False) -> tuple[Image.Image, str]:
    """Gradient (or transparent) background with 2-4 coloured shapes, and an English caption of it."""
    bg_start, bg_end = rng.sample(sorted(PALETTE), 2)
    vertical = rng.random() < 0.5
    if alpha:
        image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
        background = "a transparent background"
    else:
        image = Image.fromarray(_gradient(width, height, PALETTE[bg_start], PALETTE[bg_end], vertical), "RGB")
        background = f"a {'vertical' if vertical else 'horizontal'} {bg_start} to {bg_end} gradient"
    draw = ImageDraw.Draw(image)
    described = []
    for _ in range(rng.randint(2, 4)):
        shape = rng.choice(SHAPES)
        colour = rng.choice([c for c in sorted(PALETTE) if c not in (bg_start, bg_end)])
        r = rng.uniform(0.08, 0.22) * min(width, height)
        cx, cy = rng.uniform(r, width - r), rng.uniform(r, height - r)
        fill = PALETTE[colour] + ((255,) if alpha else ())
        _draw_shape(draw, shape, cx, cy, r, fill)
        described.append(f"{'an' if colour[0] in 'aeiou' else 'a'} {colour} {shape}")
    caption = f"{_english_list(described).capitalize()} on {background}."
    return image, caption


def _pair_sizes(rng: random.Random) -> list[tuple[int, int]]:
    # Pin both extremes so resize and min-size filters always have work to do.
    sizes = [(64, 48), (800, 600)]
    while len(sizes) < IMAGE_PAIRS:
        width = rng.randrange(64, 801, 16)
        height = max(48, min(600, int(width * rng.choice([0.5, 0.75, 1.0, 1.25]))))
        sizes.append((width, height))
    rng.shuffle(sizes)
    return sizes


def write_image_pairs(root: Path) -> list[dict]:
    rng = _rng("image-pairs")
    foreign = {3: "deu_Latn", 8: "fra_Latn", 13: "spa_Latn", 17: "jpn_Jpan"}
    members: list[tuple[str, bytes]] = []
    meta = []
    for i, (width, height) in enumerate(_pair_sizes(rng)):
        key = f"{i:09d}"
        image, caption = draw_picture(rng, width, height)
        lang = foreign.get(i, "eng_Latn")
        if lang != "eng_Latn":
            caption = FOREIGN_CAPTIONS[lang].format(n=caption.count(" and ") + caption.count(", ") + 1)
        url = f"https://photos.example.net/{uid('pair:' + key).hex[:16]}.jpg"
        record = {"key": key, "caption": caption, "url": url, "width": width, "height": height,
                  "status": "success", "error_message": None}
        members += [(f"{key}.jpg", encode_image(image, "jpeg")),
                    (f"{key}.json", json.dumps(record, ensure_ascii=False).encode()),
                    (f"{key}.txt", caption.encode())]
        meta.append({"key": key, "lang": lang, "width": width, "height": height})
    _write(root / "images" / "pairs-00000.tar", _tar_bytes(members))
    return meta


def _tar_bytes(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in sorted(members):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()
