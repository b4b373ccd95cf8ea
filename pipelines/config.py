"""TOML configs validated into typed objects.

Every table maps to a dataclass; unknown keys and wrong types raise ConfigError with one
line naming the file and the key, which the CLI turns into exit code 2.
"""

from __future__ import annotations

import dataclasses
import difflib
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

from filters.quality_rules import Thresholds


class ConfigError(ValueError):
    """A config problem a user fixes by editing the file; the message is one line."""


@dataclass
class RunConfig:
    name: str = "earlyfuse"
    output: str = "out/earlyfuse"
    master: str = "local[*]"
    shuffle_partitions: int = 8
    # Rows per Arrow batch between the JVM and Python: small enough that a batch of
    # large documents stays well inside a worker's memory.
    arrow_batch_size: int = 512
    progress: bool = True
    # Spark's Parquet checkpoints. "" = <output>/_work for a local output; for an s3://
    # output (Spark has no s3a here) a local folder .earlyfuse-work/<run name>-<hash>. On a
    # multi-node cluster give a path every node sees (NFS, hdfs://).
    work_dir: str = ""
    # Continue from the checkpoints and committed shards of an interrupted run with the same
    # config; false (or `earlyfuse run --fresh`) starts over.
    resume: bool = True
    # Local masters: Python workers fork from a daemon that has imported the pipeline's
    # modules once, instead of each importing them again (pipelines/spark_daemon.py).
    preload_workers: bool = True
    # The driver's JVM starts from the class archive `make setup` built and compiles with C1
    # only (pipelines/jvm.py): a session costs a third of the CPU. Executors of a cluster
    # are untouched.
    quick_jvm: bool = True


@dataclass
class StorageConfig:
    """S3 (and S3-compatible stores) through boto3; credentials come from the usual AWS
    chain (environment, profile, instance role) and are never written anywhere."""

    endpoint_url: str = ""
    region: str = ""
    profile: str = ""
    max_attempts: int = 8
    part_size_mb: int = 16

    def options(self):
        from pipelines.storage import StorageOptions

        env = StorageOptions.from_env()
        return StorageOptions(endpoint_url=self.endpoint_url or env.endpoint_url,
                              region=self.region or env.region, profile=self.profile or env.profile,
                              max_attempts=self.max_attempts, part_size=self.part_size_mb * 1024 * 1024)


@dataclass
class SampleConfig:
    # Folder where the bundled sample inputs are generated when missing ("" = never).
    generate: str = ""


@dataclass
class InputConfig:
    name: str = ""
    format: str = ""
    path: str = ""
    text_field: str = "text"
    id_field: str = "id"
    url_field: str = "url"
    # Responses larger than this are rejected unread (bounded memory per record).
    max_record_bytes: int = 20_000_000
    # HTML extraction: trafilatura (default, with precision settings as FineWeb) or
    # resiliparse (main-content extraction as DCLM, many times faster).
    extractor: str = "trafilatura"
    # Parquet image-text pairs: a column of image bytes, or of paths relative to the file.
    image_field: str = ""
    image_path_field: str = ""
    # WARC pages: images not in the WARC set are looked up here, at <root>/<host>/<path>.
    image_root: str = ""

    FORMATS: typing.ClassVar[tuple[str, ...]] = ("warc", "jsonl", "parquet", "webdataset", "images", "video")
    EXTRACTORS: typing.ClassVar[tuple[str, ...]] = ("trafilatura", "resiliparse")


@dataclass
class LangIdConfig:
    enabled: bool = True
    model: str = "lid176"
    min_score: float = 0.5
    min_score_per_lang: dict[str, float] = field(default_factory=dict)
    keep: list[str] = field(default_factory=list)
    drop: list[str] = field(default_factory=list)
    # Characters of each document that are classified (fastText is linear in length).
    max_chars: int = 2000
    # Fewer letters than this and the language is `und`: no confident guess on a few words.
    min_chars: int = 20
    reject_und: bool = True
    # Predictions kept per document in `signals` as `langid.top.<code>` (1 = just the best).
    top_k: int = 1
    # Mixed documents: "off"; "record" the language shares (`langid.share.<code>`);
    # "reject" when the main language has less than min_majority_share of the letters;
    # "majority" keeps only the main language's paragraphs (the rest counted in signals).
    paragraph_mode: str = "off"
    min_majority_share: float = 0.7
    # Alt texts of images are identified too; their codes go to the image part's meta.
    alt_text: bool = True

    PARAGRAPH_MODES: typing.ClassVar[tuple[str, ...]] = ("off", "record", "reject", "majority")


@dataclass
class QualityConfig(Thresholds):
    """Gopher quality and repetition, C4 and FineWeb rules; defaults equal datatrove's."""

    enabled: bool = True


@dataclass
class UrlFilterConfig:
    """URL blocklists: datatrove's embedded UT1-derived list and word lists, plus your own."""

    enabled: bool = True
    embedded: bool = True
    lists: list[str] = field(default_factory=list)
    ut1_root: str = ""
    ut1_categories: list[str] = field(default_factory=list)
    substrings: list[str] = field(default_factory=list)


@dataclass
class PiiConfig:
    """Email and IP addresses masked in all text, before anything is stored or tokenized."""

    enabled: bool = True
    email_replacement: str = "<EMAIL>"
    ip_replacement: str = "<IP>"
    only_global_ips: bool = True


