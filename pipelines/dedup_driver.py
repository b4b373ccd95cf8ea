"""The dedup stages decided together on the driver when their keys are few.

Stage by stage, every dedup stage is a chain of small Spark jobs (its keys, a fetch of its
narrow rows, marks joined back, a checkpoint) over the previous stage's marks: about forty
jobs, whose planning and scheduling rather than their data were most of dedup's time on
small and medium runs. Here one job computes the keys of every enabled stage for all kept
documents (with the stages' own per-batch functions), the driver takes the stages'
decisions in their order, each over the documents the earlier ones kept, as stage by stage,
and one broadcast join writes statuses and dropped image parts back. Near-duplicate
verification fetches its candidates' fingerprints in one more job.

Above `dedup.driver_max_rows` key rows in all (or with `0`) the stages run one by one, each
deciding on its own where its clusters are found. Same statuses, parts, statistics and
clusters either way (tests/test_dedup_driver.py).
"""

from __future__ import annotations

from collections import defaultdict

import pyarrow as pa
import pyarrow.compute as pc

from filters.components import components
from filters.minhash import MinHashParams
from pipelines.config import DedupConfig
from pipelines.schema import KEEP

KEYS = pa.schema([("kind", pa.string()), ("id", pa.string()), ("ord", pa.string()), ("key", pa.string()),
                  ("band", pa.int32()), ("bkey", pa.int64()), ("pos", pa.int32()), ("phash", pa.int64()),
                  ("pair", pa.bool_()), ("hashes", pa.list_(pa.int64()))])
KEYS_DDL = ("kind string, id string, ord string, key string, band int, bkey bigint, pos int, phash bigint, "
            "pair boolean, hashes array<bigint>")
MARKS_DDL = "id string, _status string, _drop array<int>"
CLUSTERS = pa.schema([("id", pa.string()), ("root", pa.string()), ("survivor", pa.bool_())])
STAGES = ("dedup_exact", "dedup_near", "dedup_images", "dedup_video")


def _rows(kind: str, columns: dict[str, pa.Array]) -> pa.RecordBatch:
    """One kind's rows in the KEYS layout; the columns it does not use are null."""
    n = len(columns["id"])
    arrays = [pa.array([kind] * n, pa.string()) if f.name == "kind" else
              columns[f.name].cast(f.type) if f.name in columns else pa.nulls(n, f.type) for f in KEYS]
    return pa.RecordBatch.from_arrays(arrays, schema=KEYS)


def key_rows(names: list[str], cfg: DedupConfig, order_by: str):
    """mapInArrow function: kept documents (id, parts[, order_by]) -> KEYS rows: a `doc` row
    per document, then each named stage's keys (exact: key; near: band, bkey; images: pos,
    key = sha1, phash, pair; video: hashes)."""
    from pipelines.stages.dedup_exact import _keys
    from pipelines.stages.dedup_images import _image_rows
    from pipelines.stages.dedup_near import _band_rows
    from pipelines.stages.dedup_video import _sequences

    params = MinHashParams(cfg.bands, cfg.rows, cfg.seed)
    exact = _keys(cfg.strip_punctuation, cfg.strip_digits)
    near = _band_rows(params, cfg.ngram)

    def run(batches):
        for batch in batches:
            one = [batch]
            order = batch.column(order_by) if order_by != "id" else pa.nulls(batch.num_rows, pa.string())
            yield _rows("doc", {"id": batch.column("id"), "ord": order})
            if "dedup_exact" in names:
                b = next(exact(iter(one)))
                yield _rows("exact", {"id": b.column("id"), "key": b.column("dedup_key")})
            if "dedup_near" in names:
                b = next(near(iter(one)))
                yield _rows("near", {"id": b.column("id"), "band": b.column("band"), "bkey": b.column("key")})
            if "dedup_images" in names:
                b = next(_image_rows(iter(one)))
                yield _rows("image", {"id": b.column("id"), "pos": b.column("pos"), "key": b.column("sha1"),
                                      "phash": b.column("phash"), "pair": b.column("pair")})
            if "dedup_video" in names:
                b = next(_sequences(iter(one)))
                yield _rows("video", {"id": b.column("id"), "hashes": b.column("hashes")})
    return run


def survivors(labels, order: dict | None) -> list[tuple]:
    """(node id, root) -> (id, root, survivor): per root the lowest order value (nulls
    first, as Spark sorts), then the lowest id; `order` None means ordered by id."""
    groups = defaultdict(list)
    for node, root in labels:
        groups[root].append(node)

    def rank(i):
        if order is None:
            return (1, "", i)
        v = order.get(i)
        return (0, "", i) if v is None else (1, v, i)

    out = []
    for root, members in groups.items():
        first = min(members, key=rank)
        out += [(m, root, m == first) for m in members]
    return out


