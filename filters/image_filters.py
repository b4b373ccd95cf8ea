"""Image filters on decoded size and file size: keep (None) or a reason."""

from __future__ import annotations


def check_image(width: int, height: int, n_bytes: int, cfg, min_side: int | None = None) -> str | None:
    """`cfg` has min_bytes, min_side, max_side, max_aspect_ratio (pipelines' ImagesConfig);
    `min_side` replaces cfg.min_side when given."""
    if n_bytes < cfg.min_bytes:
        return "too_few_bytes"
    if min(width, height) < (cfg.min_side if min_side is None else min_side):
        return "too_small"
    if max(width, height) > cfg.max_side:
        return "too_large"
    if max(width, height) / max(min(width, height), 1) > cfg.max_aspect_ratio:
        return "aspect_ratio"
    return None
