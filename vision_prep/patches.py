"""Tiles <-> flattened ViT patches (Llama 4: 14x14 patches, 24x24 of them per 336 tile).

Layout of `to_patches(tiles)[t, p, k]`:
  t  tile index, as in the tiles array (grid tiles row-major, then the global tile);
  p  patch index within the tile, row-major: p = patch_row * (T // patch) + patch_col;
  k  pixel within the patch, HWC-flattened: k = (row * patch + col) * 3 + channel.
Note that Llama 4's own patch embedding (nn.Unfold then Linear) flattens a patch
channel-first, (channel, row, col); a consumer feeding those weights must permute k.
"""

from __future__ import annotations

import numpy as np

from vision_prep.llama4 import PATCH_SIZE as PATCH
from vision_prep.llama4 import TILE_SIZE


def to_patches(tiles: np.ndarray, patch: int = PATCH) -> np.ndarray:
    """uint8 [n, 3, T, T] tiles -> [n, (T/patch)^2, patch*patch*3] patches (layout above)."""
    n, channels, side = _tile_dims(tiles.shape, patch)
    g = side // patch
    # Axes after the reshape: n, channel, patch_row, row, patch_col, col.
    blocks = tiles.reshape(n, channels, g, patch, g, patch).transpose(0, 2, 4, 3, 5, 1)
    return np.ascontiguousarray(blocks).reshape(n, g * g, patch * patch * channels)


def from_patches(patches: np.ndarray, tile_size: int = TILE_SIZE, patch: int = PATCH) -> np.ndarray:
    """Exact inverse of `to_patches`: [n, (T/patch)^2, patch*patch*3] -> [n, 3, T, T]."""
    if tile_size % patch:
        raise ValueError(f"tile_size {tile_size} is not a multiple of patch {patch}")
    g = tile_size // patch
    if patches.ndim != 3 or patches.shape[1:] != (g * g, patch * patch * 3):
        raise ValueError(f"patches of shape {patches.shape} do not fit tile {tile_size}, patch {patch}")
    n = patches.shape[0]
    blocks = patches.reshape(n, g, g, patch, patch, 3).transpose(0, 5, 1, 3, 2, 4)
    return np.ascontiguousarray(blocks).reshape(n, 3, tile_size, tile_size)


def _tile_dims(shape: tuple[int, ...], patch: int) -> tuple[int, int, int]:
    if len(shape) != 4 or shape[1] != 3 or shape[2] != shape[3]:
        raise ValueError(f"expected tiles of shape [n, 3, T, T], got {shape}")
    if shape[2] % patch:
        raise ValueError(f"tile size {shape[2]} is not a multiple of patch {patch}")
    return shape[0], shape[1], shape[2]
