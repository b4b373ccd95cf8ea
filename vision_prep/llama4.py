"""The Llama 4 early-fusion facts the pipeline is built on (Meta's and Hugging Face's
implementations; docs/design.md, "Llama 4"). Every other module takes them from here."""

from __future__ import annotations

TILE_SIZE = 336          # pixels per tile side
MAX_TILES = 16           # grid tiles per image, before the global tile
PATCH_SIZE = 14          # pixels per ViT patch side: 24x24 patches per tile
PIXEL_SHUFFLE_RATIO = 0.5  # each side of the patch grid halves: 24x24 -> 12x12 tokens
MAX_IMAGES_PER_SAMPLE = 48  # pre-training packed at most this many images into one sample


def patch_tokens_per_tile(tile_size: int = TILE_SIZE) -> int:
    """<|patch|> tokens of one tile: (tile / patch)^2 patches, pixel-shuffled (144 at 336)."""
    side = tile_size // PATCH_SIZE
    return int(side * PIXEL_SHUFFLE_RATIO) ** 2


PATCH_TOKENS_PER_TILE = patch_tokens_per_tile()
