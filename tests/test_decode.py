"""Safe decoding: one reason per kind of bad input, bombs refused from the header, every mode
to RGB, EXIF orientation, first frame of animations."""

from __future__ import annotations

import io
import struct
import time
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from vision_prep.decode import REASONS, DecodedInfo, ImageRejected, decode_image


def encode(im: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def noisy_rgb(w: int = 160, h: int = 120, seed: int = 0) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8))


def reason(data: bytes, **kw) -> str:
    with pytest.raises(ImageRejected) as e:
        decode_image(data, **kw)
    assert e.value.reason in REASONS
    return e.value.reason


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(width: int, height: int) -> bytes:
    """A valid 1-bit greyscale PNG of all-zero rows: a few KB that inflate to width*height pixels."""
    rows = b"\x00" * (1 + (width + 7) // 8) * 1000
    z = zlib.compressobj(1)  # level 1: generating 900 Mpx of zeros takes 0.2 s instead of 0.4
    idat = b"".join(z.compress(rows[:len(rows) // 1000 * min(1000, height - i)])
                    for i in range(0, height, 1000)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat)
            + png_chunk(b"IEND", b""))


# ---------------------------------------------------------------- rejections

def test_empty():
    assert reason(b"") == "empty"


@pytest.mark.parametrize("data", [np.random.default_rng(1).bytes(5000), b"<html><body>not an image</body></html>",
                                  b"\x00" * 64, b"GIF"])
def test_unidentified(data):
    assert reason(data) == "unidentified"


def test_formats_outside_the_web_list_are_unidentified():
    assert reason(encode(noisy_rgb(), "PPM")) == "unidentified"
    assert reason(encode(noisy_rgb(), "TGA")) == "unidentified"


@pytest.mark.parametrize("progressive", [False, True])
@pytest.mark.parametrize("fraction", [0.002, 0.05, 0.3, 0.6, 0.95])
def test_truncated_jpeg(fraction, progressive):
    data = encode(noisy_rgb(400, 300), "JPEG", quality=90, progressive=progressive)
    assert reason(data[:max(3, int(len(data) * fraction))]) == "truncated"
    assert reason(data[:int(len(data) * fraction) or 3], draft=(100, 75)) == "truncated"


def test_jpeg_missing_only_its_end_marker_is_truncated():
    data = encode(noisy_rgb(), "JPEG")
    assert data.endswith(b"\xff\xd9")
    assert reason(data[:-2]) == "truncated"


@pytest.mark.parametrize("fraction", [0.001, 0.01, 0.3, 0.6, 0.95])
def test_truncated_png(fraction):
    data = encode(noisy_rgb(400, 300), "PNG")
    assert reason(data[:int(len(data) * fraction)]) == "truncated"


@pytest.mark.parametrize("fmt", ["GIF", "WEBP", "BMP", "TIFF"])
def test_truncated_other_formats(fmt):
    im = noisy_rgb(200, 150)
    data = encode(im.convert("P") if fmt == "GIF" else im, fmt)
    assert reason(data[:len(data) // 2]) == "truncated"


def test_png_with_garbage_pixel_data_is_corrupt():
    # A valid header and a correctly checksummed IDAT whose content is not a zlib stream.
    good = encode(noisy_rgb(64, 48), "PNG")
    start = good.index(b"IDAT") - 4
    (length,) = struct.unpack(">I", good[start:start + 4])
    garbage = np.random.default_rng(2).bytes(length)
    data = good[:start] + png_chunk(b"IDAT", garbage) + good[start + 12 + length:]
    assert reason(data) == "corrupt"


def test_jpeg_with_broken_headers_is_corrupt():
    good = encode(noisy_rgb(), "JPEG")
    sos = good.index(b"\xff\xda")
    bad_scan = bytearray(good)
    bad_scan[sos + 4:sos + 12] = b"\x09" * 8  # scan header names components that do not exist
    assert reason(bytes(bad_scan)) == "corrupt"
    dht = good.index(b"\xff\xc4")
    bad_table = bytearray(good)
    bad_table[dht + 4:dht + 40] = b"\xff" * 36  # Huffman table with impossible code counts
    assert reason(bytes(bad_table)) == "corrupt"


def test_decompression_bomb_refused_from_header_without_allocating(monkeypatch):
    allocations = []
    original = ImageFile.ImageFile.load_prepare
    monkeypatch.setattr(ImageFile.ImageFile, "load_prepare",
                        lambda self: (allocations.append(self.size), original(self))[1])
    # 9000x9000 = 81 Mpx: above our 64 Mpx default, below Pillow's own warning threshold, so
    # only our check stands between this 10 KB file and a 243 MB RGB buffer.
    small_bomb = png_bomb(9000, 9000)
    assert len(small_bomb) < 100_000
    # 30000x30000 = 900 Mpx: Pillow's DecompressionBombError fires inside Image.open.
    big_bomb = png_bomb(30000, 30000)
    assert len(big_bomb) < 1_000_000
    for data in (small_bomb, big_bomb):
        start = time.perf_counter()
        assert reason(data) == "too_many_pixels"
        assert time.perf_counter() - start < 0.5
    assert allocations == []


def test_max_pixels_is_the_callers_limit():
    data = encode(noisy_rgb(100, 100), "PNG")
    assert reason(data, max_pixels=9_999) == "too_many_pixels"
    img, info = decode_image(data, max_pixels=10_000)
    assert img.size == (100, 100)


def test_load_truncated_images_is_left_false_and_enforced(monkeypatch):
    decode_image(encode(noisy_rgb(), "JPEG"))
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(RuntimeError, match="LOAD_TRUNCATED_IMAGES"):
        decode_image(encode(noisy_rgb(), "JPEG")[:500])


def test_rejection_reasons_are_the_documented_ones():
    assert REASONS == ("empty", "unidentified", "too_many_pixels", "truncated", "corrupt",
                       "unsupported_mode")
    with pytest.raises(ValueError):
        ImageRejected("something_else")
    e = ImageRejected("corrupt", "detail")
    assert e.reason == "corrupt" and "detail" in str(e)


# ---------------------------------------------------------------- conversions

def test_exif_orientation_6_is_rotated_upright():
    # Stored 40 wide x 20 tall, left half red, right half blue. Orientation 6 means "rotate 90
    # degrees clockwise to view": upright it is 20 wide x 40 tall with red on top.
    stored = Image.new("RGB", (40, 20), (255, 0, 0))
    stored.paste((0, 0, 255), (20, 0, 40, 20))
    exif = Image.Exif()
    exif[0x0112] = 6
    img, info = decode_image(encode(stored, "JPEG", quality=95, exif=exif))
    assert img.size == (20, 40) and (info.width, info.height) == (20, 40)
    a = np.asarray(img).astype(int)
    assert a[5, 10, 0] > 200 and a[5, 10, 2] < 60    # top: red
    assert a[35, 10, 2] > 200 and a[35, 10, 0] < 60  # bottom: blue


def test_draft_is_in_upright_coordinates_and_info_keeps_full_size():
    exif = Image.Exif()
    exif[0x0112] = 6
    data = encode(noisy_rgb(1600, 800), "JPEG", exif=exif)  # upright: 800 wide, 1600 tall
    img, info = decode_image(data, draft=(200, 400))
    assert img.size == (200, 400)  # 1/4 scale, rotated
    assert (info.width, info.height) == (800, 1600)
    img, _ = decode_image(data, draft=(300, 400))  # 800 // 300 = 2: only half scale allowed
    assert img.size == (400, 800)


def test_draft_ignored_for_non_jpeg():
    img, info = decode_image(encode(noisy_rgb(400, 300), "PNG"), draft=(50, 50))
    assert img.size == (400, 300)


def test_cmyk_jpeg():
    cmyk = Image.new("CMYK", (32, 32), (255, 0, 0, 0))  # pure cyan ink
    img, info = decode_image(encode(cmyk, "JPEG", quality=95))
    assert info.mode == "CMYK" and img.mode == "RGB"
    r, g, b = np.asarray(img)[16, 16].astype(int)
    assert r < 20 and g > 235 and b > 235


def test_sixteen_bit_png_is_scaled_not_clipped():
    values = np.array([[0, 1000, 32768, 65535]], dtype=np.uint16)
    data = encode(Image.fromarray(values), "PNG")
    img, info = decode_image(data)
    assert info.mode == "I;16" and img.mode == "RGB"
    out = np.asarray(img)
    assert out[0, :, 0].tolist() == [0, 4, 128, 255]
    assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()


def test_palette_png_with_transparency_goes_onto_white():
    pal = Image.new("P", (4, 1))
    pal.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    pal.putdata([0, 1, 1, 0])
    img, info = decode_image(encode(pal, "PNG", transparency=0))
    assert info.mode == "P"
    assert np.asarray(img)[0].tolist() == [[255, 255, 255], [255, 0, 0], [255, 0, 0], [255, 255, 255]]


def test_la_png():
    la = Image.fromarray(np.array([[[0, 0], [0, 255], [0, 128]]], dtype=np.uint8), "LA")
    img, info = decode_image(encode(la, "PNG"))
    assert info.mode == "LA"
    out = np.asarray(img)[0, :, 0].tolist()
    assert out[0] == 255 and out[1] == 0 and abs(out[2] - 127) <= 1


def test_rgba_png_transparent_pixel_becomes_white():
    rgba = Image.new("RGBA", (2, 1), (10, 20, 30, 255))
    rgba.putpixel((1, 0), (10, 20, 30, 0))
    img, info = decode_image(encode(rgba, "PNG"))
    assert info.mode == "RGBA"
    assert np.asarray(img)[0].tolist() == [[10, 20, 30], [255, 255, 255]]


@pytest.mark.parametrize("mode", ["L", "1", "I", "F"])
def test_other_modes_become_rgb(mode):
    grey = Image.fromarray(np.array([[0, 100, 255]], dtype=np.uint8), "L")
    fmt = "TIFF" if mode in ("I", "F") else "PNG"
    img, info = decode_image(encode(grey.convert(mode, dither=Image.Dither.NONE), fmt))
    assert info.mode == mode and img.mode == "RGB"
    out = np.asarray(img)[0, :, 0].tolist()
    if mode == "1":
        assert out == [0, 0, 255]  # thresholded at 128, no dithering
    elif mode == "I":
        assert out == [0, 0, 1]  # "I" carries 16-bit data: 255 of 65535 is ~1 of 255
    else:
        assert out == [0, 100, 255]


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"])
def test_animation_gives_first_frame(fmt):
    frames = [Image.new("RGB", (24, 24), c) for c in [(255, 0, 0), (0, 0, 255), (0, 255, 0)]]
    data = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0,
                  **({"lossless": True} if fmt == "WEBP" else {}))
    img, info = decode_image(data)
    assert info.n_frames == 3 and info.format == fmt
    assert np.asarray(img)[12, 12].tolist() == [255, 0, 0]


@pytest.mark.parametrize("size", [(1, 1), (1, 20000), (20000, 1)])
def test_degenerate_sizes_decode(size):
    img, info = decode_image(encode(noisy_rgb(*size), "PNG"))
    assert img.size == size and (info.width, info.height) == size


def test_info_fields():
    data = encode(noisy_rgb(64, 48), "JPEG")
    img, info = decode_image(data)
    assert info == DecodedInfo(width=64, height=48, format="JPEG", mode="RGB", n_frames=1, bytes=len(data))


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_broken_exif_does_not_reject_the_image():
    data = encode(noisy_rgb(64, 48), "JPEG", exif=b"Exif\x00\x00II*\x00\xff\xff\xff\x7fgarbage")
    img, info = decode_image(data)
    assert img.size == (64, 48)

