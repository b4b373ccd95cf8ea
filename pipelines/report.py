"""The run's report: per-stage counts from the `status` column (rows in, kept, rejected by
reason), part drops, per-stage seconds, global stages' statistics and clusters, skipped
input files; written as `report/stages.json` (docs/output.md, "Report")."""

from __future__ import annotations

import shutil
from collections import Counter, defaultdict
from pathlib import Path

from pipelines.schema import KEEP

PREVIEW_CHARS = 2000


def stage_counts(status_counts: dict[str, int], stages: list[str]) -> list[dict]:
    """status -> count (over all rows) -> one entry per stage, in pipeline order.

    A row rejected by stage k never reaches stage k+1, so a stage's input is the previous
    stage's kept count; a status naming no known stage is an error, not a silent loss.
    """
    rejected: dict[str, dict[str, int]] = defaultdict(dict)
    total = 0
    for status, n in status_counts.items():
        total += n
        if status == KEEP:
            continue
        stage, _, reason = status.partition(":")
        if stage not in stages:
            raise ValueError(f"status {status!r} names no stage of this pipeline {stages}")
        rejected[stage][reason] = rejected[stage].get(reason, 0) + n
    out, rows_in = [], total
    for stage in stages:
        reasons = dict(sorted(rejected.get(stage, {}).items()))
        n_rej = sum(reasons.values())
        out.append({"stage": stage, "in": rows_in, "kept": rows_in - n_rej,
                    "rejected": n_rej, "reasons": reasons})
        rows_in -= n_rej
    if rows_in != status_counts.get(KEEP, 0):
        raise AssertionError(f"kept rows {status_counts.get(KEEP, 0)} != last stage's kept {rows_in}")
    return out


def status_and_drops(docs) -> tuple[list[dict], dict[str, int]]:
    """Documents per (source, status), sorted, and the parts kept documents lost, per
    reason: one aggregation (Parquet reads `parts.meta`, neither texts nor image bytes)."""
    from pyspark.sql import functions as F

    reasons = F.transform(F.filter("parts.meta", lambda m: m["dropped"].isNotNull()), lambda m: m["dropped"])
    # One row per dropped part of a kept document, or one row (pos null) for any other document.
    rows = docs.select("source", "status",
                       F.posexplode_outer(F.when(F.col("status") == KEEP, reasons)).alias("pos", "reason"))
    first = F.col("pos").isNull() | (F.col("pos") == 0)
    counts = rows.groupBy("source", "status", "reason").agg(
        F.count("*").alias("n"), F.count(F.when(first, True)).alias("docs")).collect()
    per_source: dict[tuple[str, str], int] = {}
    drops: dict[str, int] = {}
    for r in counts:
        per_source[(r["source"], r["status"])] = per_source.get((r["source"], r["status"]), 0) + r["docs"]
        if r["reason"] is not None:
            drops[r["reason"]] = drops.get(r["reason"], 0) + r["n"]
    by_source = [{"source": s, "status": st, "count": n} for (s, st), n in sorted(per_source.items())]
    return by_source, drops


def rejected_rows(docs):
    """The rejected documents as `rejected/` holds them: id, source, uri, status, language,
    signals and the start of their text."""
    from pyspark.sql import functions as F

    texts = F.filter("parts", lambda p: p["kind"] == "text")
    preview = F.substring(F.concat_ws("\n\n", F.transform(texts, lambda p: p["text"])), 1, PREVIEW_CHARS)
    return (docs.filter(F.col("status") != KEEP)
            .select("id", "source", "uri", "status", "lang", "lang_score", "signals", preview.alias("text_preview"))
            .orderBy("id"))


