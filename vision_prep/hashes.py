"""64-bit hashes of pictures that survive re-encoding and rescaling, for dedup.

- `phash`: the DCT hash of imagehash / pHash (images). Grey 32x32 thumbnail, 2-D DCT, the
  8x8 lowest frequencies, one bit per coefficient above their median.
- `dhash`: the difference hash (video frames, where it is cheaper and as stable): grey 9x8
  thumbnail, one bit per left < right neighbour pair.

Re-encoding, rescaling and mild colour changes move few bits; a different picture differs in
about half. Compare two hashes with `hamming`.
"""

from __future__ import annotations

import cv2
import numpy as np

_N = 32


def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    return np.cos(np.pi * (2 * i + 1) * k / (2 * n))


_DCT = _dct_matrix(_N)


def phash(image) -> int:
    """`image`: RGB or grey array, or a PIL image."""
    arr = np.asarray(image)
    grey = arr if arr.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(arr[..., :3]), cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, (_N, _N), interpolation=cv2.INTER_AREA).astype(np.float64)
    low = (_DCT @ small @ _DCT.T)[:8, :8].ravel()
    bits = low > np.median(low)
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def dhash(image: np.ndarray) -> int:
    """64-bit difference hash: grey 9x8 thumbnail, one bit per left < right neighbour pair.
    Survives re-encoding and rescaling; compare with `hamming`."""
    grey = image if image.ndim == 2 else cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (small[:, 1:] > small[:, :-1]).ravel()
    return int.from_bytes(np.packbits(bits).tobytes(), "big")


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def to_signed(h: int) -> int:
    """The unsigned 64-bit hash as the signed long Spark stores (same bits)."""
    return h - (1 << 64) if h >= 1 << 63 else h