class Decisions:
    """What the dedup stages decide over the key rows, in stage order."""

    def __init__(self, table: pa.Table, order_by: str):
        self.table = table
        docs = self._kind("doc")
        ids = docs.column("id").to_pylist()
        self.order = None if order_by == "id" else dict(zip(ids, docs.column("ord").to_pylist()))
        self.alive = set(ids)  # kept by every stage so far
        self.status: dict[str, str] = {}
        self.drops: dict[str, list[int]] = defaultdict(list)
        self.stats: dict[str, dict] = {}
        self.clusters: dict[str, list[tuple]] = {}

    def _kind(self, kind: str) -> pa.Table:
        return self.table.filter(pc.equal(self.table.column("kind"), kind))

    def _alive_rows(self, kind: str) -> pa.Table:
        rows = self._kind(kind)
        return rows.filter(pc.is_in(rows.column("id"), pa.array(sorted(self.alive), pa.string())))

    def _reject(self, name: str, labels, status: str) -> None:
        clusters = survivors(labels, self.order)
        self.clusters[name] = clusters
        self.mark({i for i, _, keep in clusters if not keep}, status)

    def mark(self, ids, status: str) -> None:
        for i in ids:
            if i in self.alive:
                self.status[i] = status
                self.alive.discard(i)

    def exact(self) -> None:
        rows = self._alive_rows("exact")
        groups = defaultdict(list)
        for i, key in zip(rows.column("id").to_pylist(), rows.column("key").to_pylist()):
            groups[key].append(i)
        self.stats["dedup_exact"] = {}
        self._reject("dedup_exact", [(i, k) for k, ids in groups.items() if len(ids) > 1 for i in ids],
                     "dedup_exact:duplicate")

    def near(self, cfg: DedupConfig, fingerprints) -> None:
        """`fingerprints(ids)` -> {id: fp} of those documents (a Spark job)."""
        from pipelines.stages.dedup_near import candidates_local, similarity

        rows = self._alive_rows("near")
        cand = candidates_local(pa.table({"id": rows.column("id"), "band": rows.column("band"),
                                          "key": rows.column("bkey")}))
        edges = sorted(cand)
        if cand and cfg.verify != "none":
            fp = fingerprints(sorted({x for pair in cand for x in pair}))
            edges = [(a, b) for a, b in edges if similarity(cfg.verify, fp[a], fp[b]) >= cfg.threshold]
        self.stats["dedup_near"] = {"candidate_pairs": len(cand), "verified_pairs": len(edges), "cc_rounds": 0,
                                    "cc_on": "driver", "verify": cfg.verify,
                                    "threshold": cfg.threshold if cfg.verify != "none" else None}
        self._reject("dedup_near", components(edges).items(), "dedup_near:duplicate")

    def images(self, cfg: DedupConfig) -> None:
        from pipelines.stages.dedup_images import FREQUENT, image_decisions

        rows = self._alive_rows("image")
        d = image_decisions(list(zip(*(rows.column(c).to_pylist() for c in ("id", "pos", "key", "phash", "pair")))),
                            cfg.image_max_hamming, cfg.image_max_docs)
        self.stats["dedup_images"] = {
            "cc_rounds": 0, "cc_on": "driver", "images": rows.num_rows, "distinct_images": d["contents"],
            "image_clusters": d["clusters"], "frequent_clusters": d["frequent"],
            "frequent_parts_dropped": len(d["dropped"]), "max_docs_per_image": cfg.image_max_docs,
            "max_hamming": cfg.image_max_hamming}
        for i, pos, _ in d["dropped"]:
            self.drops[i].append(pos)
        self.mark({i for i, _, pair in d["dropped"] if pair}, f"dedup_images:{FREQUENT}")
        self._reject("dedup_images", d["pair_labels"], "dedup_images:near_duplicate")

    def video(self, cfg: DedupConfig) -> None:
        from pipelines.stages.dedup_video import candidates_local, sequence_match

        rows = self._alive_rows("video")
        seq = dict(zip(rows.column("id").to_pylist(), rows.column("hashes").to_pylist()))
        cand = candidates_local(seq)
        edges = [(a, b) for a, b in sorted(cand)
                 if sequence_match(seq[a], seq[b], cfg.video_max_hamming) >= cfg.video_min_match]
        self.stats["dedup_video"] = {"videos": len(seq), "candidate_pairs": len(cand), "verified_pairs": len(edges),
                                     "cc_rounds": 0, "cc_on": "driver", "max_hamming": cfg.video_max_hamming,
                                     "min_match": cfg.video_min_match}
        self._reject("dedup_video", components(edges).items(), "dedup_video:duplicate")

    def marks(self) -> pa.Table:
        """(id, _status, _drop) of every document a stage changed."""
        ids = sorted(set(self.status) | set(self.drops))
        return pa.table({"id": pa.array(ids, pa.string()),
                         "_status": pa.array([self.status.get(i) for i in ids], pa.string()),
                         "_drop": pa.array([sorted(self.drops[i]) if i in self.drops else None for i in ids],
                                           pa.list_(pa.int32()))})


