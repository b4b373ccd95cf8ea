"""The phases of a run, each ending in a checkpoint or an output (docs/design.md, "Phases"):
records (ingest and the per-record stages) -> `filtered`; global stages (dedup) -> `docs`;
report and `rejected/`; tokens and shards. Each phase reads the previous one's Parquet, so
no Spark plan recomputes extraction or language ID.
"""

from __future__ import annotations

import json

from pipelines.context import RunContext
from pipelines.schema import KEEP, MEDIA_KINDS
from pipelines.stage import Stage, StageContractError, fuse


def apply_all(stages: list[Stage], df, ctx: RunContext):
    for stage in stages:
        df = stage.apply(df, ctx)
    return df


def split_by_scope(stages: list[Stage]) -> tuple[list[Stage], list[Stage]]:
    """(stages over every record, stages over records with media), the second all after the
    first: media stages see what the text stages kept, and nothing else reads their work."""
    first = [s for s in stages if s.scope != "media"]
    media = [s for s in stages if s.scope == "media"]
    if media and stages.index(media[0]) < stages.index(first[-1]):
        raise StageContractError(f"stage {media[0].name} (media scope) comes before {first[-1].name}: media "
                                 "stages run last in the record phase")
    return first, media


def segments(stages: list[Stage]) -> list[list[Stage]]:
    """The stages cut before every barrier stage (one that needs all the records reaching
    it first), except right after a global stage: consecutive global stages, and a barrier
    stage that prepares from what they kept, share one Parquet checkpoint."""
    from pipelines.global_stage import GlobalStage

    out: list[list[Stage]] = [[]]
    for stage in stages:
        if stage.barrier and out[-1] and not isinstance(out[-1][-1], GlobalStage):
            out.append([])
        out[-1].append(stage)
    return out


def run_segment(segment: list[Stage], df, ctx: RunContext):
    """A segment after a checkpoint: its global stages decide over `df` (marks joined back),
    its barrier stages prepare from the records that reach them, the rest run fused."""
    from pipelines.global_stage import GlobalStage, run_global_stages

    batch: list[Stage] = []
    for stage in segment:
        if isinstance(stage, GlobalStage):
            if batch:
                raise StageContractError(f"global stage {stage.name} follows batch stages in one segment")
            df = run_global_stages([stage], df, ctx)
            continue
        if stage.barrier:
            ctx.tables["reaching"] = df
            stage = stage.prepare(ctx)
        if stage is not None:
            batch.append(stage)
    ctx.tables.pop("reaching", None)
    return apply_all(fuse(batch), df, ctx)


def record_phase(stages: list[Stage], ctx: RunContext, ingested: str, filtered: str) -> None:
    """Ingest and the per-record stages -> Parquet at `filtered`.

    The source and the stages over every record up to the first barrier stage run in one
    Python pass per input file (fused). Each barrier (URL dedup, line dedup, a top-fraction
    classifier: stages that need every record reaching them first) costs one Parquet write
    and read of the records (`ingested-<n>`), never a second extraction. Without media
    stages the last pass writes `filtered`. Otherwise it writes `ingested` while counting
    media records and image resources; the media stages then prepare for what was counted
    and run only on records that hold media, the others are copied by the JVM, and a run
    without any media renames `ingested` to `filtered`.
    """

    first, media = split_by_scope(stages)
    head, *rest = segments(first)
    records = apply_all(fuse(head), None, ctx)
    written: list[str] = []
    for n, segment in enumerate(rest):
        path = f"{ingested}-{n}"
        records.write.mode("overwrite").parquet(path)
        written.append(path)
        records = run_segment(segment, ctx.spark.read.parquet(path), ctx)
    _media_phase(records, media, ctx, ingested, filtered)
    for path in written:
        ctx.workdir.remove(path)


def _media_phase(records, media: list[Stage], ctx: RunContext, ingested: str, filtered: str) -> None:
    from pyspark.sql import functions as F

    if not media:
        records.write.mode("overwrite").parquet(filtered)
        return
    records.write.mode("overwrite").parquet(ingested)
    if ctx.count("media_records") == 0:
        ctx.workdir.rename(ingested, filtered)
        return
    df = ctx.spark.read.parquet(ingested)
    ctx.tables["ingested"] = df
    has_media = F.coalesce((F.col("status") == KEEP) & F.exists(
        "parts", lambda p: p["kind"].isin(*MEDIA_KINDS)), F.lit(False))
    prepared = [p for p in (s.prepare(ctx) for s in media) if p is not None]
    pages = apply_all(fuse(prepared), df.filter(has_media), ctx)
    try:
        pages.unionByName(df.filter(~has_media)).write.mode("overwrite").parquet(filtered)
    finally:
        ctx.release()  # broadcasts of up to images.resolve_on_driver_bytes, on driver and workers
        del ctx.tables["ingested"]
    ctx.workdir.remove(ingested)


