"""Image dedup: exact and perceptual duplicates, and images repeated across many documents.

Nodes are image contents (sha1 of the bytes). Two contents are near-duplicates when their
64-bit perceptual hashes are within `image_max_hamming` bits: the hash is cut into
max_hamming + 1 bands, so such a pair agrees exactly on at least one band (pigeonhole) and
only contents sharing a band are compared. Connected components give image clusters.

- A cluster found in more than `image_max_docs` documents (logos, icons, buttons, share
  widgets) is removed from every document: the part stays with `meta.dropped =
  frequent_image` so the drop is counted, and an image-text pair left without its picture
  is rejected.
- Among image-text pairs (one picture, only captions), one pair per image cluster survives.
"""

from __future__ import annotations

from pyspark.sql import functions as F
from pyspark.sql.types import StringType

from pipelines.checkpoint import materialize
from pipelines.clusters import cluster_frames, components, mark, small_table, survivors
from pipelines.config import DedupConfig
from pipelines.schema import KEEP, caption_documents
from pipelines.stage import Stage

FREQUENT = "frequent_image"


def _image_rows(batches):
    import pyarrow as pa
    import pyarrow.compute as pc

    from vision_prep.phash import to_signed

    for batch in batches:
        parts = batch.column("parts")
        offsets = parts.offsets.to_numpy()
        flat = parts.flatten()
        kinds = flat.field("kind").to_pylist()
        meta = flat.field("meta")
        sha1 = pc.map_lookup(meta, "sha1", "first").to_pylist()
        phash = pc.map_lookup(meta, "phash", "first").to_pylist()
        ids = batch.column("id").to_pylist()
        rows = {"id": [], "pos": [], "sha1": [], "phash": [], "pair": []}
        base = offsets[0]
        for i, is_pair in enumerate(caption_documents(batch)):
            lo, hi = offsets[i] - base, offsets[i + 1] - base
            usable = [j for j in range(lo, hi) if kinds[j] == "image" and sha1[j] and phash[j]]
            for j in usable:
                rows["id"].append(ids[i])
                rows["pos"].append(j - lo)
                rows["sha1"].append(sha1[j])
                rows["phash"].append(to_signed(int(phash[j], 16)))
                rows["pair"].append(bool(is_pair and len(usable) == 1))
        yield pa.RecordBatch.from_pydict(rows, schema=pa.schema([
            ("id", pa.string()), ("pos", pa.int32()), ("sha1", pa.string()),
            ("phash", pa.int64()), ("pair", pa.bool_())]))


