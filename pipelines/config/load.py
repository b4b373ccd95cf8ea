"""TOML -> the typed config: every table maps to a dataclass; unknown keys and wrong types
raise ConfigError with one line naming the file and the key (the CLI's exit code 2)."""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import re
import tomllib
import types
import typing
from pathlib import Path

from pipelines.config.sections import (
    ClassifierConfig,
    Config,
    DecontaminationConfig,
    DedupConfig,
    ImagesConfig,
    InputConfig,
    LangIdConfig,
    LongContextConfig,
    MixtureConfig,
    ShardConfig,
    VideoConfig,
)


class ConfigError(ValueError):
    """A config problem a user fixes by editing the file; the message is one line."""



def _type_name(tp) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _check_value(value, tp, where: str, src: str):
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        # `float | None`: TOML has no null, so the value is of the other type.
        (tp,) = [a for a in typing.get_args(tp) if a is not type(None)]
        origin = typing.get_origin(tp)
    if origin is list:
        (item_tp,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"{src}: {where} must be a list, got {type(value).__name__}")
        return [_check_value(v, item_tp, f"{where}[{i}]", src) for i, v in enumerate(value)]
    if origin is dict:
        key_tp, val_tp = typing.get_args(tp)
        if not isinstance(value, dict):
            raise ConfigError(f"{src}: {where} must be a table, got {type(value).__name__}")
        return {str(k): _check_value(v, val_tp, f"{where}.{k}", src) for k, v in value.items()}
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is str and isinstance(value, (int, float, bool)) and where.startswith("spark."):
        return str(value).lower() if isinstance(value, bool) else str(value)
    if tp in (int, float) and isinstance(value, bool) or not isinstance(value, tp):
        raise ConfigError(
            f"{src}: {where} must be {_type_name(tp)}, got {type(value).__name__} {value!r}"
        )
    return value


def _build(cls, table: dict, where: str, src: str):
    if not isinstance(table, dict):
        raise ConfigError(f"{src}: [{where}] must be a table")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.name != "source_file"]
    kwargs = {}
    for key, value in table.items():
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f" (known: {', '.join(names)})"
            raise ConfigError(f"{src}: unknown key '{where}.{key}'{hint}" if where else
                              f"{src}: unknown key '{key}'{hint}")
        tp = hints[key]
        full = f"{where}.{key}" if where else key
        if dataclasses.is_dataclass(tp):
            kwargs[key] = _build(tp, value, full, src)
        elif typing.get_origin(tp) is list and dataclasses.is_dataclass(typing.get_args(tp)[0]):
            if not isinstance(value, list):
                raise ConfigError(f"{src}: {full} must be an array of tables ([[{full}]])")
            kwargs[key] = [_build(typing.get_args(tp)[0], v, f"{full}[{i}]", src)
                           for i, v in enumerate(value)]
        else:
            kwargs[key] = _check_value(value, tp, full, src)
    return cls(**kwargs)


