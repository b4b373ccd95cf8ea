"""`earlyfuse show`: one sample of a finished output, decoded for a person to read.

The token stream is cut at each image's `token_offset`/`n_tokens` (from the sample's JSON):
text between images is decoded with the output's own tokenizer, each image becomes a
marker line, and with `--out` every tile is written as a PNG together with the image
reassembled from its grid tiles (the resized picture the model sees).
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import numpy as np

from pipelines.io import storage


class SampleNotFound(LookupError):
    pass


def _shard_names(root: str, opts=None) -> list[str]:
    manifest = storage.join(root, "manifest.json")
    if storage.exists(manifest, opts):
        return [s["name"] for s in json.loads(storage.read_bytes(manifest, opts))["shards"]]
    return sorted(n for n in storage.listdir_names(storage.join(root, "shards"), opts) if n.endswith(".tar"))


def find_sample(root: str, key: str | None = None, index: int | None = None, opts=None) -> tuple[str, dict]:
    """(shard name, {extension: bytes}) of the sample with this key (or document id), or the
    index-th sample in manifest order (0-based). Shards are streamed, one at a time."""
    seen = 0
    for name in _shard_names(root, opts):
        with storage.open_read(storage.join(root, "shards", name), opts) as f, \
                tarfile.open(fileobj=f, mode="r|") as tar:
            members: dict[str, dict[str, bytes]] = {}
            for m in tar:
                k, _, ext = m.name.partition(".")
                members.setdefault(k, {})[ext] = tar.extractfile(m).read()
        for k in sorted(members):
            meta = json.loads(members[k].get("json", b"{}"))
            held = {d.get("id") for d in meta.get("documents", [])}  # a packed sequence's documents
            if (key is not None and (key in (k, meta.get("id")) or key in held)) or \
                    (index is not None and seen == index):
                return name, members[k]
            seen += 1
    what = f"key {key!r}" if key is not None else f"index {index} (the output has {seen} samples)"
    raise SampleNotFound(f"{root}: no sample with {what}")


def render(meta: dict, tokens: np.ndarray, tok) -> str:
    """The document's text with one marker line per image, in stream order."""
    special = set(tok.special_ids.values())
    out, pos = [], 0
    for n, img in enumerate(meta.get("images", []), 1):
        out.append(_text(tokens[pos:img["token_offset"]], tok, special))
        rows, cols = img.get("grid", [0, 0])
        what = "frame" if img.get("kind") == "frame" else "image"
        out.append(f"\n[{what} {n}: {img.get('width')}x{img.get('height')}, {rows}x{cols} tiles"
                   f"{' + global' if img.get('n_tiles', 1) > 1 else ''}, {img['n_tokens']} tokens"
                   f"{', ' + img['src'] if img.get('src') else ''}"
                   f"{', alt: ' + repr(img['alt']) if img.get('alt') else ''}]\n")
        pos = img["token_offset"] + img["n_tokens"]
    out.append(_text(tokens[pos:], tok, special))
    return "".join(out).strip()


def render_packed(meta: dict, tokens: np.ndarray, tok) -> str:
    """A packed sequence: each document piece it holds under a header line, in order."""
    out = []
    for d in meta.get("documents", []):
        lo = d["offset"]
        view = {"images": [dict(m, token_offset=m["token_offset"] - lo) for m in d.get("images", [])]}
        piece = f", piece {d['piece'] + 1} of {d['pieces']}" if d.get("pieces", 1) > 1 else ""
        out.append(f"=== segment {d['segment']}, tokens {lo:,}-{lo + d['length']:,}: {d['id']} ({d.get('source')}, "
                   f"{d.get('lang')}), its tokens {d['start']:,}-{d['start'] + d['length']:,} of "
                   f"{d['doc_tokens']:,}{piece}\n" + render(view, tokens[lo:lo + d["length"]], tok))
    if meta.get("padding"):
        out.append(f"=== padding: {meta['padding']:,} tokens")
    return "\n\n".join(out)


def _text(ids: np.ndarray, tok, special: set[int]) -> str:
    return tok.decode([int(i) for i in ids if int(i) not in special])


def write_images(meta: dict, members: dict, out_dir: str | Path, tile_size: int) -> list[str]:
    """Every tile as PNG plus each image reassembled from its grid tiles -> paths written."""
    from PIL import Image

    from vision_prep.tiling import plan, reassemble

    if "tiles.npy" not in members:
        return []
    tiles = np.load(io.BytesIO(members["tiles.npy"]), allow_pickle=False)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written, start = [], 0
    images = meta.get("images") or [m for d in meta.get("documents", []) for m in d.get("images", [])]
    for n, img in enumerate(images, 1):
        mine = tiles[start:start + img["n_tiles"]]
        start += img["n_tiles"]
        for t, tile in enumerate(mine):
            path = out / f"image{n:02d}-tile{t:02d}.png"
            Image.fromarray(np.ascontiguousarray(tile.transpose(1, 2, 0))).save(path)
            written.append(str(path))
        p = plan(img["height"], img["width"], tile_size, img.get("max_tiles", 16))
        path = out / f"image{n:02d}.png"
        Image.fromarray(reassemble(mine, p)).save(path)
        written.append(str(path))
    return written
