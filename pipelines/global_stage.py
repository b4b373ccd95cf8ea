"""Global stages: narrow keys out of the documents, one decision over all of them, marks
joined back (docs/design.md, "Global stages").

A `GlobalStage` defines three things and nothing about where they run:

- `keys(batch)`: an Arrow batch of kept documents (`id` and the columns it reads) -> its key
  rows (`key_schema`, with an `id` column). Runs in the Python workers.
- `decide(keys, scope)`: a `Decision` over all key rows, written against `Frame`
  (pipelines/frames.py) and the `scope`'s few services (connected components, values
  computed from documents, checkpoints).
- its name, config and declared columns, like every stage.

The engine here runs the decision on the driver when the key rows are few (at most
`driver_max_rows`) and in Spark SQL when they are many, applies the marks (statuses,
dropped parts) and hands stats and clusters to the run's report. Several global stages
in a row are decided together when all their keys fit: one Spark job for every stage's
keys, each stage deciding over what the earlier ones kept, one join for all the marks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from pipelines.frames import Frame, LocalFrame, SparkFrame
from pipelines.schema import KEEP
from pipelines.stage import Stage, StageContractError

CLUSTERS = pa.schema([("id", pa.string()), ("root", pa.string()), ("survivor", pa.bool_())])
MARKS_DDL = "id string, _status string, _drop array<int>, _drop_reason string"


@dataclass
class Decision:
    """What a global stage decided. The engine applies it in this order: parts dropped from
    documents (`drops`: id, pos), documents rejected outright (`rejects`: frames with an `id`
    column, and their reasons), then the clusters (`clusters`: node, root): one survivor per
    root by the stage's `order_by`, the other members rejected with `reason`."""

    clusters: Frame | None = None
    reason: str = "duplicate"
    rejects: list[tuple[Frame, str]] = field(default_factory=list)
    drops: Frame | None = None
    drop_reason: str = ""
    stats: dict = field(default_factory=dict)


