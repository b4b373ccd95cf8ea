"""The stages a config asks for, in pipeline order (docs/design.md, "Stages, in order").

Each stage is built from its own config section and is left out when disabled or when the
inputs give it nothing to do. A new stage is one line here, beside its config section.
"""

from __future__ import annotations

from pipelines.config import Config
from pipelines.global_stage import GlobalStage
from pipelines.ingest import Ingest
from pipelines.stage import Stage
from pipelines.stages.classifiers import Classifiers, ClassifierTop
from pipelines.stages.decontaminate import Decontaminate
from pipelines.stages.dedup_exact import ExactDedup
from pipelines.stages.dedup_images import ImageDedup
from pipelines.stages.dedup_near import NearDedup
from pipelines.stages.dedup_url import UrlDedup
from pipelines.stages.dedup_video import VideoDedup
from pipelines.stages.fetch_images import FetchImages
from pipelines.stages.images import Images
from pipelines.stages.langid import LanguageId
from pipelines.stages.line_dedup import LineDedup
from pipelines.stages.metaclip import MetaClipBalance, MetaClipMatch
from pipelines.stages.pii import PiiMask
from pipelines.stages.quality import Quality
from pipelines.stages.resolve_images import ResolveImages
from pipelines.stages.urlfilter import UrlFilter
from pipelines.stages.video import Video


def _has(cfg: Config, fmt: str) -> bool:
    return any(i.format == fmt for i in cfg.inputs)


def record_stages(cfg: Config) -> list[Stage]:
    """Ingest, then the per-record stages. The text stages come first: they neither read nor
    change image parts, so the media stages (scope "media") run after them, over the
    records that still hold media. Llama 3's order for text: URL dedup, line dedup, then
    the language and quality judgements of what is left; PII is masked before the first
    checkpoint stores any text."""
    stages: list[Stage] = [Ingest(cfg.inputs, cfg.run.arrow_batch_size)]
    if cfg.urlfilter.enabled:
        stages.append(UrlFilter(cfg.urlfilter))
    if cfg.pii.enabled:
        stages.append(PiiMask(cfg.pii))
    if cfg.url_dedup.enabled:
        stages.append(UrlDedup(cfg.url_dedup, cfg.dedup.driver_max_rows))
    if cfg.line_dedup.enabled:
        stages.append(LineDedup(cfg.line_dedup, driver_max_rows=cfg.dedup.driver_max_rows))
    if cfg.langid.enabled:
        stages.append(LanguageId(cfg.langid))
    if cfg.quality.enabled:
        stages.append(Quality(cfg.quality))
    if cfg.classifiers:
        stages.append(Classifiers(cfg.classifiers))
        if any(c.mode == "top_fraction" for c in cfg.classifiers):
            stages.append(ClassifierTop(cfg.classifiers, cfg.dedup.driver_max_rows))
    if cfg.decontamination.sets:
        stages.append(Decontaminate(cfg.decontamination, driver_max_rows=cfg.dedup.driver_max_rows))
    if cfg.metaclip.enabled:
        stages.append(MetaClipMatch(cfg.metaclip, cfg.storage.options()))
    if _has(cfg, "warc"):
        stages.append(ResolveImages(cfg.images.resolve_on_driver_bytes))
    if cfg.fetch.enabled and cfg.images.enabled:
        stages.append(FetchImages(cfg.fetch))
    if cfg.video.enabled and _has(cfg, "video"):
        stages.append(Video(cfg.video))
    if cfg.images.enabled:
        stages.append(Images(cfg.images, cfg.video.frame_max_tiles))
    return stages


def global_stages(cfg: Config) -> list[GlobalStage]:
    """Exact, near-duplicate, image and video dedup, each when enabled and applicable, then
    MetaCLIP balancing."""
    d, stages = cfg.dedup, []
    if d.exact:
        stages.append(ExactDedup(d))
    if d.near:
        stages.append(NearDedup(d))
    if d.images and cfg.images.enabled:
        stages.append(ImageDedup(d))
    if d.video and cfg.video.enabled and _has(cfg, "video"):
        stages.append(VideoDedup(d))
    if cfg.metaclip.enabled:  # MetaCLIP balances last, after dedup
        stages.append(MetaClipBalance(cfg.metaclip, cfg.storage.options(), d.driver_max_rows))
    return stages


def stage_names(cfg: Config) -> list[str]:
    """Each stage once, in order: a top-fraction classifier's decision right after the
    per-record pass shares the classifier stage's name and counts."""
    return list(dict.fromkeys([s.name for s in record_stages(cfg)] + [s.name for s in global_stages(cfg)]))
