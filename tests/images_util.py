"""Images made by the tests with Pillow."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def photo(width: int, height: int, seed: int = 0) -> Image.Image:
    """A smooth gradient with a few shapes and mild noise: JPEG behaves as on photographs."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    r = 128 + 100 * np.sin(x / max(width, 1) * 3.1 + seed)
    g = 128 + 100 * np.cos(y / max(height, 1) * 2.7)
    b = 128 + 80 * np.sin((x + y) / max(width + height, 1) * 5.0)
    arr = np.stack([r, g, b], axis=-1) + rng.normal(0, 4, (height, width, 3))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")


def encode(img: Image.Image, fmt: str = "JPEG", **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def jpeg(width: int, height: int, seed: int = 0, quality: int = 90) -> bytes:
    return encode(photo(width, height, seed), "JPEG", quality=quality)


def png_bomb(width: int = 30000, height: int = 30000) -> bytes:
    """A tiny PNG whose header declares a huge canvas (IHDR patched, CRC fixed)."""
    import struct
    import zlib

    data = bytearray(encode(Image.new("L", (8, 8)), "PNG"))
    ihdr = data.find(b"IHDR")
    data[ihdr + 4: ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr: ihdr + 17])) & 0xFFFFFFFF
    data[ihdr + 17: ihdr + 21] = struct.pack(">I", crc)
    return bytes(data)


def bad_images() -> dict[str, bytes]:
    """One image per way an image can be unusable, keyed by the reason expected."""
    good = jpeg(320, 240, seed=3)
    return {
        "empty": b"",
        "unidentified": b"this is not an image at all" * 10,
        "truncated": good[: len(good) // 2],
        "too_many_pixels": png_bomb(),
        "aspect_ratio": encode(Image.new("RGB", (20000, 40), (200, 10, 10)), "PNG"),
    }


def odd_but_fine_images() -> dict[str, bytes]:
    """Images that must be converted, not rejected."""
    cmyk = encode(photo(64, 48, 1).convert("CMYK"), "JPEG")
    sixteen = Image.fromarray((np.linspace(0, 65535, 64 * 48).reshape(48, 64)).astype(np.uint16))
    pal = photo(64, 48, 2).convert("P", palette=Image.ADAPTIVE)
    frames = [Image.new("RGB", (48, 36), c) for c in ((255, 0, 0), (0, 255, 0))]
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:])
    la = Image.new("LA", (48, 36), (100, 0))
    return {"cmyk": cmyk, "16bit": encode(sixteen, "PNG"), "palette": encode(pal, "PNG"),
            "animated": gif.getvalue(), "la": encode(la, "PNG")}


def scene(width: int, height: int, seed: int = 0) -> Image.Image:
    """Overlapping soft-edged discs of random colours: distinct pictures per seed, with the
    structure perceptual hashes are made for (the smooth `photo` gradients are near-alike)."""
    import cv2

    rng = np.random.default_rng(seed)
    arr = np.zeros((height, width, 3), np.uint8)
    for _ in range(12):
        colour = tuple(int(v) for v in rng.integers(0, 255, 3))
        centre = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        cv2.circle(arr, centre, int(rng.integers(max(2, width // 30), max(3, width // 5))), colour, -1)
    return Image.fromarray(cv2.GaussianBlur(arr, (5, 5), 2), "RGB")