@dataclass
class ImagesConfig:
    """Decoding limits, filters and Llama-4 tiling."""

    enabled: bool = True
    # Decompression-bomb guard: larger images are rejected from their header, undecoded.
    max_pixels: int = 64_000_000
    min_bytes: int = 0
    min_side: int = 1
    max_side: int = 20_000
    max_aspect_ratio: float = 20.0
    # Llama 4 packed up to 48 images per sample; images past the cap are counted drops.
    max_per_doc: int = 48
    tile_size: int = 336
    max_tiles: int = 16
    mode: str = "exact"
    layout: str = "tiles"
    tile_format: str = "npy"
    jpeg_quality: int = 95
    # A WARC set's image responses up to this many bytes in all go from the driver to every
    # worker, which fill the pages' images in their Python pass; more take Spark's joins.
    resolve_on_driver_bytes: int = 256_000_000

    MODES: typing.ClassVar[tuple[str, ...]] = ("exact", "fast")
    LAYOUTS: typing.ClassVar[tuple[str, ...]] = ("tiles", "patches")
    TILE_FORMATS: typing.ClassVar[tuple[str, ...]] = ("npy", "png", "jpeg")


@dataclass
class VideoConfig:
    """Frame sampling with PyAV; frames are images of one tile each by default."""

    enabled: bool = True
    fps: float = 1.0
    max_frames: int = 48
    mode: str = "exact"
    # Frames are scaled by FFmpeg while decoding so a 4K frame never sits in memory whole.
    max_side: int = 1344
    frame_max_tiles: int = 1
    min_duration: float = 0.0
    max_duration: float = 4 * 3600.0
    min_side: int = 32
    # The decoder holds whole frames before scaling: larger frames are rejected from the header.
    max_pixels: int = 64_000_000
    max_file_bytes: int = 4 * 1024 ** 3
    threads: int = 0
    jpeg_quality: int = 95

    MODES: typing.ClassVar[tuple[str, ...]] = ("exact", "keyframe")


@dataclass
class DedupConfig:
    """Exact, near-duplicate (MinHash LSH), image and video deduplication."""

    # Survivor of every duplicate cluster: the lowest value of this column, then lowest id.
    order_by: str = "id"
    exact: bool = True
    # The exact key is NFKC + case-fold + collapsed whitespace; these strip more.
    strip_punctuation: bool = False
    strip_digits: bool = False
    near: bool = True
    # Word n-grams (one character per token in Han, Kana, Thai, ...): FineWeb's 5.
    ngram: int = 5
    # 14 bands x 8 rows: candidates from Jaccard ~0.72 up, (1/bands)^(1/rows).
    bands: int = 14
    rows: int = 8
    seed: int = 1
    # Candidate pairs checked before clustering: "jaccard" (exact shingle sets),
    # "signature" (share of equal MinHash values) or "none" (every candidate is a dup).
    verify: str = "jaccard"
    threshold: float = 0.75
    images: bool = True
    # Near-duplicate images: 64-bit perceptual hashes within this Hamming distance.
    image_max_hamming: int = 4
    # An image (or its near-duplicates) in more documents than this is removed from all.
    image_max_docs: int = 10
    video: bool = True
    # Videos are duplicates when this share of their frames match within the distance.
    video_max_hamming: int = 10
    video_min_match: float = 0.8
    # Dedup's narrow data (candidate edges, image rows, video hash sequences) of at most this
    # many rows is clustered on the driver (one Spark job to fetch it); more goes through
    # Spark's joins and connected-component rounds. 0 = always in Spark. A million rows is
    # about 100-400 MB on the driver for a moment.
    driver_max_rows: int = 1_000_000

    VERIFY: typing.ClassVar[tuple[str, ...]] = ("jaccard", "signature", "none")


@dataclass
class TokenizerConfig:
    spec: str = "tiktoken:cl100k_base"
    # Text between documents' parts is joined with this separator before encoding.
    part_separator: str = "\n\n"


@dataclass
class ShardConfig:
    name: str = ""
    max_samples: int = 10_000
    max_bytes: int = 256 * 1024 * 1024
    # Spark partitions written in parallel; 0 = derived from the number of kept documents.
    partitions: int = 0


@dataclass
class Config:
    run: RunConfig = field(default_factory=RunConfig)
    sample: SampleConfig = field(default_factory=SampleConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    inputs: list[InputConfig] = field(default_factory=list)
    urlfilter: UrlFilterConfig = field(default_factory=UrlFilterConfig)
    pii: PiiConfig = field(default_factory=PiiConfig)
    langid: LangIdConfig = field(default_factory=LangIdConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    images: ImagesConfig = field(default_factory=ImagesConfig)
    video: VideoConfig = field(default_factory=VideoConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    shards: ShardConfig = field(default_factory=ShardConfig)
    spark: dict[str, str] = field(default_factory=dict)
    source_file: str = ""

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d.pop("source_file", None)
        return d


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
        if not inp.name:
            raise ConfigError(f"{src}: {where}.name is required")
        if inp.name in seen:
            raise ConfigError(f"{src}: {where}.name '{inp.name}' is used twice")
        seen.add(inp.name)
        if inp.format not in InputConfig.FORMATS:
            raise ConfigError(f"{src}: {where}.format must be one of "
                              f"{', '.join(InputConfig.FORMATS)}, got {inp.format!r}")
        if not inp.path:
            raise ConfigError(f"{src}: {where}.path is required")
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
    if cfg.shards.max_samples < 1 or cfg.shards.max_bytes < 1024:
        raise ConfigError(f"{src}: shards.max_samples must be >= 1 and shards.max_bytes >= 1024")
    if cfg.shards.partitions < 0:
        raise ConfigError(f"{src}: shards.partitions must be >= 0")
    if not cfg.shards.name:
        cfg.shards.name = cfg.run.name
    if not all(c.isalnum() or c in "-_" for c in cfg.shards.name):
        raise ConfigError(f"{src}: shards.name may only use letters, digits, '-' and '_'")
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
