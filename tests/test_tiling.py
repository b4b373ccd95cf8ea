"""Llama 4 tiling: canvas choice, resize sizes, tile pixels, fast mode fidelity, patches."""

from __future__ import annotations

import io
import math
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from PIL import Image, ImageDraw

from vision_prep.decode import decode_image, decode_with_draft
from vision_prep.patches import from_patches, to_patches
from vision_prep.tiling import TilePlan, draft_size, plan, reassemble, tile_image, tile_image_bytes

T = 336

# (H, W) -> (rows, cols), (resized h, w), image tokens: Meta's / HF's worked examples.
EXAMPLES = [
    ((336, 336), (1, 1), (336, 336), 147),
    ((480, 640), (2, 2), (480, 640), 727),
    ((1080, 1920), (3, 5), (945, 1680), 2322),
    ((50, 50), (1, 1), (336, 336), 147),
]

SIZES = [(1, 1), (1, 10000), (10000, 1), (336, 336), (337, 337), (672, 672), (4000, 3000),
         (3000, 4000), (480, 640), (1080, 1920), (50, 50), (1, 336), (336, 1), (335, 335),
         (100, 1000), (1000, 100), (224, 224), (500, 375), (375, 500), (768, 1024), (1024, 768),
         (720, 1280), (1280, 720), (900, 1200), (1536, 2048), (2048, 1536), (2000, 3000),
         (3000, 2000), (6000, 4000), (4000, 6000), (8000, 8000), (20000, 1000), (1000, 20000),
         (20, 2000), (2000, 20), (337, 1), (673, 1345), (1344, 1344), (1345, 1344), (1008, 1680),
         (1009, 1681), (5376, 336), (336, 5376), (5377, 337), (123, 4567), (4567, 123),
         (999, 1001), (1920, 1080), (2160, 3840), (3840, 2160), (600, 800), (2944, 2208)]


# ---------------------------------------------------------------- reference implementations

def reference_grid(height: int, width: int, tile: int = T, max_tiles: int = 16) -> tuple[int, int]:
    """Brute force with exact rationals: rank every canvas by (upscale first, then the smallest
    upscale or the largest downscale), then by area; written independently of the library."""
    ranked = []
    for rows in range(1, max_tiles + 1):
        for cols in range(1, max_tiles + 1):
            if rows * cols > max_tiles:
                continue
            scale = min(Fraction(cols * tile, width), Fraction(rows * tile, height))
            key = (0, scale) if scale >= 1 else (1, -scale)
            ranked.append((key, rows * cols, (rows, cols)))
    ranked.sort(key=lambda x: (x[0], x[1]))
    assert len(ranked) < 2 or ranked[0][:2] != ranked[1][:2], "tie the spec does not resolve"
    return ranked[0][2]


def reference_resized(height: int, width: int, rows: int, cols: int, tile: int = T) -> tuple[int, int]:
    """HF `get_max_res_without_distortion` as specified (float scale, floored product)."""
    box_h = min(max(height, tile), rows * tile)
    box_w = min(max(width, tile), cols * tile)
    scale_w, scale_h = box_w / width, box_h / height
    if scale_w < scale_h:
        return max(1, math.floor(height * scale_w)), box_w
    return box_h, max(1, math.floor(width * scale_h))


def reference_tiles(img: Image.Image, tile: int = T, max_tiles: int = 16) -> np.ndarray:
    """Plain Pillow version of the spec: resize, paste on black, crop tiles, squash a global."""
    rows, cols = reference_grid(img.height, img.width, tile, max_tiles)
    h, w = reference_resized(img.height, img.width, rows, cols, tile)
    canvas = Image.new("RGB", (cols * tile, rows * tile), (0, 0, 0))
    canvas.paste(img.resize((w, h), Image.BILINEAR), (0, 0))
    crops = [canvas.crop((c * tile, r * tile, (c + 1) * tile, (r + 1) * tile))
             for r in range(rows) for c in range(cols)]
    if len(crops) > 1:
        crops.append(img.resize((tile, tile), Image.BILINEAR))
    return np.stack([np.asarray(c).transpose(2, 0, 1) for c in crops])