def band_widths(max_hamming: int) -> list[tuple[int, int]]:
    """(bit offset, width) of max_hamming + 1 bands covering the 64 bits."""
    n = max_hamming + 1
    widths = [64 // n + (1 if b < 64 % n else 0) for b in range(n)]
    offsets = [sum(widths[:b]) for b in range(n)]
    return list(zip(offsets, widths))


class ImageDedup(Stage):
    name = "dedup_images"
    reads = ("id", "parts", "status")
    writes = ("parts", "status")

    def __init__(self, cfg: DedupConfig):
        self.cfg = cfg
        self.clusters = None
        self.local_clusters = None  # the pair clusters' rows as an Arrow table, when decided on the driver
        self.stats: dict = {}

    def image_clusters(self, imgs):
        """(sha1, cluster) for every distinct content; cluster = lowest sha1 of its component."""
        contents = imgs.groupBy("sha1").agg(F.min("phash").alias("phash"))
        k = self.cfg.image_max_hamming
        bands = F.array(*[F.struct(F.lit(b).alias("band"),
                                   F.shiftrightunsigned("phash", off).bitwiseAND(F.lit((1 << w) - 1).cast("long")).alias("key"))
                          for b, (off, w) in enumerate(band_widths(k))])
        banded = contents.select("sha1", "phash", F.explode(bands).alias("b")).select("sha1", "phash", "b.*")
        x, y = banded.alias("x"), banded.alias("y")
        near = (x.join(y, ["band", "key"])
                .filter(F.col("x.sha1") < F.col("y.sha1"))
                .filter(F.bit_count(F.col("x.phash").bitwiseXOR(F.col("y.phash"))) <= k)
                .select(F.col("x.sha1").alias("a"), F.col("y.sha1").alias("b")).distinct())
        comp = components(near, self.cfg.driver_max_rows)
        self.stats.update(cc_rounds=comp.rounds, cc_on=comp.where)
        labels = comp.labels.select(F.col("node").alias("sha1"), F.col("root").alias("cluster"))
        return (contents.join(labels, "sha1", "left")
                .select("sha1", F.coalesce("cluster", "sha1").alias("cluster")))

    def apply(self, df):
        kept = df.filter(F.col("status") == KEEP).select("id", "parts")
        imgs = materialize(kept.mapInArrow(_image_rows, "id string, pos int, sha1 string, phash long, pair boolean"),
                           "images")
        local = small_table(imgs, self.cfg.driver_max_rows)
        self.local_clusters = None
        if local is not None:
            dropped, pair_labels = self._on_driver(imgs, local)
            # Pair clusters are named by an image's sha1, not by a document id.
            self.clusters, self.local_clusters = cluster_frames(
                df, pair_labels, self.cfg.order_by, "image_pair_clusters", StringType())
        else:
            dropped, labels = self._in_spark(imgs)
            self.clusters = materialize(survivors(labels, df, self.cfg.order_by), "image_pair_clusters")
        self.stats.update(max_docs_per_image=self.cfg.image_max_docs, max_hamming=self.cfg.image_max_hamming)

        positions = dropped.groupBy("id").agg(F.collect_set("pos").alias("_drop"))
        out = df.join(positions, "id", "left")
        new_parts = F.transform("parts", lambda p, i: F.when(
            F.coalesce(F.array_contains("_drop", i), F.lit(False)), _dropped(p)).otherwise(p))
        out = out.withColumn("parts", new_parts).drop("_drop").select(*df.columns)
        lost_pairs = dropped.filter("pair").select("id")
        out = mark(out, lost_pairs, f"{self.name}:{FREQUENT}")
        return mark(out, self.clusters.filter(~F.col("survivor")), f"{self.name}:near_duplicate")

    def _in_spark(self, imgs):
        """-> (dropped (id, pos, pair), pair labels (node, root) of clusters with copies)."""
        clusters = materialize(self.image_clusters(imgs), "image_clusters")
        placed = imgs.join(clusters, "sha1")
        docs = placed.groupBy("cluster").agg(F.countDistinct("id").alias("docs"))
        frequent = docs.filter(F.col("docs") > self.cfg.image_max_docs).select("cluster")
        dropped = materialize(placed.join(frequent, "cluster", "left_semi"), "frequent_dropped")
        pairs = placed.filter("pair").join(frequent, "cluster", "left_anti")
        labels = pairs.select(F.col("id").alias("node"), F.col("cluster").alias("root"))
        multi = labels.groupBy("root").count().filter(F.col("count") > 1).select("root")
        contents = clusters.agg(F.count("*").alias("n"), F.countDistinct("cluster").alias("c")).first()
        gone = dropped.agg(F.count("*").alias("n"), F.countDistinct("cluster").alias("c")).first()
        self.stats.update({
            "images": imgs.count(), "distinct_images": contents["n"], "image_clusters": contents["c"],
            "frequent_clusters": gone["c"], "frequent_parts_dropped": gone["n"]})
        return dropped.select("id", "pos", "pair"), labels.join(multi, "root", "left_semi")

    def _on_driver(self, imgs, table):
        """The same decisions from the image rows in one process (image_decisions).
        -> (dropped (id, pos, pair) DataFrame, pair labels as (id, cluster) pairs)."""
        rows = list(zip(*(table.column(c).to_pylist() for c in ("id", "pos", "sha1", "phash", "pair"))))
        d = image_decisions(rows, self.cfg.image_max_hamming, self.cfg.image_max_docs)
        self.stats.update(cc_rounds=0, cc_on="driver", images=len(rows), distinct_images=d["contents"],
                          image_clusters=d["clusters"], frequent_clusters=d["frequent"],
                          frequent_parts_dropped=len(d["dropped"]))
        dropped = imgs.sparkSession.createDataFrame(d["dropped"], "id string, pos int, pair boolean")
        return dropped, d["pair_labels"]


def image_decisions(rows: list[tuple], max_hamming: int, max_docs: int) -> dict:
    """Image rows (id, pos, sha1, signed phash, pair) -> what the Spark path decides: frequent
    parts to drop (id, pos, pair), image-text pairs in clusters with copies (id, cluster),
    and counts. Contents within `max_hamming` bits, found through the same bands, are linked;
    a cluster is named by its lowest sha1."""
    from collections import defaultdict

    from filters.components import components as local_components

    m64 = (1 << 64) - 1
    contents: dict[str, int] = {}
    for _, _, sha1, ph, _ in rows:
        contents[sha1] = min(ph, contents.get(sha1, ph))
    buckets = defaultdict(list)
    for sha1, ph in contents.items():
        for b, (off, w) in enumerate(band_widths(max_hamming)):
            buckets[(b, ((ph & m64) >> off) & ((1 << w) - 1))].append(sha1)
    near = {(x, y) for members in buckets.values() for x in members for y in members
            if x < y and ((contents[x] ^ contents[y]) & m64).bit_count() <= max_hamming}
    roots = local_components(sorted(near))
    cluster = {sha1: roots.get(sha1, sha1) for sha1 in contents}
    docs = defaultdict(set)
    for doc_id, _, sha1, _, _ in rows:
        docs[cluster[sha1]].add(doc_id)
    frequent = {c for c, ids in docs.items() if len(ids) > max_docs}
    dropped = [(doc_id, pos, pair) for doc_id, pos, sha1, _, pair in rows if cluster[sha1] in frequent]
    pairs = [(doc_id, cluster[sha1]) for doc_id, _, sha1, _, pair in rows if pair and cluster[sha1] not in frequent]
    size = defaultdict(int)
    for _, c in pairs:
        size[c] += 1
    return {"dropped": dropped, "pair_labels": [(i, c) for i, c in pairs if size[c] > 1],
            "contents": len(contents), "clusters": len(set(cluster.values())),
            "frequent": len({cluster[sha1] for _, _, sha1, _, _ in rows if cluster[sha1] in frequent})}


def _dropped(p):
    return F.struct(p["kind"].alias("kind"), p["text"].alias("text"),
                    F.lit(None).cast("binary").alias("data"),
                    F.map_concat(p["meta"], F.create_map(F.lit("dropped"), F.lit(FREQUENT))).alias("meta"))
