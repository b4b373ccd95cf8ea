"""URL dedup: one document per normalised URL, the newest crawl surviving (Llama 3's first
dedup step; docs/stages/dedup.md, "URL dedup").

The key is `filters.urlkey.url_key` of the document's `uri`; documents without a web URL
(file paths, generated ids) have none and are never touched. Among the documents sharing a
key the one with the newest `crawl.date` signal survives, then the lowest id, so the
choice is the same whatever files or partitions the copies came from; an undated copy loses
to any dated one. The others are `url_dedup:older_version`.
"""

from __future__ import annotations

import pyarrow as pa

from filters.urlkey import url_key
from pipelines.config import UrlDedupConfig
from pipelines.frames import col, count, minimum
from pipelines.global_stage import Decision, GlobalStage

# Dates as Unix microseconds subtracted from this, zero-padded: the newest sorts first as a
# string, so one `min` per URL picks the survivor in the driver's and in Spark's group-by.
_FAR = 10**17
_UNDATED = "~"  # after every digit: undated copies lose


def rank(date: float | None, doc_id: str) -> str:
    if date is None or date != date:
        return f"{_UNDATED}|{doc_id}"
    return f"{_FAR - round(date * 1_000_000):018d}|{doc_id}"


class UrlDedup(GlobalStage):
    name = "url_dedup"
    family = "curation"
    kind = "url"
    reads = ("uri", "signals")
    writes = ("status",)
    key_schema = pa.schema([("id", pa.string()), ("url", pa.string()), ("rank", pa.string())])

    def __init__(self, cfg: UrlDedupConfig, driver_max_rows: int = 1_000_000):
        self.cfg = cfg
        self.driver_max_rows = driver_max_rows

    def keys(self, batch):
        ids = batch.column("id").to_pylist()
        urls = [url_key(u, self.cfg.trailing_slash) for u in batch.column("uri").to_pylist()]
        signals = batch.column("signals").to_pylist()
        rows = [(i, u, rank(dict(s or ()).get("crawl.date"), i)) for i, u, s in zip(ids, urls, signals) if u]
        return pa.RecordBatch.from_arrays([pa.array([r[k] for r in rows], pa.string()) for k in range(3)],
                                          schema=self.key_schema)

    def decide(self, keys, scope):
        best = keys.group("url", best=minimum("rank"), versions=count()).where(col("versions") > 1)
        older = keys.join(best, "url").where(col("rank") != col("best")).select("id")
        return Decision(rejects=[(older, "older_version")],
                        stats={"documents_with_url": keys.count(), "urls_crawled_more_than_once": best.count()})