def photo_like(width: int, height: int, seed: int = 0) -> Image.Image:
    """Smooth gradients, hard-edged shapes and noise: what makes resampling filters differ."""
    rng = np.random.default_rng(seed)
    im = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8)).resize((width, height), Image.BICUBIC)
    draw = ImageDraw.Draw(im)
    short = min(width, height)
    for _ in range(25):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        r = int(rng.integers(short // 40, short // 6 + 2))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        shape = draw.ellipse if rng.random() < 0.5 else draw.rectangle
        shape([x - r, y - r // 2, x + r, y + r], fill=fill)
    noise = rng.integers(-10, 11, (height, width, 3), dtype=np.int8)
    return Image.fromarray(np.clip(np.asarray(im, dtype=np.int16) + noise, 0, 255).astype(np.uint8))


def jpeg(im: Image.Image, quality: int = 90, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=quality, **kw)
    return buf.getvalue()


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return math.inf if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


# ---------------------------------------------------------------- plan()

@pytest.mark.parametrize("size,grid,resized,tokens", EXAMPLES)
def test_plan_matches_llama4_examples(size, grid, resized, tokens):
    p = plan(*size)
    assert (p.rows, p.cols) == grid
    assert (p.resized_height, p.resized_width) == resized
    assert p.n_image_tokens == tokens
    assert p.n_tiles == (1 if grid == (1, 1) else grid[0] * grid[1] + 1)


@pytest.mark.parametrize("size", SIZES)
def test_plan_invariants_and_reference(size):
    h, w = size
    p = plan(h, w)
    assert (p.rows, p.cols) == reference_grid(h, w)
    assert (p.resized_height, p.resized_width) == reference_resized(h, w, p.rows, p.cols)
    assert p.grid_tiles == p.rows * p.cols <= 16
    assert (p.canvas_height, p.canvas_width, p.tile_size) == (p.rows * T, p.cols * T, T)
    assert 1 <= p.resized_height <= p.canvas_height and 1 <= p.resized_width <= p.canvas_width
    # Only sides shorter than a tile may grow, and then to at most one tile.
    assert p.resized_height <= max(h, T) and p.resized_width <= max(w, T)
    # Aspect ratio kept to within the one pixel lost by flooring the non-limiting side.
    assert abs(p.resized_height * w - p.resized_width * h) <= max(h, w)
    n = p.grid_tiles
    assert p.n_tiles == n + (n > 1)
    assert p.n_image_tokens == (147 if n == 1 else 144 * (n + 1) + n + 3)


def test_plan_over_a_grid_of_sizes_matches_brute_force():
    rng = np.random.default_rng(7)
    edges = sorted({1, 2, 335, 336, 337, 671, 672, 673, 5000,
                    *rng.integers(1, 5001, 20).tolist()})
    pairs = [(h, w) for h in edges for w in edges]
    pairs += [tuple(x) for x in rng.integers(1, 5001, (500, 2)).tolist()]
    mismatches = [(h, w) for h, w in pairs if (plan(h, w).rows, plan(h, w).cols) != reference_grid(h, w)]
    assert not mismatches, mismatches[:10]


@pytest.mark.parametrize("max_tiles,tile", [(1, 336), (4, 336), (6, 336), (9, 224), (64, 336)])
def test_plan_other_limits_match_brute_force(max_tiles, tile):
    rng = np.random.default_rng(max_tiles)
    for h, w in rng.integers(1, 4000, (150, 2)).tolist():
        p = plan(h, w, tile_size=tile, max_tiles=max_tiles)
        assert (p.rows, p.cols) == reference_grid(h, w, tile, max_tiles), (h, w)
        assert p.grid_tiles <= max_tiles


def test_plan_keeps_hf_float_rounding():
    # 2208 * (1344 / 2944) is 1007.999... in floating point; HF floors it to 1007, so do we.
    p = plan(2944, 2208)
    assert (p.rows, p.cols, p.resized_height, p.resized_width) == (4, 3, 1344, 1007)
    # Same on the other branch (width-limited): 552 * (2688 / 2944) -> 503, not 504.
    p = plan(552, 2944)
    assert (p.rows, p.cols, p.resized_height, p.resized_width) == (2, 8, 503, 2688)


@pytest.mark.parametrize("args", [(0, 10), (10, 0), (-1, 5), (10, 10, 336, 0), (10, 10, 0, 16)])
def test_plan_rejects_bad_arguments(args):
    with pytest.raises(ValueError):
        plan(*args)


def test_tile_plan_is_frozen():
    p = plan(480, 640)
    assert isinstance(p, TilePlan)
    with pytest.raises(AttributeError):
        p.rows = 3  # type: ignore[misc]


# ---------------------------------------------------------------- tile_image()

@pytest.mark.parametrize("size", [(1, 1), (50, 80), (336, 336), (337, 500), (480, 640), (300, 2000),
                                  (1200, 90), (1080, 1920)])
def test_exact_mode_matches_plain_pillow_reference(size):
    h, w = size
    img = photo_like(w, h, seed=h + w)
    tiles, p = tile_image(img)
    assert tiles.dtype == np.uint8 and tiles.shape == (p.n_tiles, 3, T, T)
    ref = reference_tiles(img)
    assert ref.shape == tiles.shape
    assert np.abs(tiles.astype(np.int16) - ref.astype(np.int16)).max() <= 1


def test_padding_is_black_and_image_area_is_not():
    img = Image.new("RGB", (700, 400), (255, 255, 255))  # -> 2x3 canvas, 400x700 resized
    tiles, p = tile_image(img)
    assert (p.rows, p.cols, p.resized_height, p.resized_width) == (2, 3, 400, 700)
    canvas = tiles[:6].reshape(2, 3, 3, T, T).transpose(0, 3, 1, 4, 2).reshape(2 * T, 3 * T, 3)
    assert (canvas[:400, :700] == 255).all()
    assert (canvas[400:] == 0).all() and (canvas[:, 700:] == 0).all()


@pytest.mark.parametrize("size", [(336, 336), (200, 300), (480, 640), (3000, 200)])
def test_global_tile_present_iff_grid_has_several_tiles(size):
    h, w = size
    img = photo_like(w, h, seed=3)
    tiles, p = tile_image(img)
    if p.grid_tiles == 1:
        assert tiles.shape[0] == 1
    else:
        assert tiles.shape[0] == p.grid_tiles + 1
        direct = np.asarray(img.resize((T, T), Image.BILINEAR)).transpose(2, 0, 1)
        assert np.array_equal(tiles[-1], direct)


def test_ndarray_input_same_as_pil_input():
    img = photo_like(500, 400, seed=4)
    a, pa = tile_image(np.asarray(img))
    b, pb = tile_image(img)
    assert pa == pb and np.array_equal(a, b)


def test_tile_image_rejects_wrong_inputs():
    with pytest.raises(ValueError):
        tile_image(Image.new("RGBA", (10, 10)))
    with pytest.raises(ValueError):
        tile_image(np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError):
        tile_image(Image.new("RGB", (10, 10)), mode="quick")


@pytest.mark.parametrize("size", [(1, 1), (5, 7), (336, 336), (400, 700), (1080, 1920), (20, 3000)])
@pytest.mark.parametrize("mode", ["exact", "fast"])
def test_reassemble_returns_the_resized_image(size, mode):
    h, w = size
    img = photo_like(w, h, seed=5)
    tiles, p = tile_image(img, mode=mode)
    back = reassemble(tiles, p)
    assert back.shape == (p.resized_height, p.resized_width, 3)
    if mode == "exact":
        assert np.array_equal(back, np.asarray(img.resize((p.resized_width, p.resized_height), Image.BILINEAR)))
    with pytest.raises(ValueError):
        reassemble(tiles[:-1] if len(tiles) > 1 else tiles[:, :2], p)


def test_tile_image_bytes_exact_equals_decode_then_tile():
    data = jpeg(photo_like(900, 700, seed=6))
    tiles, p, info = tile_image_bytes(data)
    img, _ = decode_image(data)
    expected, p2 = tile_image(img)
    assert p == p2 and np.array_equal(tiles, expected)
    assert (info.width, info.height, info.format, info.bytes) == (900, 700, "JPEG", len(data))


# ---------------------------------------------------------------- fast mode

def test_fast_mode_psnr_on_photo_like_jpegs():
    """Fast vs exact on photo-like JPEGs, q90: a 5.9 MP one (draft 1/2 and reducing_gap on the
    PIL path) and a 12 MP one stored sideways with EXIF orientation 6 (draft size swapped)."""
    cases = [(jpeg(photo_like(2800, 2100, seed=8)), (2100, 2800))]
    exif = Image.Exif()
    exif[0x0112] = 6
    cases.append((jpeg(photo_like(4000, 3000, seed=9), exif=exif), (4000, 3000)))
    for data, upright_hw in cases:
        exact, p, info = tile_image_bytes(data, mode="exact")
        fast, pf, info_f = tile_image_bytes(data, mode="fast")
        assert (info.height, info.width) == (info_f.height, info_f.width) == upright_hw
        assert p == pf and fast.shape == exact.shape
        assert psnr(fast, exact) >= 38, psnr(fast, exact)
        assert psnr(fast[-1], exact[-1]) >= 38  # the global tile on its own
        full, _ = decode_image(data)
        via_pil, _ = tile_image(full, mode="fast")
        assert psnr(via_pil, exact) >= 38


def test_fast_draft_never_goes_below_what_the_plan_needs():
    for (w, h), orientation in [((2800, 2100), 1), ((4000, 3000), 6), ((3000, 400), 1), ((5000, 700), 8)]:
        exif = Image.Exif()
        exif[0x0112] = orientation
        data = jpeg(Image.new("RGB", (w, h), (10, 200, 30)), exif=exif)
        seen = {}

        def need(width, height, seen=seen):
            seen["size"] = (width, height)
            return draft_size(plan(height, width))

        img, info = decode_with_draft(data, draft_for=need)
        assert seen["size"] == (info.width, info.height)  # asked in upright coordinates
        p = plan(info.height, info.width)
        # The resized image, and a full tile per side for the global tile squashed from it.
        floor = T if p.grid_tiles > 1 else 1
        need_w, need_h = max(p.resized_width, floor), max(p.resized_height, floor)
        assert img.width >= need_w and img.height >= need_h
        if info.width >= 2 * need_w and info.height >= 2 * need_h:  # and it reduced when it could
            assert img.width < info.width and img.height < info.height


def test_fast_mode_on_small_and_extreme_images_keeps_shapes():
    for w, h in [(1, 1), (30, 40), (5000, 60), (60, 5000)]:
        data = jpeg(photo_like(w, h, seed=w))
        exact, p, _ = tile_image_bytes(data, mode="exact")
        fast, pf, _ = tile_image_bytes(data, mode="fast")
        assert p == pf and fast.shape == exact.shape == (p.n_tiles, 3, T, T)
        assert psnr(fast, exact) >= 38


# ---------------------------------------------------------------- patches

def test_patches_shape_order_and_roundtrip():
    rng = np.random.default_rng(10)
    tiles = rng.integers(0, 256, (3, 3, T, T), dtype=np.uint8)
    patches = to_patches(tiles)
    assert patches.shape == (3, 576, 588) and patches.dtype == np.uint8
    for t, py, px in [(0, 0, 0), (1, 0, 23), (2, 23, 0), (2, 11, 17)]:
        block = tiles[t, :, py * 14:(py + 1) * 14, px * 14:(px + 1) * 14]  # (3, 14, 14)
        assert np.array_equal(patches[t, py * 24 + px], block.transpose(1, 2, 0).reshape(-1))
    # Element (row, col, channel) of a patch sits at (row * 14 + col) * 3 + channel.
    assert patches[2, 11 * 24 + 17, (5 * 14 + 9) * 3 + 1] == tiles[2, 1, 11 * 14 + 5, 17 * 14 + 9]
    assert np.array_equal(from_patches(patches), tiles)


def test_patches_other_sizes_and_errors():
    tiles = np.arange(2 * 3 * 28 * 28, dtype=np.uint32).astype(np.uint8).reshape(2, 3, 28, 28)
    patches = to_patches(tiles, patch=7)
    assert patches.shape == (2, 16, 147)
    assert np.array_equal(from_patches(patches, tile_size=28, patch=7), tiles)
    with pytest.raises(ValueError):
        to_patches(tiles, patch=5)
    with pytest.raises(ValueError):
        to_patches(tiles[:, :2])
    with pytest.raises(ValueError):
        from_patches(patches, tile_size=28, patch=14)


def test_vision_prep_imports_no_spark():
    code = ("import sys, vision_prep.tiling, vision_prep.patches, vision_prep.decode; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyspark', 'py4j')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
