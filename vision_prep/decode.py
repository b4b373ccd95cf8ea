"""Decode untrusted image bytes into an upright RGB Pillow image, or reject them with a reason.

Every failure is an `ImageRejected` whose `reason` is one of `REASONS`; callers count drops by
reason, so the strings are stable. The pixel limit is checked from the header, before any pixel
memory exists, and does not depend on Pillow's global `MAX_IMAGE_PIXELS` (which we never touch;
Pillow's own bomb error still applies on top and maps to the same reason).
"""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFile, ImageOps, JpegImagePlugin

from vision_prep.rejected import Rejected

MAX_PIXELS = 64_000_000

REASONS = (
    "empty",             # zero bytes
    "unidentified",      # not one of FORMATS
    "too_many_pixels",   # header declares more than max_pixels (decompression bomb guard)
    "truncated",         # the data ends before the image does
    "corrupt",           # a known format whose header or pixel data cannot be decoded
    "unsupported_mode",  # decoded, but its pixel mode has no conversion to RGB
)

# Formats seen on the web. Anything else is "unidentified": Pillow's long tail (EPS runs
# Ghostscript, TGA has no magic number so random bytes can parse as one) is attack surface
# with no upside for pretraining data.
FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF", "ICO", "AVIF")

_SIXTEEN_BIT = ("I;16", "I;16B", "I;16L", "I;16N")
_ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")
_TRANSPOSED_ORIENTATIONS = (5, 6, 7, 8)  # EXIF orientations that swap width and height

DraftFor = Callable[[int, int], "tuple[int, int] | None"]


class ImageRejected(Rejected):
    """An image that cannot be used; `reason` is one of `REASONS`."""

    REASONS = REASONS


@dataclass
class DecodedInfo:
    """What the input was: size after EXIF orientation, before any draft reduction."""

    width: int
    height: int
    format: str
    mode: str
    n_frames: int
    bytes: int


class _Stream(io.BytesIO):
    """Remembers whether a read came back short, i.e. whether a parser ran off the end of the
    data; that is what separates a header cut short (truncated) from a garbled one (corrupt)."""

    short_read = False

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        if size is not None and size > 0 and len(chunk) < size:
            self.short_read = True
        return chunk


def decode_image(data: bytes, max_pixels: int = MAX_PIXELS,
                 draft: tuple[int, int] | None = None) -> tuple[Image.Image, DecodedInfo]:
    """Decode `data` to an upright RGB image (first frame; alpha composited onto white).

    `draft` = (width, height) of the upright image the caller needs at least; for JPEGs it is
    handed to `Image.draft` (swapped when EXIF says the image is stored rotated), so libjpeg's
    DCT scaling decodes at 1/2, 1/4 or 1/8 size without going below it. The returned image is
    then smaller than `DecodedInfo.width/height`, which always describe the full image.

    Raises `ImageRejected` for bad input and RuntimeError if some other code has set
    `PIL.ImageFile.LOAD_TRUNCATED_IMAGES`, which would make truncated files decode silently.
    """
    return decode_with_draft(data, max_pixels, None if draft is None else (lambda w, h: draft))


