"""Llama 4 image tiling: pick a canvas of 336x336 tiles, resize without distortion, pad, split.

Follows Meta's and Hugging Face's Llama 4 image processor: canvases are every rows x cols grid
with at most `max_tiles` tiles; the chosen one needs the least upscaling (or, when every canvas
needs downscaling, the least downscaling), ties going to the smallest canvas. The image is never
upscaled past its own size except that a side shorter than a tile grows to one tile. The resized
image sits top-left on a black canvas, which is cut row-major into tiles; with more than one
tile a global tile (the whole image squashed to tile x tile) comes last.

Mode "exact" is Pillow bilinear on the full decoded image: the reference. Mode "fast" lets the
JPEG decoder do the first power-of-two reduction (`Image.draft`) and Pillow's `reducing_gap` do
the rest of any large reduction; its tiles stay at or above 38 dB PSNR against exact mode's.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image

from vision_prep.decode import MAX_PIXELS, DecodedInfo, decode_with_draft
from vision_prep.llama4 import MAX_TILES, TILE_SIZE, patch_tokens_per_tile

MODES = ("exact", "fast")
# Fast mode: box-reduce by the integer part of the scale, then bilinear over the last factor
# (< 2). 1.0 is Pillow's most aggressive setting; PSNR vs exact stays near 50 dB on photos.
FAST_REDUCING_GAP = 1.0


@dataclass(frozen=True)
class TilePlan:
    """Where an image of a given size goes: grid, resized size, canvas, tile count."""

    rows: int
    cols: int
    resized_height: int
    resized_width: int
    n_tiles: int  # rows * cols, plus the global tile when there is more than one
    tile_size: int
    canvas_height: int
    canvas_width: int

    @property
    def grid_tiles(self) -> int:
        return self.rows * self.cols

    @property
    def has_global_tile(self) -> bool:
        return self.grid_tiles > 1

    @property
    def n_image_tokens(self) -> int:
        """Tokens the image takes in a Llama 4 sequence: 14x14 patches, 2x2 pixel shuffle, so
        (tile/28)^2 per tile (144 at 336), plus <|image_start|>, <|image|>, <|image_end|> and
        one tile separator per grid tile: 147 for one tile, 144*(n+1)+n+3 for n > 1."""
        per_tile = patch_tokens_per_tile(self.tile_size)
        if not self.has_global_tile:
            return per_tile + 3
        return per_tile * (self.grid_tiles + 1) + self.grid_tiles + 3


@lru_cache(maxsize=8)
def _canvases(max_tiles: int) -> tuple[tuple[int, int], ...]:
    """(rows, cols) grids in the order of HF's `find_supported_resolutions` (tile count
    descending, then grouped by aspect ratio), so that exact ties resolve the same way."""
    by_ratio: dict[float, list[tuple[int, int]]] = {}
    for n in range(max_tiles, 0, -1):
        for rows in (d for d in range(1, n + 1) if n % d == 0):
            by_ratio.setdefault(rows / (n // rows), []).append((rows, n // rows))
    return tuple(grid for grids in by_ratio.values() for grid in grids)


def _best_grid(height: int, width: int, tile: int, max_tiles: int) -> tuple[int, int]:
    # Float division is as good as exact rationals here: distinct scales c*tile/W and r*tile/H
    # differ relatively by >= 1/(c*tile*H), far above float64 rounding for any real image
    # size, and equal ones round identically. (HF uses float32, where huge images could in
    # principle see two scales merge; a sweep of sides up to 6000 found none.)
    scored = [(min(cols * tile / width, rows * tile / height), rows * cols, (rows, cols))
              for rows, cols in _canvases(max_tiles)]
    upscales = [s for s in scored if s[0] >= 1]
    if upscales:
        scale = min(s[0] for s in upscales)
    else:
        scale = max(s[0] for s in scored)
    # min() keeps the first of equal areas, i.e. HF's argmin over its candidate order.
    return min((s for s in scored if s[0] == scale), key=lambda s: s[1])[2]


def _fit(height: int, width: int, box_height: int, box_width: int) -> tuple[int, int]:
    """HF `get_max_res_without_distortion`, float rounding included (floor of a float product,
    which can be one below the exact quotient), so sizes match the reference processor."""
    scale_w = box_width / width
    scale_h = box_height / height
    if scale_w < scale_h:
        new_w, new_h = box_width, min(math.floor(height * scale_w), box_height)
    else:
        new_h, new_w = box_height, min(math.floor(width * scale_h), box_width)
    return max(new_h, 1), max(new_w, 1)


@lru_cache(maxsize=65536)
def plan(height: int, width: int, tile_size: int = TILE_SIZE, max_tiles: int = MAX_TILES) -> TilePlan:
    """The Llama 4 tiling of a `height` x `width` image."""
    if height < 1 or width < 1:
        raise ValueError(f"image size must be positive, got {height}x{width}")
    if max_tiles < 1 or tile_size < 1:
        raise ValueError(f"tile_size and max_tiles must be >= 1, got {tile_size}, {max_tiles}")
    rows, cols = _best_grid(height, width, tile_size, max_tiles)
    canvas_h, canvas_w = rows * tile_size, cols * tile_size
    # Never upscale past the image's own size, except a side shorter than one tile.
    box_h = min(max(height, tile_size), canvas_h)
    box_w = min(max(width, tile_size), canvas_w)
    new_h, new_w = _fit(height, width, box_h, box_w)
    grid = rows * cols
    return TilePlan(rows=rows, cols=cols, resized_height=new_h, resized_width=new_w,
                    n_tiles=grid + (1 if grid > 1 else 0), tile_size=tile_size,
                    canvas_height=canvas_h, canvas_width=canvas_w)


def tile_image(image: Image.Image | np.ndarray, tile_size: int = TILE_SIZE,
               max_tiles: int = MAX_TILES, mode: str = "exact") -> tuple[np.ndarray, TilePlan]:
    """Tiles of an RGB image as uint8 [n_tiles, 3, tile, tile] (global tile last), and the plan."""
    _check_mode(mode)
    img = _as_rgb_image(image)
    p = plan(img.height, img.width, tile_size, max_tiles)
    return _tiles(img, p, mode), p


def tile_image_bytes(data: bytes, tile_size: int = TILE_SIZE, max_tiles: int = MAX_TILES,
                     mode: str = "exact", max_pixels: int = MAX_PIXELS
                     ) -> tuple[np.ndarray, TilePlan, DecodedInfo]:
    """Decode (see `decode.decode_image`, which raises `ImageRejected`) and tile.

    In fast mode JPEGs are decoded with `Image.draft` at the smallest DCT scale that still
    covers what the plan needs: the resized size and, for the global tile, one tile per side.
    """
    _check_mode(mode)
    draft_for = None
    if mode == "fast":
        def draft_for(width: int, height: int) -> tuple[int, int]:
            return draft_size(plan(height, width, tile_size, max_tiles))

        fast = _fast_jpeg(data, tile_size, max_tiles, max_pixels)
        if fast is not None:
            return fast
    image, info = decode_with_draft(data, max_pixels, draft_for)
    p = plan(info.height, info.width, tile_size, max_tiles)
    return _tiles(image, p, mode), p, info


def _fast_jpeg(data: bytes, tile_size: int, max_tiles: int, max_pixels: int):
    """Fast mode for plain JPEGs (most web images): scaled decode straight to an array."""
    decoded = scaled_jpeg_decode(data, lambda w, h: draft_size(plan(h, w, tile_size, max_tiles)),
                                 max_pixels)
    if decoded is None:
        return None
    arr, info = decoded
    p = plan(info.height, info.width, tile_size, max_tiles)
    return _fast_tiles(arr, p, bgr=True), p, info


def reassemble(tiles: np.ndarray, tile_plan: TilePlan) -> np.ndarray:
    """The resized image (resized_height x resized_width x 3) cut back out of the grid tiles."""
    p, t = tile_plan, tile_plan.tile_size
    if tiles.shape != (p.n_tiles, 3, t, t):
        raise ValueError(f"tiles of shape {tiles.shape} do not match the plan "
                         f"({p.n_tiles}, 3, {t}, {t})")
    canvas = (tiles[:p.grid_tiles].reshape(p.rows, p.cols, 3, t, t)
              .transpose(0, 3, 1, 4, 2).reshape(p.canvas_height, p.canvas_width, 3))
    return np.ascontiguousarray(canvas[:p.resized_height, :p.resized_width])


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")


def _as_rgb_image(image: Image.Image | np.ndarray) -> Image.Image:
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"expected an HxWx3 uint8 array, got {image.dtype} {image.shape}")
        return Image.fromarray(image)
    if image.mode != "RGB":
        raise ValueError(f"expected an RGB image, got mode {image.mode} (decode_image converts)")
    return image


def draft_size(p: TilePlan) -> tuple[int, int]:
    """(width, height) a draft decode must not go below: the resized image, and one tile per
    side when the global tile is squashed from the same decoded image."""
    if p.has_global_tile:
        return max(p.resized_width, p.tile_size), max(p.resized_height, p.tile_size)
    return p.resized_width, p.resized_height


def _fast_tiles(src: np.ndarray, p: TilePlan, bgr: bool = False) -> np.ndarray:
    """Fast mode after a scaled decode: OpenCV's bilinear resize, several times cheaper than
    Pillow's, which otherwise cost more than the decode itself.

    OpenCV's bilinear samples 2x2 neighbours without widening the filter when shrinking, so
    a shrink of 2x or more left after the scaled decode is first done by integer area
    averaging; what remains (under 2x) stays well above the 38 dB PSNR bar against exact mode.
    `src` is HxWx3 uint8, RGB or (from OpenCV's decoder) BGR.
    """
    import cv2

    cv2.setNumThreads(1)  # a Spark task owns one core
    t = p.tile_size
    h, w = src.shape[:2]
    k = min(w // p.resized_width, h // p.resized_height)
    if k >= 2:
        src = cv2.resize(src, (w // k, h // k), interpolation=cv2.INTER_AREA)
        h, w = src.shape[:2]
    size = (p.resized_width, p.resized_height)
    resized = src if (w, h) == size else cv2.resize(src, size, interpolation=cv2.INTER_LINEAR)
    out = np.zeros((p.n_tiles, 3, t, t), dtype=np.uint8)
    # One strided copy per tile from the interleaved image (measured faster than splitting
    # into planes first); BGR is turned into RGB by the same copy.
    planar = resized.transpose(2, 0, 1)
    if bgr:
        planar = planar[::-1]
    for r in range(p.rows):
        for c in range(p.cols):
            block = planar[:, r * t:(r + 1) * t, c * t:(c + 1) * t]
            out[r * p.cols + c, :, :block.shape[1], :block.shape[2]] = block
    if p.has_global_tile:
        source = resized if all(r >= min(t, o) for r, o in zip(size, (w, h))) else src
        sh, sw = source.shape[:2]
        k = min(sw // t, sh // t)
        if k >= 2:  # integer area step first: cheap, and it keeps the squash from aliasing
            source = cv2.resize(source, (sw // k, sh // k), interpolation=cv2.INTER_AREA)
        g = cv2.resize(source, (t, t), interpolation=cv2.INTER_LINEAR).transpose(2, 0, 1)
        out[-1] = g[::-1] if bgr else g
    return out


_CV2_REDUCED = {1: "IMREAD_COLOR", 2: "IMREAD_REDUCED_COLOR_2", 4: "IMREAD_REDUCED_COLOR_4",
                8: "IMREAD_REDUCED_COLOR_8"}


def scaled_jpeg_decode(data: bytes, need, max_pixels: int = MAX_PIXELS
                       ) -> tuple[np.ndarray, DecodedInfo] | None:
    """Fast mode's decoder for plain JPEGs: libjpeg-turbo's DCT scaling via OpenCV, straight
    into a NumPy array (BGR), at the largest 1/2, 1/4, 1/8 reduction still covering
    `need(width, height) -> (min_width, min_height)`. None when the image is not a plain
    upright 8-bit colour or grey JPEG; the caller then takes the strict Pillow path. The
    header is read by Pillow first, so the pixel cap holds before any decoding.
    """
    import cv2

    try:
        with Image.open(io.BytesIO(data), formats=["JPEG"]) as im:
            w, h = im.size
            mode = im.mode
            # Orientation tag: rotated images take the strict path, which applies it.
            rotated = im.getexif().get(0x0112, 1) != 1
    except Exception:  # noqa: BLE001 - not a JPEG Pillow can read: the strict path decides
        return None
    if mode not in ("RGB", "L") or w * h > max_pixels or rotated:
        return None
    nw, nh = need(w, h)
    # Full size when even that is below what is needed (small images grow to a tile).
    factor = max((f for f in (2, 4, 8) if -(-w // f) >= nw and -(-h // f) >= nh), default=1)
    flags = getattr(cv2, _CV2_REDUCED[factor]) | cv2.IMREAD_IGNORE_ORIENTATION
    arr = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if arr is None or arr.ndim != 3:
        return None
    return arr, DecodedInfo(width=w, height=h, format="JPEG", mode=mode, n_frames=1, bytes=len(data))


def _tiles(img: Image.Image, p: TilePlan, mode: str) -> np.ndarray:
    """Tiles for plan `p` from `img`, which is the full image or (fast mode) a draft-reduced one."""
    if mode == "fast":
        return _fast_tiles(np.asarray(img), p)
    t = p.tile_size
    resized = _resize(img, (p.resized_width, p.resized_height), mode)
    # Zeroed output: the black padding is whatever the per-tile copies below do not cover.
    out = np.zeros((p.n_tiles, 3, t, t), dtype=np.uint8)
    # Pillow's split() gives planar channels, so every copy below is of contiguous rows
    # (faster than transposing interleaved RGB tile by tile).
    for ch, plane in enumerate(np.asarray(band) for band in resized.split()):
        for r in range(p.rows):
            for c in range(p.cols):
                block = plane[r * t:(r + 1) * t, c * t:(c + 1) * t]
                out[r * p.cols + c, ch, :block.shape[0], :block.shape[1]] = block
    if p.has_global_tile:
        out[-1] = np.asarray(_global_tile(img, resized, p, mode)).transpose(2, 0, 1)
    return out


def _resize(img: Image.Image, size: tuple[int, int], mode: str) -> Image.Image:
    if img.size == size:
        return img
    if mode == "fast":
        return img.resize(size, Image.BILINEAR, reducing_gap=FAST_REDUCING_GAP)
    return img.resize(size, Image.BILINEAR)


def _global_tile(img: Image.Image, resized: Image.Image, p: TilePlan, mode: str) -> Image.Image:
    t = p.tile_size
    source = img
    # The resized image is a cheaper source when it still has a tile's worth of pixels (or all
    # of the original's) along each side; otherwise squashing it would lose detail.
    if mode == "fast" and all(r >= min(t, o) for r, o in zip(resized.size, img.size)):
        source = resized
    return _resize(source, (t, t), mode)