class GlobalStage(Stage):
    family = "dedup"   # the report block it belongs to; `kind` names it there
    kind = ""
    key_schema: pa.Schema
    # Set from the stage's config section: survivors' order and the engine's size gate.
    order_by = "id"
    driver_max_rows = 1_000_000
    barrier = True

    def keys(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        raise NotImplementedError

    def decide(self, keys: Frame, scope) -> Decision:
        raise NotImplementedError

    def apply(self, df, ctx):
        return run_global_stages([self], df, ctx)

    def check_decision(self, d: Decision) -> None:
        wrote = {"status"} if (d.clusters is not None or d.rejects) else set()
        wrote |= {"parts"} if d.drops is not None else set()
        undeclared = wrote - set(self.writes)
        if undeclared:
            raise StageContractError(f"stage {self.name} changed {sorted(undeclared)}, which it does not declare "
                                     f"in writes {self.writes}")


# ----------------------------------------------------------------------------- scopes


class LocalScope:
    """A decision on the driver. `fetch(ids, fn, schema)` computes fn over the documents
    with these ids (a Spark job, or the plain baseline's own loop); `order` maps ids to the
    survivor order's value when it is not the id itself (None: fetched when needed)."""

    where = "driver"

    def __init__(self, fetch, order_by: str = "id", order: dict | None = None):
        self._fetch, self.order_by, self.order = fetch, order_by, order

    def components(self, edges: Frame) -> tuple[Frame, dict]:
        from filters.components import components

        t = edges.to_arrow()
        roots = components(zip(t.column("a").to_pylist(), t.column("b").to_pylist()))
        typ = t.schema.field("a").type
        labels = pa.table({"node": pa.array(list(roots), typ), "root": pa.array(list(roots.values()), typ)})
        return LocalFrame(labels), {"cc_rounds": 0, "cc_on": "driver"}

    def from_docs(self, ids: Frame, fn, schema: pa.Schema) -> Frame:
        if not ids.count():
            return LocalFrame(schema.empty_table())
        return LocalFrame(self._fetch(ids.to_arrow().column("id"), fn, schema))

    def materialize(self, frame: Frame, name: str) -> Frame:
        return frame

    def survivors(self, labels: Frame) -> pa.Table:
        """(node, root) -> (id, root, survivor): per root the lowest order value (nulls first,
        as Spark sorts), then the lowest id."""
        t = labels.to_arrow()
        nodes, roots = t.column("node").to_pylist(), t.column("root").to_pylist()
        order = self.order
        if self.order_by != "id" and order is None:
            order = self._order_of(nodes)

        def rank(i):
            if order is None:
                return (1, "", i)
            v = order.get(i)
            return (0, "", i) if v is None else (1, v, i)

        best: dict = {}
        for node, root in zip(nodes, roots):
            if root not in best or rank(node) < rank(best[root]):
                best[root] = node
        return pa.table({"id": pa.array(nodes, pa.string()), "root": pa.array([str(r) for r in roots], pa.string()),
                         "survivor": pa.array([best[r] == n for n, r in zip(nodes, roots)], pa.bool_())},
                        schema=CLUSTERS)

    def _order_of(self, ids: list) -> dict:
        col = self.order_by
        schema = pa.schema([("id", pa.string()), ("ord", pa.string())])
        fetched = self.from_docs(LocalFrame(pa.table({"id": pa.array(sorted(set(ids)), pa.string())})),
                                 lambda b: pa.RecordBatch.from_arrays([b.column("id"), b.column(col).cast(pa.string())],
                                                                      schema=schema), schema).to_arrow()
        return dict(zip(fetched.column("id").to_pylist(), fetched.column("ord").to_pylist()))


class SparkScope:
    """A decision in Spark SQL over the kept documents `kept` (id, the stage's reads and the
    order column)."""

    where = "spark"

    def __init__(self, ctx, kept, order_by: str, driver_max_rows: int):
        self.ctx, self.kept, self.order_by, self.driver_max_rows = ctx, kept, order_by, driver_max_rows

    def components(self, edges: Frame) -> tuple[Frame, dict]:
        from pipelines.clusters import components

        comp = components(edges.select("a", "b").df, self.driver_max_rows, self.ctx.materialize)
        return SparkFrame(comp.labels), {"cc_rounds": comp.rounds, "cc_on": comp.where}

    def from_docs(self, ids: Frame, fn, schema: pa.Schema) -> Frame:
        return SparkFrame(self.kept.join(ids.select("id").df, "id", "left_semi")).map(fn, schema)

    def materialize(self, frame: Frame, name: str) -> Frame:
        return SparkFrame(self.ctx.materialize(frame.df, name))

    def survivors(self, labels: Frame):
        from pipelines.clusters import survivors

        return self.ctx.materialize(survivors(labels.df, self.kept, self.order_by), "clusters")


# ----------------------------------------------------------------------------- the engine


def run_global_stages(stages: list[GlobalStage], df, ctx):
    """The stages over df, in order: together on the driver when all their keys fit, else
    one by one, each where its own keys' size says."""
    if not stages:
        return df
    out = _together(stages, df, ctx)
    if out is not None:
        return out
    for stage in stages:
        df = _alone(stage, df, ctx)
    return df


def _kept(df, stages: list[GlobalStage]):
    from pyspark.sql import functions as F

    cols = dict.fromkeys(["id", *(c for s in stages for c in s.reads)])
    order_by = stages[0].order_by
    if order_by != "id":
        cols[order_by] = None
    return df.filter(F.col("status") == KEEP).select(*cols)


def _keys_fn(stage: GlobalStage):
    cols = ["id", *stage.reads]

    def run(batches):
        for b in batches:
            yield stage.keys(b.select(cols))
    return run


def _fetcher(kept):
    """Values computed from the kept documents with these ids, fetched to the driver."""
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    def fetch(ids: pa.ChunkedArray, fn, schema: pa.Schema) -> pa.Table:
        wanted = kept.sparkSession.createDataFrame(pa.table({"id": ids}), "id string")

        def run(batches):
            for b in batches:
                yield fn(b)
        return kept.join(F.broadcast(wanted), "id", "left_semi").mapInArrow(run, from_arrow_schema(schema)).toArrow()
    return fetch


def _union_schema(stages: list[GlobalStage]) -> pa.Schema:
    """One row layout for every stage's keys: `stage` says whose row it is (-1: a document
    row with its order value); each stage's other key columns are prefixed k<i>_."""
    fields = [pa.field("stage", pa.int32()), pa.field("id", pa.string()), pa.field("ord", pa.string())]
    for i, s in enumerate(stages):
        fields += [pa.field(f"k{i}_{f.name}", f.type) for f in s.key_schema if f.name != "id"]
    return pa.schema(fields)


def _together(stages: list[GlobalStage], df, ctx):
    from pipelines.clusters import small_table

    max_rows, order_by = stages[0].driver_max_rows, stages[0].order_by
    if max_rows <= 0:
        return None
    schema = _union_schema(stages)
    fns = [(i, s, ["id", *s.reads]) for i, s in enumerate(stages)]

    def rows(stage_i: int, columns: dict, n: int) -> pa.RecordBatch:
        arrays = [pa.array([stage_i] * n, pa.int32()) if f.name == "stage" else
                  columns[f.name].cast(f.type) if f.name in columns else pa.nulls(n, f.type) for f in schema]
        return pa.RecordBatch.from_arrays(arrays, schema=schema)

    def run(batches):
        for batch in batches:
            order = batch.column(order_by).cast(pa.string()) if order_by != "id" else None
            yield rows(-1, {"id": batch.column("id"), **({"ord": order} if order is not None else {})},
                       batch.num_rows)
            for i, stage, cols in fns:
                k = stage.keys(batch.select(cols))
                yield rows(i, {("id" if n == "id" else f"k{i}_{n}"): k.column(n) for n in k.schema.names},
                           k.num_rows)

    from pyspark.sql.pandas.types import from_arrow_schema

    kept = _kept(df, stages)
    table = small_table(kept.mapInArrow(run, from_arrow_schema(schema)), max_rows)
    if table is None:
        return None
    docs = table.filter(pc.equal(table.column("stage"), -1))
    order = None if order_by == "id" else dict(zip(docs.column("id").to_pylist(), docs.column("ord").to_pylist()))
    scope = LocalScope(_fetcher(kept), order_by, order)
    marks = LocalMarks()
    for i, stage in enumerate(stages):
        t0 = time.monotonic()
        mine = table.filter(pc.equal(table.column("stage"), i))
        names = [f.name for f in stage.key_schema]
        mine = mine.select(["id" if n == "id" else f"k{i}_{n}" for n in names]).rename_columns(names)
        alive = mine.filter(pc.invert(pc.is_in(mine.column("id"), marks.rejected_ids())))
        decision = stage.decide(LocalFrame(alive.cast(stage.key_schema)), scope)
        clusters = marks.add(stage, decision, scope)
        ctx.report.add_global(stage, decision.stats, clusters, time.monotonic() - t0, "driver")
    return apply_local_marks(df, marks.table())


def _alone(stage: GlobalStage, df, ctx):
    from pyspark.sql.pandas.types import from_arrow_schema

    from pipelines.clusters import small_table

    t0 = time.monotonic()
    kept = _kept(df, [stage])
    keys = ctx.materialize(kept.mapInArrow(_keys_fn(stage), from_arrow_schema(stage.key_schema)), f"{stage.kind}_keys")
    table = small_table(keys, stage.driver_max_rows)
    if table is not None:
        scope = LocalScope(_fetcher(kept), stage.order_by)
        marks = LocalMarks()
        decision = stage.decide(LocalFrame(table.cast(stage.key_schema)), scope)
        clusters = marks.add(stage, decision, scope)
        ctx.report.add_global(stage, decision.stats, clusters, time.monotonic() - t0, "driver")
        return apply_local_marks(df, marks.table())
    scope = SparkScope(ctx, kept, stage.order_by, stage.driver_max_rows)
    decision = stage.decide(SparkFrame(keys), scope)
    stage.check_decision(decision)
    out = df
    if decision.drops is not None:
        out = drop_parts(out, decision.drops.df, decision.drop_reason)
    for frame, reason in decision.rejects:
        out = mark(out, frame.df, f"{stage.name}:{reason}")
    clusters = None
    if decision.clusters is not None:
        clusters = scope.survivors(decision.clusters)
        out = mark(out, clusters.filter("NOT survivor"), f"{stage.name}:{decision.reason}")
    ctx.report.add_global(stage, decision.stats, clusters, time.monotonic() - t0, "spark")
    return out


# ----------------------------------------------------------------------------- marks


class LocalMarks:
    """Statuses and dropped parts decided on the driver, for one join at the end."""

    def __init__(self):
        self.status: dict[str, str] = {}
        self.drops: dict[str, tuple[list[int], str]] = {}

    def rejected_ids(self) -> pa.Array:
        return pa.array(sorted(self.status), pa.string())

    def reject(self, ids, status: str) -> None:
        for i in ids:
            self.status.setdefault(i, status)

    def add(self, stage: GlobalStage, d: Decision, scope: LocalScope) -> pa.Table | None:
        """Take one stage's decision; returns its clusters (id, root, survivor)."""
        stage.check_decision(d)
        if d.drops is not None:
            t = d.drops.to_arrow()
            for i, pos in zip(t.column("id").to_pylist(), t.column("pos").to_pylist()):
                self.drops.setdefault(i, ([], d.drop_reason))[0].append(pos)
        for frame, reason in d.rejects:
            self.reject(frame.to_arrow().column("id").to_pylist(), f"{stage.name}:{reason}")
        if d.clusters is None:
            return None
        clusters = scope.survivors(d.clusters)
        gone = clusters.filter(pc.invert(clusters.column("survivor")))
        self.reject(gone.column("id").to_pylist(), f"{stage.name}:{d.reason}")
        return clusters

    def table(self) -> pa.Table:
        ids = sorted(set(self.status) | set(self.drops))
        drops = [self.drops.get(i) for i in ids]
        return pa.table({"id": pa.array(ids, pa.string()),
                         "_status": pa.array([self.status.get(i) for i in ids], pa.string()),
                         "_drop": pa.array([sorted(set(d[0])) if d else None for d in drops], pa.list_(pa.int32())),
                         "_drop_reason": pa.array([d[1] if d else None for d in drops], pa.string())})


def _dropped_part(p, reason):
    from pyspark.sql import functions as F

    return F.struct(p["kind"].alias("kind"), p["text"].alias("text"), F.lit(None).cast("binary").alias("data"),
                    F.map_concat(p["meta"], F.create_map(F.lit("dropped"), reason)).alias("meta"))


def _with_drops(out):
    from pyspark.sql import functions as F

    return out.withColumn("parts", F.transform("parts", lambda p, i: F.when(
        F.coalesce(F.array_contains("_drop", i), F.lit(False)), _dropped_part(p, F.col("_drop_reason")))
        .otherwise(p)))


def apply_local_marks(df, marks: pa.Table):
    """Statuses (on rows still kept) and dropped parts decided on the driver, by one join
    with a local table Spark broadcasts."""
    from pyspark.sql import functions as F

    if not marks.num_rows:
        return df
    frame = F.broadcast(df.sparkSession.createDataFrame(marks, MARKS_DDL))
    out = df.join(frame, "id", "left")
    out = out.withColumn("status", F.when(F.col("_status").isNotNull() & (F.col("status") == KEEP),
                                          F.col("_status")).otherwise(F.col("status")))
    if pc.sum(pc.invert(pc.is_null(marks.column("_drop")))).as_py():
        out = _with_drops(out)
    return out.select(*df.columns)


def drop_parts(df, drops, reason: str):
    """Parts at (id, pos) lose their bytes and gain `meta.dropped = reason`, in Spark."""
    from pyspark.sql import functions as F

    positions = drops.groupBy("id").agg(F.collect_set("pos").alias("_drop")).withColumn("_drop_reason",
                                                                                         F.lit(reason))
    return _with_drops(df.join(positions, "id", "left")).select(*df.columns)


def mark(df, rejected, status: str):
    """Set `status` on kept rows whose id is in `rejected` (id); other rows unchanged."""
    from pyspark.sql import functions as F

    flagged = rejected.select("id").distinct().withColumn("_hit", F.lit(True))
    out = df.join(flagged, "id", "left")
    new = F.when(F.col("_hit") & (F.col("status") == KEEP), F.lit(status)).otherwise(F.col("status"))
    return out.withColumn("status", new).drop("_hit").select(*df.columns)
