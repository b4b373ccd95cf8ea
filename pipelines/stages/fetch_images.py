"""Fetch images by URL: image parts still without bytes after WARC and folder resolution
(a crawled page's `<img>`, whose `src` ingest made absolute) are fetched with
pipelines/fetch's fetcher, one per Python worker, all of a batch's URLs in flight together.

A fetched image fills its part; a failure drops the part with `fetch_<reason>` (the images
stage then counts it among the part drops, and rejects a pair whose only image it was), so
nothing is lost silently. Parts with other schemes (`data:` is decoded at ingest) or an
earlier drop are left alone. Results are kept in the work folder's fetch cache when
`fetch.cache` is on.
"""

from __future__ import annotations

from pipelines.config import FetchConfig
from pipelines.stage import BatchStage

_SCHEMES = ("http://", "https://")


def wanted_sources(parts_column: list) -> dict[str, list[tuple[int, int]]]:
    """src -> (row, part position) of every image part that still needs fetching."""
    wanted: dict[str, list[tuple[int, int]]] = {}
    for r, parts in enumerate(parts_column):
        for i, p in enumerate(parts or []):
            if p["kind"] != "image" or p["data"] is not None:
                continue
            meta = dict(p["meta"] or [])
            src = meta.get("src") or ""
            if not meta.get("dropped") and src[:8].lower().startswith(_SCHEMES):
                wanted.setdefault(src, []).append((r, i))
    return wanted


def filled(part: dict, result) -> dict:
    meta = dict(part["meta"] or [])
    if result.reason == "ok":
        return dict(part, data=result.body)
    meta["dropped"] = f"fetch_{result.reason}"
    return dict(part, meta=[(k, str(v)) for k, v in meta.items()])


class FetchProcessor:
    def __init__(self, cfg: FetchConfig, cache_root: str | None, storage_opts, fetched, fetched_bytes):
        self.cfg, self.cache_root, self.storage_opts = cfg, cache_root, storage_opts
        self.fetched, self.fetched_bytes = fetched, fetched_bytes  # accumulators (None off Spark)
        self._fetcher = self._cache = None

    def __getstate__(self):
        # The fetcher (threads, sockets) is made in each worker, once, on first use.
        return {**self.__dict__, "_fetcher": None, "_cache": None}

    def _ready(self):
        if self._fetcher is None:
            from pipelines.fetch.cache import FetchCache
            from pipelines.fetch.client import Fetcher

            self._fetcher = Fetcher(self.cfg)
            self._cache = FetchCache(self.cache_root, self.storage_opts) if self.cache_root else None
        return self._fetcher, self._cache

    def __call__(self, batch):
        parts_column = batch.column("parts").to_pylist()
        wanted = wanted_sources(parts_column)
        if not wanted:
            return {"parts": parts_column}
        fetcher, cache = self._ready()
        results = {}
        todo = []
        for src in wanted:
            hit = cache.get(src) if cache is not None else None
            if hit is None:
                todo.append(src)
            else:
                results[src] = hit
        for result in fetcher.fetch_all(todo):
            results[result.url] = result
            if cache is not None:
                cache.put(result)
            if result.reason == "ok" and self.fetched is not None:
                self.fetched.add(1)
                self.fetched_bytes.add(len(result.body))
        for src, places in wanted.items():
            for r, i in places:
                parts_column[r][i] = filled(parts_column[r][i], results[src])
        return {"parts": parts_column}


class FetchImages(BatchStage):
    name = "fetch_images"
    reads = ("parts",)
    writes = ("parts",)
    scope = "media"

    def __init__(self, cfg: FetchConfig):
        self.cfg = cfg

    def make_processor(self, ctx):
        from pipelines.workdir import work_for_workers

        work = work_for_workers(getattr(ctx, "work", None) if ctx is not None else None)
        cache_root = self.cfg.cache_dir or (f"{work}/fetch-cache" if work else None)
        cache_root = cache_root if self.cfg.cache else None
        counters = (ctx.counter("fetched_images"), ctx.counter("fetched_bytes")) if ctx is not None else (None, None)
        opts = ctx.storage_opts if ctx is not None else None
        return FetchProcessor(self.cfg, cache_root, opts, *counters)