def summarize(clusters) -> dict:
    """clusters (id, root, survivor), an Arrow table or a DataFrame -> counts and the size
    histogram."""
    if clusters is None:
        hist: dict = {}
    elif hasattr(clusters, "column"):  # an Arrow table, decided on the driver
        hist = dict(Counter(Counter(clusters.column("root").to_pylist()).values()))
    else:
        from pyspark.sql import functions as F

        sizes = clusters.groupBy("root").count()
        hist = {int(r["count"]): int(r["n"]) for r in
                sizes.groupBy("count").agg(F.count("*").alias("n")).collect()}
    members = sum(k * v for k, v in hist.items())
    return {"clusters": sum(hist.values()), "members": members, "removed": members - sum(hist.values()),
            "largest": max(hist) if hist else 0, "size_histogram": {str(k): hist[k] for k in sorted(hist)}}


def global_summary(report, family: str, clusters_path: str, shuffle: dict | None, workdir=None) -> dict:
    """One family's block of the report (`dedup`): per stage kind its statistics and its
    clusters' summary; the clusters themselves go to `clusters_path` as Parquet (kind, id,
    root, survivor), written without Spark when every stage decided on the driver."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    results = [r for r in report.globals.values() if r.family == family]
    block: dict = {"shuffle": shuffle}
    tables, frames = [], []
    for r in results:
        block[r.kind] = dict(r.stats, decided_on=r.where, **summarize(r.clusters))
        c = r.clusters
        if c is None:
            continue
        if hasattr(c, "column"):
            tables.append(c.select(["id", "root", "survivor"]).add_column(
                0, "kind", pa.array([r.kind] * c.num_rows, pa.string())))
        else:
            from pyspark.sql import functions as F

            frames.append(c.select(F.lit(r.kind).alias("kind"), "id", "root", "survivor"))
    if not frames:
        union = (pa.concat_tables(tables) if tables else
                 pa.schema([("kind", pa.string()), ("id", pa.string()), ("root", pa.string()),
                            ("survivor", pa.bool_())]).empty_table())
        ordered = union.sort_by([("kind", "ascending"), ("root", "ascending"), ("id", "ascending")])
        if workdir is not None and workdir.uri:  # a Hadoop URI: the bytes go through its file system
            buf = pa.BufferOutputStream()
            pq.write_table(ordered, buf)
            workdir.remove(clusters_path)
            workdir.write_bytes(f"{clusters_path}/part-00000.parquet", buf.getvalue().to_pybytes())
            workdir.write_bytes(f"{clusters_path}/_SUCCESS", b"")
            return block
        target = Path(clusters_path)
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        pq.write_table(ordered, target / "part-00000.parquet")
        (target / "_SUCCESS").touch()
        return block
    spark = frames[0].sparkSession
    for t in tables:
        frames.append(spark.createDataFrame(t, "kind string, id string, root string, survivor boolean"))
    union = frames[0]
    for f in frames[1:]:
        union = union.unionByName(f)
    union.orderBy("kind", "root", "id").write.parquet(str(clusters_path))
    return block


def report_dict(stages: list[dict], by_source: list[dict], timings: dict, status_counts: dict,
                part_drops: dict, dedup: dict | None = None, resumed: list[str] | None = None,
                stage_seconds: dict | None = None, skipped_files: dict | None = None,
                fetched: dict | None = None, curation: dict | None = None) -> dict:
    ingested = stages[0]["in"] if stages else 0
    return {
        "stages": stages,
        "by_source": by_source,
        "part_drops": dict(sorted(part_drops.items())),
        "timings_s": timings,
        # Seconds in each stage's own work, summed over tasks (fused stages are timed apart).
        "stage_seconds": dict(sorted((stage_seconds or {}).items())),
        # Files under an input path that were not read, per source and reason.
        "skipped_files": skipped_files or {},
        # Phases taken from an interrupted run's checkpoints instead of being recomputed.
        "resumed": resumed or [],
        "throughput": {"records": ingested,
                       "records_per_s": round(ingested / timings["total"], 1) if timings.get("total") else None},
        "status_counts": dict(sorted(status_counts.items())),
        "dedup": dedup or {},
        # Images fetched by URL in this run (its failures are part drops `fetch_<reason>`).
        "fetched": fetched or {},
        # URL dedup, line dedup and classifiers: what each decided beyond its rejections.
        "curation": curation or {},
    }


def signal_totals(docs, names: list[str]) -> dict[str, dict]:
    """Per signal: documents carrying it, and its sum (lines removed) or mean (a score), over
    every document whatever its status: one aggregation reading `signals` alone."""
    from pyspark.sql import functions as F

    if not names:
        return {}
    aggs = []
    for i, name in enumerate(names):
        value = F.col("signals")[name]
        aggs += [F.count(value).alias(f"n{i}"), F.sum(value).alias(f"s{i}")]
    row = docs.select("signals").agg(*aggs).collect()[0]
    return {name: {"documents": int(row[f"n{i}"]), "sum": float(row[f"s{i}"] or 0.0)}
            for i, name in enumerate(names)}


def curation_block(cfg, saved: dict, totals: dict[str, dict], status_counts: dict | None = None) -> dict:
    """The report's `curation` block: what the record phase saved (URL dedup's and the
    top-fraction decisions' statistics, line dedup's counts) and the signals' totals."""
    block: dict = {}
    if cfg.url_dedup.enabled:
        block["url_dedup"] = saved.get("url_dedup", {})
    if cfg.line_dedup.enabled:
        lines, chars = totals.get("line_dedup.lines_removed", {}), totals.get("line_dedup.chars_removed", {})
        block["line_dedup"] = dict(saved.get("line_dedup", {}), documents_touched=lines.get("documents", 0),
                                   lines_removed=int(lines.get("sum", 0)), chars_removed=int(chars.get("sum", 0)))
    top = saved.get("classifier", {})
    for c in cfg.classifiers:
        t = totals.get(f"classifier.{c.name}", {})
        n = t.get("documents", 0)
        block.setdefault("classifiers", {})[c.name] = dict(
            {"mode": c.mode, "scored": n, "mean_score": round(t["sum"] / n, 6) if n else None},
            **({"threshold": c.threshold} if c.mode == "threshold" else {}),
            **({"fraction": c.fraction, **top.get(c.name, {})} if c.mode == "top_fraction" else {}))
    if cfg.decontamination.sets:
        block["decontamination"] = decontamination_block(cfg.decontamination, saved.get("decontamination", {}),
                                                         totals, status_counts or {})
    return block


