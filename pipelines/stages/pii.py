"""PII stage: email and IP addresses masked in every text part; counts kept in signals.

It runs early, so checkpoints, rejected-row previews and shards all hold masked text. It
never rejects a document.
"""

from __future__ import annotations

from pipelines.config import PiiConfig
from pipelines.stage import BatchStage


class PiiProcessor:
    def __init__(self, cfg: PiiConfig):
        self.cfg = cfg

    def __call__(self, batch):
        from filters.pii import mask_pii

        cfg = self.cfg
        texts = batch.column("parts").flatten().field("text")
        if texts.null_count == len(texts):
            return {}
        all_parts, signals = [], []
        for parts in batch.column("parts").to_pylist():
            counts = {"email": 0, "ipv4": 0, "ipv6": 0}
            new = []
            for p in parts:
                if p["kind"] == "text" and p["text"]:
                    masked, n = mask_pii(p["text"], cfg.email_replacement, cfg.ip_replacement,
                                         only_global_ips=cfg.only_global_ips)
                    for k, v in n.items():
                        counts[k] = counts.get(k, 0) + v
                    p = dict(p, text=masked) if masked != p["text"] else p
                new.append(p)
            all_parts.append(new)
            signals.append({f"pii.{k}": float(v) for k, v in counts.items() if v})
        return {"parts": all_parts, "signals": signals}


class PiiMask(BatchStage):
    name = "pii"
    reads = ("parts",)
    writes = ("parts", "signals")

    def __init__(self, cfg: PiiConfig):
        self.cfg = cfg

    def make_processor(self, ctx):
        return PiiProcessor(self.cfg)
