"""Token layout of one image in a Llama-4-style early-fusion stream (docs/design.md, "Llama 4").

<|image_start|>
  [if rows*cols > 1: per row, its tiles' 144 <|patch|> blocks joined by <|tile_x_separator|>,
   then <|tile_y_separator|>]
  <|image|> + 144 <|patch|>          (the global tile, or the only tile)
<|image_end|>
"""

from __future__ import annotations

import numpy as np

from vision_prep.llama4 import PATCH_TOKENS_PER_TILE


def image_token_count(rows: int, cols: int, per_tile: int = PATCH_TOKENS_PER_TILE) -> int:
    n = rows * cols
    if n == 1:
        return per_tile + 3
    return per_tile * (n + 1) + n + 3


def image_token_ids(rows: int, cols: int, special_ids: dict[str, int],
                    per_tile: int = PATCH_TOKENS_PER_TILE) -> list[int]:
    return image_token_array(rows, cols, special_ids, per_tile).tolist()


def image_token_array(rows: int, cols: int, special_ids: dict[str, int],
                      per_tile: int = PATCH_TOKENS_PER_TILE) -> np.ndarray:
    if rows < 1 or cols < 1:
        raise ValueError(f"grid must be at least 1x1, got {rows}x{cols}")
    s = special_ids
    patch = s["<|patch|>"]
    out = np.empty(image_token_count(rows, cols, per_tile), dtype=np.uint32)
    out[0] = s["<|image_start|>"]
    i = 1
    if rows * cols > 1:
        for _ in range(rows):
            for c in range(cols):
                out[i:i + per_tile] = patch
                i += per_tile
                if c < cols - 1:
                    out[i] = s["<|tile_x_separator|>"]
                    i += 1
            out[i] = s["<|tile_y_separator|>"]
            i += 1
    out[i] = s["<|image|>"]
    out[i + 1:i + 1 + per_tile] = patch
    out[-1] = s["<|image_end|>"]
    assert i + 1 + per_tile == len(out) - 1
    return out
