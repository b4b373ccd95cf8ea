"""Fetch results kept under the run's work folder (local or `s3://`), keyed by the URL's
SHA-256: a resumed run, or a task Spark retries, fetches nothing twice. Images are kept as
their bytes; lasting failures (a 4xx, an opt-out, a refused address, a body that is no
image) as their reason; passing ones (timeouts, 5xx, lost connections) are not kept, so a
later run tries again."""

from __future__ import annotations

import hashlib
import json

from pipelines.fetch.client import FetchResult, image_format
from pipelines.io import storage

_PASSING = {"timeout", "http_5xx", "connect_error", "dns_error"}


class FetchCache:
    def __init__(self, root: str, opts=None):
        self.root, self.opts = root.rstrip("/"), opts

    def _path(self, url: str, ext: str) -> str:
        h = hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()
        return storage.join(self.root, h[:2], f"{h}.{ext}")

    def get(self, url: str) -> FetchResult | None:
        img = self._path(url, "img")
        if storage.exists(img, self.opts):
            body = storage.read_bytes(img, self.opts)
            return FetchResult(url, "ok", body=body, format=image_format(body[:16]) or "", detail="cached")
        failed = self._path(url, "json")
        if storage.exists(failed, self.opts):
            d = json.loads(storage.read_bytes(failed, self.opts))
            return FetchResult(url, d["reason"], status=d.get("status"), detail="cached")
        return None

    def put(self, result: FetchResult) -> None:
        if result.reason == "ok":
            storage.write_bytes(self._path(result.url, "img"), result.body, self.opts)
        elif result.reason not in _PASSING:
            blob = json.dumps({"url": result.url, "reason": result.reason, "status": result.status})
            storage.write_bytes(self._path(result.url, "json"), blob.encode(), self.opts)
