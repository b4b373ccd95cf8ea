"""The mixture stage: tokenized documents -> the copies the plan asks for, routed to
their shard partitions (docs/stages/mixture.md). Its report block (per bucket available,
target and written tokens, epochs; the method and its parameters) goes to
`ctx.report.notes["mixture"]`; the manifest carries it."""

from __future__ import annotations

import time

from pipelines.mixture.planner import copies_floor, plan_mixture
from pipelines.mixture.sampling import band_edges, copies, count_buckets, find_cuts, with_buckets, written
from pipelines.stage import Stage


class Mixture(Stage):
    name = "mixture"
    reads = ("source", "lang", "signals", "n_tokens", "modality")
    writes = ("id",)  # copy k of a document is `<id>_r<k>`; `doc_id` and `copy` are added

    def __init__(self, cfg, max_samples: int, partitions: int):
        self.cfg = cfg
        self.max_samples, self.configured_partitions = max_samples, partitions

    def apply(self, tokens, ctx):
        from pipelines.stages.shard import auto_partitions

        t0 = time.monotonic()
        m = self.cfg
        edges = band_edges(tokens, m)
        df = with_buckets(tokens, m, edges)
        plan = plan_mixture(count_buckets(df), m)
        cut = find_cuts(df, plan, m.seed, m.driver_max_rows)
        out = written(plan, cut)
        samples = sum(s for s, _ in out.values())
        partitions = auto_partitions(samples, self.max_samples, self.configured_partitions)
        ctx.report.notes["mixture"] = report_block(plan, cut, out, edges, partitions, time.monotonic() - t0)
        return copies(df, plan, cut, m.seed, partitions)


def report_block(plan, cut, out: dict, edges: list[float], partitions: int, seconds: float) -> dict:
    """The manifest's `mixture`: the plan, and per bucket what it wrote; documents in =
    written (at least one copy) + sampled out + excluded."""
    block = plan.to_dict()
    docs_in = docs_written = excluded = 0
    for b in block["buckets"]:
        samples, tokens = out[b["name"]]
        k0 = copies_floor(b["rate"]) if b["rate"] > 0 else 0
        c = cut.get(b["name"])
        b["documents_written"] = b["documents"] if k0 else (c.docs if c else 0)
        b["written_samples"], b["written_tokens"] = samples, tokens
        b["epochs"] = round(tokens / b["available_tokens"], 6) if b["available_tokens"] else 0.0
        b["target_tokens"] = round(b["target_tokens"], 3)
        docs_in += b["documents"]
        docs_written += b["documents_written"]
        excluded += b["documents"] if b["excluded"] else 0
    block.update({
        "band_edges": edges, "partitions": partitions, "seconds": round(seconds, 3),
        "documents": {"in": docs_in, "written": docs_written, "excluded": excluded,
                      "sampled_out": docs_in - docs_written - excluded},
        "written_samples": sum(s for s, _ in out.values()), "written_tokens": sum(t for _, t in out.values()),
        "available_tokens": sum(b["available_tokens"] for b in block["buckets"]),
    })
    return block
