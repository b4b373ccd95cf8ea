"""Exact dedup: documents whose normalised text is identical keep one survivor.

The key is computed per document in Python (NFKC needs it); a key shared by several
documents makes a cluster, whose survivor is the lowest `order_by` value, then the lowest
id: deterministic whatever the partitioning. Punctuation and digits are stripped from the
key when configured. A caption shared by different pictures is not a duplicate: an image
document's key includes its images' content hashes.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from filters.normalize import exact_key
from pipelines.config import DedupConfig
from pipelines.frames import col, count
from pipelines.global_stage import Decision, GlobalStage
from pipelines.schema import document_texts


def image_hashes(batch: pa.RecordBatch) -> list[str]:
    """Per row, the content hashes of its usable images joined in order ('' for none)."""
    parts = batch.column("parts")
    offsets = parts.offsets.to_numpy()
    sha = pc.map_lookup(parts.flatten().field("meta"), "sha1", "first").to_pylist()
    base = offsets[0]
    return [" ".join(h for h in sha[offsets[i] - base: offsets[i + 1] - base] if h)
            for i in range(len(parts))]


class ExactDedup(GlobalStage):
    name = "dedup_exact"
    kind = "exact"
    reads = ("parts",)
    writes = ("status",)
    key_schema = pa.schema([("id", pa.string()), ("key", pa.string())])

    def __init__(self, cfg: DedupConfig):
        self.cfg = cfg
        self.order_by, self.driver_max_rows = cfg.order_by, cfg.driver_max_rows

    def keys(self, batch):
        strip_p, strip_d = self.cfg.strip_punctuation, self.cfg.strip_digits
        keys = [exact_key(t if not h else f"{t}\0{h}", strip_p, strip_d)
                for t, h in zip(document_texts(batch), image_hashes(batch))]
        return pa.RecordBatch.from_arrays([batch.column("id"), pa.array(keys, pa.string())], schema=self.key_schema)

    def decide(self, keys, scope):
        shared = keys.group("key", n=count()).where(col("n") > 1).select("key")
        return Decision(clusters=keys.join(shared, "key", "semi").select(node="id", root="key"))