def decide(table: pa.Table, names: list[str], cfg: DedupConfig, fingerprints) -> Decisions:
    d = Decisions(table, cfg.order_by)
    for name in names:
        if name == "dedup_exact":
            d.exact()
        elif name == "dedup_near":
            d.near(cfg, fingerprints)
        elif name == "dedup_images":
            d.images(cfg)
        elif name == "dedup_video":
            d.video(cfg)
        else:  # dedup_stages builds only the four; a new one must be taught here first
            raise ValueError(f"no driver decision for {name}")
    return d


def apply_marks(df, marks: pa.Table):
    """Statuses (on rows still kept) and dropped image parts from `marks`, by one join with
    a local table Spark broadcasts."""
    from pyspark.sql import functions as F

    from pipelines.stages.dedup_images import _dropped

    if not marks.num_rows:
        return df
    frame = F.broadcast(df.sparkSession.createDataFrame(marks, MARKS_DDL))
    out = df.join(frame, "id", "left")
    status = F.when(F.col("_status").isNotNull() & (F.col("status") == KEEP), F.col("_status")) \
        .otherwise(F.col("status"))
    out = out.withColumn("status", status)
    if pc.sum(pc.invert(pc.is_null(marks.column("_drop")))).as_py():
        out = out.withColumn("parts", F.transform("parts", lambda p, i: F.when(
            F.coalesce(F.array_contains("_drop", i), F.lit(False)), _dropped(p)).otherwise(p)))
    return out.select(*df.columns)


def run_on_driver(df, stages: list, cfg: DedupConfig):
    """Every stage decided on the driver -> the marked DataFrame, each stage's `stats`,
    `clusters` and `local_clusters` set as its own apply() sets them; or None (nothing
    changed) when the key rows are more than `cfg.driver_max_rows`."""
    from pyspark.sql import functions as F

    from pipelines.clusters import small_table
    from pipelines.stages.dedup_near import _fingerprints

    names = [s.name for s in stages]
    cols = ["id", "parts"] + ([cfg.order_by] if cfg.order_by != "id" else [])
    kept = df.filter(F.col("status") == KEEP).select(*cols)
    table = small_table(kept.mapInArrow(key_rows(names, cfg, cfg.order_by), KEYS_DDL), cfg.driver_max_rows)
    if table is None:
        return None
    spark = df.sparkSession
    params = MinHashParams(cfg.bands, cfg.rows, cfg.seed)

    def fingerprints(ids):
        wanted = kept.join(spark.createDataFrame(pa.table({"id": pa.array(ids, pa.string())}), "id string"),
                           "id", "left_semi")
        fps = wanted.mapInArrow(_fingerprints(params, cfg.ngram, cfg.verify), "id string, fp binary").toArrow()
        return dict(zip(fps.column("id").to_pylist(), fps.column("fp").to_pylist()))

    d = decide(table, names, cfg, fingerprints)
    for stage in stages:
        rows = d.clusters[stage.name]
        local = pa.table({"id": [r[0] for r in rows], "root": [r[1] for r in rows],
                          "survivor": [r[2] for r in rows]}, schema=CLUSTERS)
        stage.stats, stage.local_clusters = d.stats[stage.name], local
        stage.clusters = spark.createDataFrame(local, "id string, root string, survivor boolean")
    return apply_marks(df, d.marks())


def apply_dedup(df, stages: list, cfg: DedupConfig):
    """The dedup stages over df: decided together on the driver when their keys are few,
    else one by one."""
    if not stages:
        return df
    out = run_on_driver(df, stages, cfg)
    if out is not None:
        return out
    for stage in stages:
        df = stage.apply(df)
    return df
