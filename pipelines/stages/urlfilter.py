"""URL filter stage: documents from blocklisted domains, URLs or words are rejected.

Only web URLs are judged; a document whose `uri` is a file path has no URL to block.
The blocklist is built once per Python worker (datatrove's embedded list takes a few
seconds and about 100 MB).
"""

from __future__ import annotations

from pipelines.config import UrlFilterConfig
from pipelines.stage import BatchStage

_LISTS: dict[tuple, object] = {}


def blocklist(cfg: UrlFilterConfig):
    key = (cfg.embedded, tuple(cfg.lists), cfg.ut1_root, tuple(cfg.ut1_categories), tuple(cfg.substrings))
    if key not in _LISTS:
        from filters.urls import UrlBlocklist

        parts = [UrlBlocklist.embedded()] if cfg.embedded else []
        if cfg.lists:
            parts.append(UrlBlocklist.from_files(*cfg.lists))
        if cfg.ut1_root:
            parts.append(UrlBlocklist.from_ut1(cfg.ut1_root, cfg.ut1_categories or None))
        if cfg.substrings:
            parts.append(UrlBlocklist(substrings=cfg.substrings))
        merged = parts[0] if parts else UrlBlocklist()
        for p in parts[1:]:
            merged = merged | p
        _LISTS[key] = merged
    return _LISTS[key]


class UrlFilterProcessor:
    def __init__(self, cfg: UrlFilterConfig):
        self.cfg = cfg

    def __call__(self, batch):
        bl = blocklist(self.cfg)
        reasons = []
        for uri in batch.column("uri").to_pylist():
            web = uri and uri.lower().startswith(("http://", "https://"))
            reasons.append(bl.check(uri) if web else None)
        return {"reasons": reasons}


class UrlFilter(BatchStage):
    name = "urlfilter"
    reads = ("uri",)
    writes = ("status",)

    def __init__(self, cfg: UrlFilterConfig):
        self.cfg = cfg

    def make_processor(self, ctx):
        return UrlFilterProcessor(self.cfg)
