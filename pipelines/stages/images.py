"""Images stage: decode every image part safely, filter it, plan its Llama-4 tiles.

Per image the part's meta gains width, height, format, grid and tile count, or `dropped`
with the reason it cannot be used (unresolved, over the per-document cap, a decode
failure, a filter). A dropped part stays in the document, without its bytes, so the drop is
counted; a pair whose only image is dropped is rejected with that reason.
"""

from __future__ import annotations

import hashlib

from filters.image_filters import check_image
from pipelines.config import ImagesConfig
from pipelines.schema import caption_documents
from pipelines.stage import BatchStage


def prepare_part(part: dict, cfg: ImagesConfig, n_kept: int, max_tiles: int | None = None,
                 min_side: int | None = None) -> tuple[dict, str | None]:
    """One image or frame part -> (part with meta filled in, drop reason or None);
    `min_side` replaces `cfg.min_side` (a page's images have their own)."""
    from pipelines.payloads import resolve
    from vision_prep.decode import ImageRejected, decode_image
    from vision_prep.hashes import phash
    from vision_prep.tiling import plan

    meta = dict(part["meta"] or [])
    data = part["data"]
    if meta.get("dropped"):
        return part, meta["dropped"]
    reason = None
    if data is None:
        reason = "unresolved"
    elif n_kept >= cfg.max_per_doc:
        reason = "over_cap"
    else:
        # The part keeps `data` as it came (bytes or a payload reference); the checks read the bytes.
        raw = resolve(data)
        try:
            # Validation decodes the whole stream (truncation shows only at the end), at the
            # smallest scale the JPEG decoder offers: tiles are cut later, from the bytes.
            small, info = decode_image(raw, max_pixels=cfg.max_pixels, draft=(64, 64))
        except ImageRejected as e:
            reason = e.reason
        else:
            reason = check_image(info.width, info.height, len(raw), cfg, min_side)
            if reason is None:
                tiles_cap = max_tiles or cfg.max_tiles
                p = plan(info.height, info.width, cfg.tile_size, tiles_cap)
                meta.update(width=info.width, height=info.height, format=info.format, max_tiles=tiles_cap,
                            rows=p.rows, cols=p.cols, n_tiles=p.n_tiles,
                            resized_height=p.resized_height, resized_width=p.resized_width,
                            sha1=hashlib.sha1(raw).hexdigest(), bytes=len(raw),
                            phash=f"{phash(small):016x}")
    if reason is not None:
        meta["dropped"] = reason
        data = None
    new = dict(part, data=data, meta=[(k, str(v)) for k, v in meta.items()])
    return new, reason


class ImagesProcessor:
    def __init__(self, cfg: ImagesConfig, frame_max_tiles: int = 1):
        self.cfg = cfg
        self.frame_max_tiles = frame_max_tiles

    def __call__(self, batch):
        captioned = caption_documents(batch)
        all_parts, reasons = [], []
        for parts, is_pair in zip(batch.column("parts").to_pylist(), captioned):
            out, kept, lost = [], 0, []
            for part in parts:
                if part["kind"] not in ("image", "frame"):
                    out.append(part)
                    continue
                # Frames share the per-document cap with images (Llama 4: 48 per sample).
                cap = self.frame_max_tiles if part["kind"] == "frame" else None
                on_page = part["kind"] == "image" and not is_pair
                new, reason = prepare_part(part, self.cfg, kept, cap, self.cfg.page_min_side if on_page else None)
                out.append(new)
                if reason is None:
                    kept += 1
                else:
                    lost.append(reason)
            all_parts.append(out)
            reasons.append(lost[0] if is_pair and lost and kept == 0 else None)
        return {"parts": all_parts, "reasons": reasons}


class Images(BatchStage):
    name = "images"
    reads = ("parts",)
    writes = ("parts", "status")
    scope = "media"

    def __init__(self, cfg: ImagesConfig, frame_max_tiles: int = 1):
        self.cfg = cfg
        self.frame_max_tiles = frame_max_tiles

    def make_processor(self, ctx):
        return ImagesProcessor(self.cfg, self.frame_max_tiles)
