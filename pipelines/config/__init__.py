"""The run's config: TOML validated into typed sections (sections.py, load.py); the
reference in docs/config.md is generated from the sections' field documentation
(reference.py)."""

from __future__ import annotations

from pipelines.config.load import ConfigError, load_config, parse_config
from pipelines.config.sections import (
    ClassifierConfig,
    Config,
    DecontaminationConfig,
    DedupConfig,
    EvalSetConfig,
    FetchConfig,
    ImagesConfig,
    InputConfig,
    LangIdConfig,
    LineDedupConfig,
    LongContextConfig,
    MetaClipConfig,
    MixtureConfig,
    PiiConfig,
    QualityConfig,
    RunConfig,
    SampleConfig,
    ShardConfig,
    StorageConfig,
    TokenizerConfig,
    UrlDedupConfig,
    UrlFilterConfig,
    VideoConfig,
)

__all__ = ["ClassifierConfig", "Config", "ConfigError", "DecontaminationConfig", "DedupConfig", "EvalSetConfig",
           "FetchConfig", "ImagesConfig", "InputConfig", "LangIdConfig", "LineDedupConfig", "LongContextConfig",
           "MetaClipConfig",
           "MixtureConfig", "PiiConfig", "QualityConfig", "RunConfig", "SampleConfig", "ShardConfig", "StorageConfig",
           "TokenizerConfig", "UrlDedupConfig", "UrlFilterConfig", "VideoConfig", "load_config", "parse_config"]