def _validate(cfg: Config, src: str) -> None:
    if not cfg.inputs:
        raise ConfigError(f"{src}: no [[inputs]] given")
    seen = set()
    for i, inp in enumerate(cfg.inputs):
        where = f"inputs[{i}]"
        _unique_name(inp.name, f"{src}: {where}", seen)
        _one_of(inp.format, InputConfig.FORMATS, f"{src}: {where}.format")
        if not inp.path:
            raise ConfigError(f"{src}: {where}.path is required")
        if inp.image_url_field:
            if inp.format not in ("jsonl", "parquet") or inp.image_field or inp.image_path_field:
                raise ConfigError(f"{src}: {where}.image_url_field is for jsonl and parquet inputs, without "
                                  "image_field or image_path_field")
            if not cfg.fetch.enabled:
                raise ConfigError(f"{src}: {where}.image_url_field needs fetch.enabled = true (its images are "
                                  "downloaded)")
        if inp.extractor not in InputConfig.EXTRACTORS:
            close = difflib.get_close_matches(inp.extractor.lower(), InputConfig.EXTRACTORS, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise ConfigError(f"{src}: {where}.extractor must be one of "
                              f"{', '.join(InputConfig.EXTRACTORS)}, got {inp.extractor!r}{hint}")
    if not 0.0 <= cfg.langid.min_score <= 1.0:
        raise ConfigError(f"{src}: langid.min_score must be between 0 and 1")
    if cfg.langid.paragraph_mode not in LangIdConfig.PARAGRAPH_MODES:
        raise ConfigError(f"{src}: langid.paragraph_mode must be one of "
                          f"{', '.join(LangIdConfig.PARAGRAPH_MODES)}, got {cfg.langid.paragraph_mode!r}")
    if not 1 <= cfg.langid.top_k <= 10 or not 0.0 < cfg.langid.min_majority_share <= 1.0:
        raise ConfigError(f"{src}: langid.top_k must be 1..10 and langid.min_majority_share in (0, 1]")
    if cfg.run.payload_min_bytes and cfg.run.payload_min_bytes < 1024:
        raise ConfigError(f"{src}: run.payload_min_bytes must be 0 (off) or >= 1024")
    if cfg.shards.max_samples < 1 or cfg.shards.max_bytes < 1024:
        raise ConfigError(f"{src}: shards.max_samples must be >= 1 and shards.max_bytes >= 1024")
    if cfg.shards.partitions < 0:
        raise ConfigError(f"{src}: shards.partitions must be >= 0")
    if not cfg.shards.name:
        cfg.shards.name = cfg.run.name
    if not all(c.isalnum() or c in "-_" for c in cfg.shards.name):
        raise ConfigError(f"{src}: shards.name may only use letters, digits, '-' and '_'")
    _validate_packing(cfg, src)
    im = cfg.images
    for key, allowed in (("mode", ImagesConfig.MODES), ("layout", ImagesConfig.LAYOUTS),
                         ("tile_format", ImagesConfig.TILE_FORMATS)):
        if getattr(im, key) not in allowed:
            raise ConfigError(f"{src}: images.{key} must be one of {', '.join(allowed)}, "
                              f"got {getattr(im, key)!r}")
    if im.layout == "patches" and im.tile_format != "npy":
        raise ConfigError(f"{src}: images.layout = 'patches' is stored as npy; set images.tile_format = 'npy'")
    if im.tile_size % 14 or im.tile_size < 14:
        raise ConfigError(f"{src}: images.tile_size must be a multiple of the 14-pixel patch")
    if not 1 <= im.max_tiles <= 64 or im.max_per_doc < 1 or im.max_pixels < 1:
        raise ConfigError(f"{src}: images.max_tiles must be 1..64, max_per_doc and max_pixels >= 1")
    if not 1 <= im.jpeg_quality <= 100:
        raise ConfigError(f"{src}: images.jpeg_quality must be 1..100")
    if not 0 <= im.resolve_on_driver_bytes <= 4_000_000_000:
        raise ConfigError(f"{src}: images.resolve_on_driver_bytes must be 0..4000000000 (0 = always Spark's joins)")
    _validate_fetch(cfg.fetch, src)
    _validate_text_curation(cfg, src)
    _validate_mixture(cfg, src)
    _validate_decontamination(cfg, src)
    if cfg.metaclip.enabled:
        _check_entries(cfg.metaclip, src)
    v = cfg.video
    if v.mode not in VideoConfig.MODES:
        raise ConfigError(f"{src}: video.mode must be one of {', '.join(VideoConfig.MODES)}, got {v.mode!r}")
    if v.fps <= 0 or v.max_frames < 1 or v.frame_max_tiles < 1 or v.max_side < 14 or v.max_pixels < 1:
        raise ConfigError(f"{src}: video.fps must be > 0, video.max_frames, frame_max_tiles and max_pixels >= 1, "
                          "video.max_side >= 14")
    if cfg.dedup.order_by not in ("id", "uri", "source"):
        raise ConfigError(f"{src}: dedup.order_by must be one of id, uri, source")
    st = cfg.storage
    if st.max_attempts < 1 or not 5 <= st.part_size_mb <= 5120:
        raise ConfigError(f"{src}: storage.max_attempts must be >= 1 and storage.part_size_mb 5..5120 "
                          f"(S3's multipart limits)")
    d = cfg.dedup
    if d.verify not in DedupConfig.VERIFY:
        raise ConfigError(f"{src}: dedup.verify must be one of {', '.join(DedupConfig.VERIFY)}, got {d.verify!r}")
    if not (1 <= d.ngram <= 32 and d.bands >= 1 and 1 <= d.rows <= 32 and d.bands * d.rows <= 1024):
        raise ConfigError(f"{src}: dedup.ngram must be 1..32, dedup.rows 1..32, dedup.bands >= 1 "
                          f"with bands x rows <= 1024")
    if not (0.0 < d.threshold <= 1.0 and 0.0 < d.video_min_match <= 1.0):
        raise ConfigError(f"{src}: dedup.threshold and dedup.video_min_match must be in (0, 1]")
    if not (0 <= d.image_max_hamming <= 16 and 0 <= d.video_max_hamming <= 32 and d.image_max_docs >= 1):
        raise ConfigError(f"{src}: dedup.image_max_hamming must be 0..16, dedup.video_max_hamming 0..32, "
                          f"dedup.image_max_docs >= 1")
    if not 0 <= d.driver_max_rows <= 50_000_000:
        raise ConfigError(f"{src}: dedup.driver_max_rows must be 0..50000000 (0 = always in Spark)")


def parse_config(data: dict, src: str = "<config>") -> Config:
    cfg = _build(Config, data, "", src)
    cfg.source_file = src
    _validate(cfg, src)
    return cfg


def load_config(path: str | Path) -> Config:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read config: {e}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML: {e}") from None
    return parse_config(data, str(path))


def _validate_fetch(f, src: str) -> None:
    if f.concurrency < 1 or f.per_host < 1 or f.retries < 0 or f.max_redirects < 0:
        raise ConfigError(f"{src}: fetch.concurrency and fetch.per_host must be >= 1, fetch.retries and "
                          "fetch.max_redirects >= 0")
    if min(f.connect_timeout, f.read_timeout, f.total_timeout) <= 0 or f.host_delay < 0 or f.backoff < 0:
        raise ConfigError(f"{src}: fetch timeouts must be > 0, fetch.host_delay and fetch.backoff >= 0")
    if f.max_bytes < 1024:
        raise ConfigError(f"{src}: fetch.max_bytes must be >= 1024")
    if not f.user_agent.strip() or not f.agent_token.strip() or any(c.isspace() for c in f.agent_token):
        raise ConfigError(f"{src}: fetch.user_agent must not be empty and fetch.agent_token must be one word")
    for net in f.allow_networks:
        try:
            ipaddress.ip_network(net, strict=False)
        except ValueError:
            raise ConfigError(f"{src}: fetch.allow_networks: {net!r} is not a network (CIDR such as 10.0.0.0/8)") \
                from None


def _unique_name(name: str, where: str, seen: set) -> None:
    if not name:
        raise ConfigError(f"{where}.name is required")
    if name in seen:
        raise ConfigError(f"{where}.name '{name}' is used twice")
    seen.add(name)


def _one_of(value: str, allowed: tuple[str, ...], where: str) -> None:
    if value not in allowed:
        raise ConfigError(f"{where} must be one of {', '.join(allowed)}, got {value!r}")


def _validate_packing(cfg: Config, src: str) -> None:
    from tokenization.packing import MAX_SEQ_LEN

    sh, lc = cfg.shards, cfg.long_context
    _one_of(sh.layout, ShardConfig.LAYOUTS, f"{src}: shards.layout")
    _one_of(lc.group_by, LongContextConfig.GROUP_BY, f"{src}: long_context.group_by")
    if not 2 <= sh.seq_len <= MAX_SEQ_LEN:
        raise ConfigError(f"{src}: shards.seq_len must be 2..{MAX_SEQ_LEN}, got {sh.seq_len}")
    if lc.min_tokens < 0 or lc.concat_tokens < 0:
        raise ConfigError(f"{src}: long_context.min_tokens and long_context.concat_tokens must be >= 0")
    if lc.enabled and sh.layout != "packed":
        raise ConfigError(f"{src}: [long_context] writes packed sequences; set shards.layout = \"packed\"")
    if lc.group_by and cfg.mixture.method:
        raise ConfigError(f"{src}: long_context.group_by joins a group's documents in one partition, while a "
                          "[mixture] spreads a document's copies over partitions; use one of the two")
    if sh.layout == "packed" and cfg.images.tile_format != "npy":
        raise ConfigError(f"{src}: shards.layout = \"packed\" stores a sequence's tiles as one npy array; "
                          "set images.tile_format = \"npy\"")


def _validate_text_curation(cfg: Config, src: str) -> None:
    ld = cfg.line_dedup
    if ld.max_count < 1 or ld.bucket_docs < 1 or ld.min_chars < 0:
        raise ConfigError(f"{src}: line_dedup.max_count and line_dedup.bucket_docs must be >= 1, "
                          "line_dedup.min_chars >= 0")
    names = set()
    for i, c in enumerate(cfg.classifiers):
        where = f"classifiers[{i}]"
        if c.name and not all(ch.isalnum() or ch in "-_" for ch in c.name):
            raise ConfigError(f"{src}: {where}.name may only use letters, digits, '-' and '_', got {c.name!r}")
        _unique_name(c.name, f"{src}: {where}", names)
        _one_of(c.mode, ClassifierConfig.MODES, f"{src}: {where}.mode")
        if not 0.0 <= c.threshold <= 1.0 or not 0.0 < c.fraction <= 1.0 or c.max_chars < 1:
            raise ConfigError(f"{src}: {where}.threshold must be in [0, 1], fraction in (0, 1], max_chars >= 1")
        if not c.label.startswith("__label__"):
            c.label = "__label__" + c.label
        _check_classifier_model(c, f"{src}: {where}")


def _check_classifier_model(c, where: str) -> None:
    """The model file exists, is a fastText model, and has the label (read from its header
    and dictionary, without loading the matrices)."""
    from filters.classifier import ModelFileError, model_labels

    if not c.model:
        raise ConfigError(f"{where}.model is required")
    try:
        labels = model_labels(c.model)
    except FileNotFoundError:
        raise ConfigError(f"{where}.model: no such file {c.model!r}") from None
    except (ModelFileError, OSError) as e:
        raise ConfigError(f"{where}.model: {c.model!r} is not a fastText model ({e})") from None
    if c.label not in labels:
        raise ConfigError(f"{where}.label {c.label!r} is not one of the model's labels: {', '.join(labels)}")


FLORES_CODE = re.compile(r"^([a-z]{2,3}_[A-Z][a-z]{3}|und)$")


def _validate_mixture(cfg: Config, src: str) -> None:
    """What can be checked before any data is read; a plan the data cannot hold is refused
    once the tokens are counted, before any shard is written (pipelines/mixture/planner.py)."""
    m = cfg.mixture
    if not m.method:
        if m.weights or m.budget_tokens or m.exclude or m.band_signal:
            raise ConfigError(f"{src}: [mixture] needs a method: one of {', '.join(MixtureConfig.METHODS)}")
        return
    where = f"{src}: mixture"
    _one_of(m.method, MixtureConfig.METHODS, f"{where}.method")
    _one_of(m.over, MixtureConfig.OVER, f"{where}.over")
    _one_of(m.on_unmet, MixtureConfig.ON_UNMET, f"{where}.on_unmet")
    if m.budget_tokens < 0 or m.max_epochs < 0 or m.min_tokens_per_language < 0 or m.driver_max_rows < 1:
        raise ConfigError(f"{where}.budget_tokens, max_epochs and min_tokens_per_language must be >= 0, "
                          "driver_max_rows >= 1")
    if m.method == "unimax" and not (m.budget_tokens > 0 and m.max_epochs > 0):
        raise ConfigError(f"{where}: unimax needs budget_tokens > 0 and max_epochs > 0 (its B and N)")
    if m.method == "temperature" and not 0.0 < m.alpha <= 1.0:
        raise ConfigError(f"{where}.alpha must be in (0, 1]")
    if m.method == "weights":
        if not m.weights or any(w < 0 for w in m.weights.values()) or sum(m.weights.values()) <= 0:
            raise ConfigError(f"{where}.weights must give each group a weight >= 0, at least one > 0")
        sources = {i.name for i in cfg.inputs}
        for key in m.weights:
            if key != "*":
                _check_group_key(key, m.over, sources, f"{where}.weights")
    elif m.weights:
        raise ConfigError(f"{where}.weights is for method = \"weights\"")
    if m.min_tokens_per_language and m.over != "language":
        raise ConfigError(f"{where}.min_tokens_per_language needs over = \"language\"")
    if m.band_edges and m.band_quantiles:
        raise ConfigError(f"{where}: give band_edges or band_quantiles, not both")
    if (m.band_edges or m.band_quantiles) != [] and not m.band_signal:
        raise ConfigError(f"{where}.band_edges and band_quantiles need band_signal")
    if m.band_signal and not (m.band_edges or m.band_quantiles):
        raise ConfigError(f"{where}.band_signal needs band_edges or band_quantiles")
    if m.band_edges != sorted(set(m.band_edges)) or not all(0.0 < q < 1.0 for q in m.band_quantiles) \
            or m.band_quantiles != sorted(set(m.band_quantiles)):
        raise ConfigError(f"{where}.band_edges must ascend and band_quantiles ascend within (0, 1)")
    for inp in cfg.inputs:
        if "/" in inp.name:
            raise ConfigError(f"{where}: input name {inp.name!r} has a '/', which bucket names use as separator")


def _check_group_key(key: str, over: str, sources: set[str], where: str) -> None:
    ok = {"language": lambda: bool(FLORES_CODE.match(key)),
          "source": lambda: key in sources,
          "source_language": lambda: key.count("/") == 1 and key.split("/")[0] in sources
          and bool(FLORES_CODE.match(key.split("/")[1])),
          "bucket": lambda: key.count("/") >= 1 and key.split("/")[0] in sources}[over]()
    if not ok:
        shape = {"language": "a language code such as eng_Latn",
                 "source": f"an input name ({', '.join(sorted(sources))})",
                 "source_language": "`source/lang`, e.g. web/eng_Latn",
                 "bucket": "a bucket name `source/lang[/band][/modality]`"}[over]
        raise ConfigError(f"{where}: {key!r} is not {shape} (over = \"{over}\")")


def _validate_decontamination(cfg: Config, src: str) -> None:
    d = cfg.decontamination
    where = f"{src}: decontamination"
    _one_of(d.mode, DecontaminationConfig.MODES, f"{where}.mode")
    if not (1 <= d.min_words <= d.ngram <= 64) or d.max_matches < 1 or d.max_splits < 0 or d.window < 0 \
            or d.min_fragment_chars < 0 or not 0.0 <= d.warn_share <= 1.0 or d.broadcast_max_ngrams < 1:
        raise ConfigError(f"{where}: need 1 <= min_words <= ngram <= 64, max_matches >= 1, max_splits, window and "
                          "min_fragment_chars >= 0, warn_share in [0, 1], broadcast_max_ngrams >= 1")
    names: set = set()
    for i, t in enumerate(d.sets):
        at = f"{where}.sets[{i}]"
        _unique_name(t.name, at, names)
        if not all(ch.isalnum() or ch in "-_" for ch in t.name):
            raise ConfigError(f"{at}.name may only use letters, digits, '-' and '_', got {t.name!r}")
        if not t.paths or not t.fields:
            raise ConfigError(f"{at}: paths and fields must not be empty")


def _check_entries(m, src: str) -> None:
    """The MetaCLIP entry file exists and is UTF-8 (a local one is read here, so a worker
    never meets a missing or undecodable list mid-job)."""
    if not m.entries or m.t < 1:
        raise ConfigError(f"{src}: metaclip.entries is required and metaclip.t must be >= 1")
    if m.entries.startswith("s3://"):
        return
    try:
        data = Path(m.entries).expanduser().read_bytes()
    except OSError as e:
        raise ConfigError(f"{src}: metaclip.entries: cannot read {m.entries!r} ({e.strerror or e})") from None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{src}: metaclip.entries: {m.entries!r} is not UTF-8 (byte {e.start})") from None