def global_phase(stages, df, ctx: RunContext, docs_path: str, clusters_path: str) -> dict:
    """The global stages over the filtered documents -> Parquet at `docs_path`; returns the
    report's block of their family (statistics, clusters summary, the phase's shuffle)."""
    from pipelines.global_stage import run_global_stages
    from pipelines.report import global_summary
    from pipelines.sparkstats import last_stage_id, shuffle_since

    first_stage = last_stage_id(ctx.spark)
    run_global_stages(stages, df, ctx).write.mode("overwrite").parquet(docs_path)
    shuffle = shuffle_since(ctx.spark, first_stage)
    return global_summary(ctx.report, "dedup", clusters_path, shuffle, ctx.workdir)


class Background:
    """A Spark action on another thread (carrying this thread's job properties); join()
    waits for it and raises what it raised."""

    def __init__(self, action):
        from pyspark import InheritableThread

        self.error: BaseException | None = None

        def run():
            try:
                action()
            except BaseException as e:  # noqa: BLE001 - handed to the joining thread
                self.error = e

        self.thread = InheritableThread(target=run, daemon=True)
        self.thread.start()

    def join(self, raise_error: bool = True) -> None:
        self.thread.join()
        if self.error is not None and raise_error:
            raise self.error


def shard_phase(cfg, docs, ctx: RunContext, shard_dir: str, n_kept: int, done: dict,
                tokens_path: str | None = None) -> tuple[list[dict], int, dict[str, int]]:
    """Kept documents -> token streams -> webdataset shards under `shard_dir`; returns the
    shard infos (those of partitions an earlier attempt committed, `done`, included), the
    partition count and the documents the packed layout did not write, by reason. With a
    mixture the streams are written to `tokens_path` first (kept if already there), counted
    per bucket and repeated by the plan."""
    from pyspark.sql import functions as F

    from pipelines.stages.shard import WriteShards, auto_partitions
    from pipelines.stages.tokenize import Tokenize

    kept = docs.filter(F.col("status") == KEEP)
    tokenize = Tokenize(cfg.tokenizer.spec, cfg.tokenizer.part_separator, cfg.images.tile_size)
    if cfg.mixture.method:
        from pipelines.mixture.stage import Mixture

        if not ctx.workdir.exists(f"{tokens_path}/_SUCCESS"):
            tokenize.apply(kept, ctx).write.mode("overwrite").parquet(tokens_path)
        stage = Mixture(cfg.mixture, cfg.shards.max_samples, cfg.shards.partitions)
        tokens = stage.apply(ctx.spark.read.parquet(tokens_path), ctx)
        partitions = ctx.report.notes["mixture"]["partitions"]
        if done:  # a committed partition's copies are already in its shards
            tokens = tokens.filter(~F.col("_part").isin(list(done)))
    else:
        partitions = auto_partitions(n_kept, cfg.shards.max_samples, cfg.shards.partitions)
        if done:
            # Same documents, same partitioning: a committed partition needs no tokens.
            key = F.col("id")
            if cfg.shards.layout == "packed" and cfg.long_context.group_by:
                from pipelines.stages.pack import group_column

                key = group_column(cfg.long_context.group_by)
            kept = kept.filter(~F.pmod(F.hash(key), F.lit(partitions)).isin(list(done)))
        tokens = tokenize.apply(kept, ctx)
    if cfg.shards.layout == "packed":
        from pipelines.stages.pack import WritePacked
        from pipelines.stages.tokenize import tokenizer

        writer = WritePacked(shard_dir, cfg.shards.name, cfg.shards.max_samples, cfg.shards.max_bytes, partitions,
                             cfg.images, cfg.shards.seq_len, tokenizer(cfg.tokenizer.spec).pad_id,
                             cfg.long_context)
    else:
        writer = WriteShards(shard_dir, cfg.shards.name, cfg.shards.max_samples, cfg.shards.max_bytes, partitions,
                             cfg.images)
    rows = [r.asDict() for r in writer.apply(tokens, ctx).collect()]
    rows += [i for infos in done.values() for i in infos]
    dropped: dict[str, int] = {}
    for r in rows:
        for reason, n in json.loads(r.get("dropped") or "{}").items():
            dropped[reason] = dropped.get(reason, 0) + n
    infos = [{k: v for k, v in r.items() if k != "dropped"} for r in rows if r["name"]]
    return sorted(infos, key=lambda d: d["name"]), partitions, dict(sorted(dropped.items()))