def decode_with_draft(data: bytes, max_pixels: int = MAX_PIXELS,
                      draft_for: DraftFor | None = None) -> tuple[Image.Image, DecodedInfo]:
    """`decode_image`, but the draft size is computed from the header's upright (width, height):
    callers that size their output from the image (tiling) need the size before the decode."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES is True (set by other code); "
                           "truncated images would decode with grey fill instead of being rejected")
    if not data:
        raise ImageRejected("empty")
    stream = _Stream(data)
    im = _open(stream, data)
    try:
        rgb, info = _decode_opened(im, len(data), max_pixels, draft_for)
    except (ImageRejected, MemoryError):
        im.close()
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        im.close()
        raise ImageRejected("too_many_pixels", str(e)) from None
    except Exception as e:  # noqa: BLE001 - any parser error on untrusted bytes is a rejection
        im.close()
        raise ImageRejected(_load_failure_reason(e, data), _describe(e)) from None
    if rgb is not im:
        im.close()  # frees the pre-conversion pixels now rather than at garbage collection
    return rgb, info


def _open(stream: _Stream, data: bytes) -> ImageFile.ImageFile:
    try:
        return Image.open(stream, formats=_formats())
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageRejected("too_many_pixels", str(e)) from None
    except MemoryError:
        raise
    except Exception as e:  # noqa: BLE001 - Pillow's plugins raise many types on bad headers
        if not _recognised(data[:16]):
            reason = "unidentified"
        elif stream.short_read or _riff_truncated(data):
            reason = "truncated"
        else:
            reason = "corrupt"
        raise ImageRejected(reason, _describe(e)) from None


def _decode_opened(im: ImageFile.ImageFile, n_bytes: int, max_pixels: int,
                   draft_for: DraftFor | None) -> tuple[Image.Image, DecodedInfo]:
    width, height = im.size
    # Before load(): this is the whole point of the guard.
    if width * height > max_pixels:
        raise ImageRejected("too_many_pixels", f"{width}x{height} > {max_pixels}")
    fmt, mode = im.format or "", im.mode
    n_frames = int(getattr(im, "n_frames", 1))
    if draft_for is not None and isinstance(im, JpegImagePlugin.JpegImageFile):
        _apply_draft(im, width, height, draft_for)
    im.load()
    loaded_size = im.size
    _exif_transpose(im)
    if im.size != loaded_size:
        width, height = height, width
    rgb = to_rgb(im)
    return rgb, DecodedInfo(width=width, height=height, format=fmt, mode=mode,
                            n_frames=n_frames, bytes=n_bytes)


def _apply_draft(im: ImageFile.ImageFile, width: int, height: int, draft_for: DraftFor) -> None:
    transposed = _orientation(im) in _TRANSPOSED_ORIENTATIONS
    want = draft_for(height, width) if transposed else draft_for(width, height)
    if want is not None:
        im.draft("RGB", (want[1], want[0]) if transposed else (want[0], want[1]))


def _orientation(im: Image.Image) -> int:
    try:
        return int(im.getexif().get(0x0112, 1))
    except Exception:  # noqa: BLE001 - unreadable EXIF means no usable orientation, not a bad image
        return 1


def _exif_transpose(im: Image.Image) -> None:
    try:
        ImageOps.exif_transpose(im, in_place=True)
    except Exception:  # noqa: BLE001 - as above: a broken EXIF block leaves the image as stored
        pass


def to_rgb(im: Image.Image) -> Image.Image:
    """Any decoded mode to 8-bit RGB: 16-bit scaled (not clipped), alpha onto white."""
    mode = im.mode
    if mode == "RGB":
        return im
    if mode in _SIXTEEN_BIT or mode == "I":
        return _grey_to_rgb(_scale_16bit(np.asarray(im)))
    if mode == "F":
        # No range convention exists for float images; Pillow's own F->L clips to 0..255.
        a = np.nan_to_num(np.asarray(im, dtype=np.float32), nan=0.0, posinf=255.0, neginf=0.0)
        return _grey_to_rgb(np.rint(np.clip(a, 0, 255)).astype(np.uint8))
    try:
        if mode in _ALPHA_MODES or "transparency" in im.info:
            return _onto_white(im.convert("RGBA"))
        return im.convert("RGB")
    except ValueError as e:
        raise ImageRejected("unsupported_mode", f"{mode}: {e}") from None


def _scale_16bit(a: np.ndarray) -> np.ndarray:
    # Round(v * 255 / 65535) == (v + 128) // 257: 0 -> 0, 65535 -> 255, no clipping at 255.
    # Mode "I" (int32) carries 16-bit data in Pillow's PNG/PGM/TIFF readers; clip to that range.
    v = np.clip(a.astype(np.int64), 0, 65535)
    return ((v + 128) // 257).astype(np.uint8)


def _grey_to_rgb(grey: np.ndarray) -> Image.Image:
    return Image.fromarray(np.ascontiguousarray(grey)).convert("RGB")


def _onto_white(rgba: Image.Image) -> Image.Image:
    out = Image.new("RGB", rgba.size, (255, 255, 255))
    out.paste(rgba, mask=rgba)  # the RGBA image as mask means "use its alpha"
    return out


def _load_failure_reason(e: Exception, data: bytes) -> str:
    # Pillow reports running out of data as EOFError or as an OSError/SyntaxError that says so
    # ("image file is truncated", "truncated PNG file", "APNG contains truncated ...").
    if isinstance(e, EOFError) or "truncated" in str(e).lower() or _riff_truncated(data):
        return "truncated"
    return "corrupt"


def _describe(e: Exception) -> str:
    if isinstance(e, Image.UnidentifiedImageError):
        return "no format accepted the header"  # Pillow's text embeds the stream's address
    return f"{type(e).__name__}: {e}"


def _riff_truncated(data: bytes) -> bool:
    """WebP (RIFF) states its length up front; libwebp only says "could not create decoder"."""
    return data[:4] == b"RIFF" and len(data) >= 8 and int.from_bytes(data[4:8], "little") + 8 > len(data)


@functools.cache
def _formats() -> tuple[str, ...]:
    Image.init()
    return tuple(f for f in FORMATS if f in Image.OPEN)


def _recognised(prefix: bytes) -> bool:
    """Does the data start like one of our formats? (Pillow's own magic-number checks.)"""
    for fmt in _formats():
        accept = Image.OPEN[fmt][1]
        if accept is not None and accept(prefix):
            return True
    return False
