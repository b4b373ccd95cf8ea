"""The mixture over Spark: bucket counts from the tokenized documents, the cut of each
bucket's extra copies, and the copies themselves routed to shard partitions
(docs/stages/mixture.md). The tokens are read from the `tokens` checkpoint, so the counts
cost a read of its narrow columns, never a second tokenization."""

from __future__ import annotations

from pipelines.mixture.planner import BucketCount, MixturePlan, copies_floor
from pipelines.mixture.select import NONE, Cut, cuts

PRIORITY_BITS = 62
REFINE_BITS = 12  # a refinement splits a bucket's priority range into 4,096 bins


def bucket_columns(cfg, edges: list[float]):
    """(bucket, band, modality) columns: `source/lang[/band][/modality]`."""
    from pyspark.sql import functions as F

    band = F.lit(None).cast("string")
    if cfg.band_signal:
        v = F.col("signals")[cfg.band_signal]
        band = F.when(v.isNull(), F.lit("none"))
        for i, e in enumerate(edges):
            band = band.when(v < F.lit(float(e)), F.lit(f"b{i}"))
        band = band.otherwise(F.lit(f"b{len(edges)}"))
    modality = F.col("modality") if cfg.by_modality else F.lit(None).cast("string")
    lang = F.coalesce(F.col("lang"), F.lit("und"))
    return F.concat_ws("/", F.col("source"), lang, band, modality), band, modality


def band_edges(tokens, cfg) -> list[float]:
    """The band edges: given, or the signal's quantiles over the documents reaching the
    mixture (Spark's approxQuantile, relative error 1e-4)."""
    if not cfg.band_signal:
        return []
    if cfg.band_edges:
        return list(cfg.band_edges)
    from pyspark.sql import functions as F

    values = tokens.select(F.col("signals")[cfg.band_signal].alias("v")).where(F.col("v").isNotNull())
    return [float(e) for e in values.approxQuantile("v", list(cfg.band_quantiles), 1e-4)]


def with_buckets(tokens, cfg, edges):
    from pyspark.sql import functions as F

    bucket, band, modality = bucket_columns(cfg, edges)
    return tokens.select("*", bucket.alias("_bucket"), band.alias("_band"), modality.alias("_modality"),
                         F.coalesce(F.col("lang"), F.lit("und")).alias("_lang"))


def count_buckets(df) -> list[BucketCount]:
    from pyspark.sql import functions as F

    rows = (df.groupBy("_bucket", "source", "_lang", "_band", "_modality")
            .agg(F.count("*").alias("docs"), F.sum("n_tokens").alias("tokens")).collect())
    return [BucketCount(r["_bucket"], r["source"], r["_lang"], r["_band"], r["_modality"], int(r["docs"]),
                        int(r["tokens"])) for r in rows]


def _plan_table(spark, plan: MixturePlan, cut: dict[str, Cut]):
    rows = [(b.name, copies_floor(b.rate), cut.get(b.name, NONE).priority, cut.get(b.name, NONE).id)
            for b in plan.buckets if b.rate > 0]
    schema = "_bucket string, _k0 int, _cut_p long, _cut_id string"
    return spark.createDataFrame(rows, schema)


def _priority(seed: int):
    """A document's coin for its copy `_k0`: Spark's xxhash64 of (seed, id, copy index), as a
    non-negative long; the same on every cluster and rerun."""
    from pyspark.sql import functions as F

    return F.xxhash64(F.lit(seed), F.col("id"), F.col("_k0")).bitwiseAND(F.lit((1 << PRIORITY_BITS) - 1))


def find_cuts(df, plan: MixturePlan, seed: int, driver_max_rows: int) -> dict[str, Cut]:
    """The cut of every bucket with a fractional rate, exact. The candidates are fetched to
    the driver when at most `driver_max_rows`; otherwise each large bucket's priority range
    is narrowed to the 1/4,096 slice holding its cut (one narrow aggregation per round, the
    cumulative sums in a window over the bins) until they are."""
    from pyspark.sql import functions as F

    residual = {b.name: b.target_tokens - copies_floor(b.rate) * b.available_tokens for b in plan.buckets
                if b.rate > 0 and b.target_tokens - copies_floor(b.rate) * b.available_tokens > 0}
    if not residual:
        return {}
    spark = df.sparkSession
    k0 = {b.name: copies_floor(b.rate) for b in plan.buckets}
    small = spark.createDataFrame([(b, k0[b], float(r)) for b, r in residual.items()],
                                  "_bucket string, _k0 int, _residual double")
    cand = (df.select("_bucket", "id", "n_tokens").join(F.broadcast(small), "_bucket")
            .select("_bucket", "id", "n_tokens", "_residual", _priority(seed).alias("_p")))
    docs = {b.name: b.documents for b in plan.buckets if b.name in residual}
    state = {b: [0, PRIORITY_BITS, 0, 0] for b in residual}  # lo, bits, docs before, tokens before
    while sum(docs.values()) > driver_max_rows:
        big = [b for b in residual if docs[b] > 1 and state[b][1] > 0]
        if not big:
            break
        big = sorted(big, key=lambda b: -docs[b])
        total, chosen = sum(docs.values()), []
        for b in big:  # the largest first, until what is left fits the driver
            chosen.append(b)
            total -= docs[b]
            if total <= driver_max_rows:
                break
        refined = _refine(spark, cand, state, chosen)
        if not refined:
            break
        for b, (lo, docs_in, before_docs, before_tokens) in refined.items():
            shift = max(state[b][1] - REFINE_BITS, 0)
            state[b] = [lo, shift, before_docs, before_tokens]
            docs[b] = docs_in
    ranges = spark.createDataFrame([(b, s[0], s[0] + (1 << s[1])) for b, s in state.items()],
                                   "_bucket string, _lo long, _hi long")
    in_range = (F.col("_p") >= F.col("_lo")) & (F.col("_p") < F.col("_hi"))
    rows = (cand.join(F.broadcast(ranges), "_bucket").where(in_range)
            .select(F.col("_bucket").alias("bucket"), F.col("_p").alias("priority"), "id", "n_tokens"))
    table = rows.select("bucket", "priority", "id", F.col("n_tokens").cast("long").alias("n_tokens")).toArrow()
    before = {b: (s[2], s[3], s[0]) for b, s in state.items()}
    return cuts(table, residual, before)