def decontamination_block(cfg, saved: dict, totals: dict[str, dict], status_counts: dict) -> dict:
    """Per task: n-grams indexed and common, texts ignored, documents touched, spans and
    characters removed, documents rejected; and a warning past `warn_share`."""
    block = {k: v for k, v in saved.items() if k != "tasks"}
    tasks = {}
    for name, s in (saved.get("tasks") or {}).items():
        t = totals.get(f"decontamination.task.{name}", {})
        tasks[name] = dict(s, documents_touched=t.get("documents", 0), spans=int(t.get("sum", 0)),
                           chars_removed=int(totals.get(f"decontamination.chars.{name}", {}).get("sum", 0)),
                           documents_rejected=status_counts.get(f"decontamination:{name}", 0))
    rejected = sum(t["documents_rejected"] for t in tasks.values())
    cut = totals.get("decontamination.cuts", {})
    touched = max(cut.get("documents", 0), max((t["documents_touched"] for t in tasks.values()), default=0))
    block.update(tasks=tasks, documents_rejected=rejected, documents_touched=touched,
                 cuts=int(cut.get("sum", 0)),
                 chars_removed=int(totals.get("decontamination.chars_removed", {}).get("sum", 0)))
    docs = block.get("documents", 0)
    share = touched / docs if docs else 0.0
    block["share_touched"] = round(share, 6)
    if share > cfg.warn_share:
        block["warning"] = (f"decontamination touched {100 * share:.2f}% of the documents reaching it, over "
                            f"warn_share {100 * cfg.warn_share:.2f}%: check the sets (a common phrase, a task "
                            "that is web text) before training on this")
    return block
