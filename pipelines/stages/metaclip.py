"""MetaCLIP balancing: image-text pairs matched against an entry list, entries counted over
the whole pool, pairs of over-represented entries sampled down (docs/stages/metaclip.md).

Two halves. `MetaClipMatch` runs with the text stages: each pair's caption matched in the
workers (one Aho-Corasick automaton per worker, built from the entry file once), its entry
ids stored in its signals. `MetaClipBalance` is a global stage after dedup (MetaCLIP
balances last): `keys` reads the stored ids, `decide` counts pairs per entry and keeps a
pair when any of its entries' coins falls under p_e = min(1, t / count_e): kept with
probability 1 - prod(1 - p_e), as MetaCLIP's sampling, and the same on any engine, rerun
or partitioning.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from filters.metaclip import Matcher, coins, keep_probability, read_entries
from pipelines.config import MetaClipConfig
from pipelines.frames import col, count, minimum
from pipelines.global_stage import Decision, GlobalStage
from pipelines.schema import caption_documents, flat_parts
from pipelines.stage import BatchStage

_MATCHERS: dict[str, Matcher] = {}
FLAGS = pa.schema([("id", pa.string()), ("entry", pa.int32()), ("n", pa.int64()), ("miss", pa.int32())])


def matcher(uri: str, opts=None) -> Matcher:
    """One automaton per worker and entry file."""
    if uri not in _MATCHERS:
        from pipelines.io import storage

        _MATCHERS[uri] = Matcher(read_entries(storage.read_bytes(uri, opts)))
    return _MATCHERS[uri]


def captions(batch: pa.RecordBatch) -> list[str | None]:
    """Per row: the caption text of an image-text pair, None for any other document."""
    rows, kinds, texts, _ = flat_parts(batch)
    return [" ".join(texts[k] for k in range(lo, hi) if kinds[k] == "text" and texts[k]) if pair else None
            for (lo, hi), pair in zip(rows, caption_documents(batch))]


ENTRY = "metaclip.entry."
MATCHED = "metaclip.entries"


class MetaClipMatchProcessor:
    def __init__(self, cfg: MetaClipConfig, opts=None):
        self.cfg, self.opts = cfg, opts

    def __call__(self, batch):
        m = matcher(self.cfg.entries, self.opts)
        signals = []
        for text in captions(batch):
            found = m.match(text) if text is not None else None
            signals.append({} if found is None else {MATCHED: float(len(found)),
                                                     **{f"{ENTRY}{e}": 1.0 for e in found}})
        return {"reasons": [None] * batch.num_rows, "signals": signals}


class MetaClipMatch(BatchStage):
    """The matching half, per record with the text stages: each pair's matched entry ids
    stored in its signals (`metaclip.entry.<line>` = 1, `metaclip.entries` = how many), so
    they travel to the shards and `show`; it rejects nothing."""

    name = "metaclip_match"
    reads = ("parts",)
    writes = ("signals", "status")  # statuses stay "keep": it only measures

    def __init__(self, cfg: MetaClipConfig, opts=None):
        self.cfg, self.opts = cfg, opts

    def make_processor(self, ctx):
        return MetaClipMatchProcessor(self.cfg, self.opts)


class MetaClipBalance(GlobalStage):
    name = "metaclip"
    family = "dedup"  # decided with the dedup stages, reported in their block
    kind = "metaclip"
    reads = ("signals",)
    writes = ("status",)
    key_schema = pa.schema([("id", pa.string()), ("entry", pa.int32())])

    def __init__(self, cfg: MetaClipConfig, opts=None, driver_max_rows: int = 1_000_000):
        self.cfg, self.opts, self.driver_max_rows = cfg, opts, driver_max_rows

    def keys(self, batch):
        """(pair id, entry) per matched entry, entry -1 for a pair with none, from the
        signals the matching stage stored."""
        ids, entries = [], []
        for doc_id, sig in zip(batch.column("id").to_pylist(), batch.column("signals").to_pylist()):
            sig = dict(sig or ())
            if MATCHED not in sig:
                continue  # not an image-text pair
            found = [int(k[len(ENTRY):]) for k in sig if k.startswith(ENTRY)] or [-1]
            ids += [doc_id] * len(found)
            entries += found
        return pa.RecordBatch.from_arrays([pa.array(ids, pa.string()), pa.array(entries, pa.int32())],
                                          schema=self.key_schema)

    def decide(self, keys, scope):
        cfg = self.cfg
        matched = keys.where(col("entry") >= 0)
        counts = matched.group("entry", n=count())
        seed, t = cfg.seed, cfg.t

        def flip(batch: pa.RecordBatch) -> pa.RecordBatch:
            ids = batch.column("id").to_pylist()
            entries = batch.column("entry").to_numpy()
            hit = coins(seed, ids, entries.tolist()) < keep_probability(batch.column("n").to_numpy(), t)
            return pa.RecordBatch.from_arrays([batch.column("id"), batch.column("entry"), batch.column("n"),
                                               pa.array((~hit).astype(np.int32))], schema=FLAGS)

        flags = matched.join(counts, "entry").select("id", "entry", "n").map(flip, FLAGS)
        per_pair = flags.group("id", m=minimum("miss"))
        out = per_pair.where(col("m") == 1).select("id")
        kept_rows = flags.join(per_pair.where(col("m") == 0).select("id"), "id")
        unmatched = keys.where(col("entry") < 0).select("id")
        rejects = [(out, "balanced_out")] + ([] if cfg.keep_unmatched else [(unmatched, "no_entry")])
        return Decision(rejects=rejects, stats=self.stats(counts, kept_rows.group("entry", n=count()),
                                                          keys.select("id").distinct().count(), unmatched.count(),
                                                          out.count()))

    def stats(self, before, after, pairs: int, no_entry: int, balanced_out: int) -> dict:
        """Entries matched, pairs per entry before and after (top 20, the share under t, a
        log-binned histogram of both), pairs without an entry, pairs kept."""
        b, a = before.to_arrow(), after.to_arrow()
        entries = matcher(self.cfg.entries, self.opts).entries
        nb = dict(zip(b.column("entry").to_pylist(), b.column("n").to_pylist()))
        na = dict(zip(a.column("entry").to_pylist(), a.column("n").to_pylist()))
        top = sorted(nb, key=lambda e: (-nb[e], e))[:20]
        hi = max(nb.values(), default=1)
        edges = np.unique(np.geomspace(1, hi + 1, 16).round()).tolist() if nb else []
        hist = {"edges": edges,
                "before": np.histogram(list(nb.values()), edges)[0].tolist() if edges else [],
                "after": np.histogram(list(na.values()), edges)[0].tolist() if edges else []}
        kept = pairs - balanced_out - (0 if self.cfg.keep_unmatched else no_entry)
        return {"t": self.cfg.t, "entries": len(entries), "entries_matched": len(nb), "pairs": pairs,
                "pairs_no_entry": no_entry, "pairs_balanced_out": balanced_out, "pairs_kept": kept,
                "share_entries_under_t": round(sum(v < self.cfg.t for v in nb.values()) / len(nb), 6) if nb else 0.0,
                "top_entries": [{"entry": entries[e], "before": nb[e], "after": na.get(e, 0)} for e in top],
                "count_histogram": hist}