def _refine(spark, cand, state: dict, chosen: list[str]) -> dict[str, tuple[int, int, int, int]]:
    """One round: for each chosen bucket, the bin of its range where its cumulative tokens
    reach its residual -> (new lo, documents in the bin, documents and tokens before it)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    spec = spark.createDataFrame(
        [(b, state[b][0], state[b][1], max(state[b][1] - REFINE_BITS, 0), state[b][2], state[b][3]) for b in chosen],
        "_bucket string, _lo long, _bits int, _shift int, _d0 long, _t0 long")
    width = F.expr("shiftleft(cast(1 as bigint), _bits)")
    inside = (F.col("_p") >= F.col("_lo")) & (F.col("_p") < F.col("_lo") + width)
    bins = (cand.join(F.broadcast(spec), "_bucket").where(inside)
            .groupBy("_bucket", "_lo", "_shift", "_d0", "_t0", "_residual",
                     F.expr("shiftright(_p - _lo, _shift)").alias("_bin"))
            .agg(F.sum("n_tokens").alias("_n"), F.count("*").alias("_c")))
    w = Window.partitionBy("_bucket").orderBy("_bin")
    cum = bins.select("*", F.sum("_n").over(w).alias("_cum"), F.sum("_c").over(w).alias("_cumc"))
    need = F.col("_residual") - F.col("_t0")
    crossing = cum.where((F.col("_cum") >= need) & (F.col("_cum") - F.col("_n") < need))
    out = {}
    for r in crossing.collect():
        lo = r["_lo"] + (r["_bin"] << r["_shift"])
        out[r["_bucket"]] = (lo, r["_c"], r["_d0"] + r["_cumc"] - r["_c"], r["_t0"] + r["_cum"] - r["_n"])
    return out


def murmur3_int(value: int, seed: int = 42) -> int:
    """Spark's `hash()` of an int column (Murmur3 x86_32 of 4 bytes), as a signed int."""
    m = 0xFFFFFFFF

    def rotl(x, r):
        return ((x << r) | (x >> (32 - r))) & m

    k1 = (value & m) * 0xCC9E2D51 & m
    k1 = rotl(k1, 15) * 0x1B873593 & m
    h1 = rotl(seed ^ k1, 13)
    h1 = (h1 * 5 + 0xE6546B64) & m
    h1 ^= 4
    h1 ^= h1 >> 16
    h1 = h1 * 0x85EBCA6B & m
    h1 ^= h1 >> 13
    h1 = h1 * 0xC2B2AE35 & m
    h1 ^= h1 >> 16
    return h1 - (1 << 32) if h1 >= 1 << 31 else h1


def routes(partitions: int) -> list[int]:
    """route[p]: an int whose Spark hash falls in partition p, so repartitioning by it puts a
    row in exactly the partition chosen for it."""
    found: dict[int, int] = {}
    v = 0
    while len(found) < partitions:
        found.setdefault(murmur3_int(v) % partitions, v)
        v += 1
    return [found[p] for p in range(partitions)]


def copies(df, plan: MixturePlan, cut: dict[str, Cut], seed: int, partitions: int):
    """Every document repeated by its bucket's rate: copy 0 keeps its id, copy k is
    `<id>_r<k>`; copy k goes to partition (hash(id) + k) mod partitions, so a document's
    copies land in different partitions (different shards) whenever it has no more copies
    than there are partitions, and in one partition they are `_round` apart."""
    from pyspark.sql import functions as F

    table = _plan_table(df.sparkSession, plan, cut)
    counted = df.join(F.broadcast(table), "_bucket").withColumn("_prio", _priority(seed))
    extra = (F.col("_prio") < F.col("_cut_p")) | ((F.col("_prio") == F.col("_cut_p")) & (
        F.col("_cut_id").isNull() | (F.col("id") <= F.col("_cut_id"))))
    n = F.col("_k0") + F.when(extra, 1).otherwise(0)
    route = F.array(*[F.lit(v) for v in routes(partitions)])
    return (counted.where(n > 0)
            .select("*", F.explode(F.sequence(F.lit(0), n - 1)).alias("copy"))
            .withColumn("doc_id", F.col("id"))
            .withColumn("id", F.when(F.col("copy") == 0, F.col("id"))
                        .otherwise(F.concat(F.col("id"), F.lit("_r"), F.col("copy").cast("string"))))
            .withColumn("_part", F.pmod(F.hash("doc_id") + F.col("copy"), F.lit(partitions)))
            .withColumn("_round", F.floor(F.col("copy") / F.lit(partitions)))
            .withColumn("_route", F.element_at(route, F.col("_part") + 1)))


def written(plan: MixturePlan, cut: dict[str, Cut]) -> dict[str, tuple[int, int]]:
    """(samples, tokens) each bucket writes, from the plan and the cuts alone."""
    out = {}
    for b in plan.buckets:
        k0 = copies_floor(b.rate) if b.rate > 0 else 0
        c = cut.get(b.name, NONE)
        out[b.name] = (k0 * b.documents + c.docs, k0 * b.available_tokens + c.tokens)
    return out
