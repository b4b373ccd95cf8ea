"""The config's sections: one dataclass per TOML table, each field declared with its type,
default and documentation (`filters.options.opt`); docs/config.md is generated from them."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field

from filters.options import opt
from filters.quality import Thresholds


@dataclass
class RunConfig:
    name: str = opt("earlyfuse", "run name; default shard name")
    output: str = opt("out/earlyfuse", "output folder (cleared of a previous run's shards, report and rejected rows)")
    master: str = opt("local[*]", "Spark master (`--master` overrides)")
    shuffle_partitions: int = opt(8, "`spark.sql.shuffle.partitions`")
    arrow_batch_size: int = opt(512, "rows per Arrow batch between the JVM and Python")
    payload_min_bytes: int = opt(4096, "an image or frame of at least this many bytes is kept in a payload file in "
                                 "the work folder and the record holds a reference to it, so Spark moves narrow "
                                 "rows ([design.md](design.md#payloads)); `0` keeps every payload in the records "
                                 "(as it must be when Python workers cannot reach the work folder: HDFS, GCS, "
                                 "Azure, S3)")
    progress: bool = opt(True, "live progress line")
    work_dir: str = opt("", "Spark's Parquet checkpoints and the run's small files; `\"\"` = `<output>/_work`, or "
                        "`.earlyfuse-work/<name>-<hash>` for an `s3://` output; on a multi-node cluster a folder every "
                        "node sees or any Hadoop URI the cluster can write: `hdfs://`, `s3a://`, `gs://`, `abfs://`, "
                        "`file://` ([deploy.md](deploy.md))")
    resume: bool = opt(True, "rerunning the same config continues from an interrupted run's checkpoints and committed"
                       " shards (`--fresh` starts over)")
    lease_stale_s: float = opt(300.0, "a run holds a lease on its output (and work folder) with a heartbeat every "
                               "tenth of this; another run takes it over when the holder's process is gone on this "
                               "host, or its heartbeat is older than this many seconds")
    force: bool = opt(False, "take the output's lease even from a run that seems alive (`--force`)")
    preload_workers: bool = opt(True, "on `local[...]` masters, Python workers fork from a daemon that imported the "
                                "pipeline's modules once (`pipelines/spark_daemon.py`), instead of each importing "
                                "them again")
    quick_jvm: bool = opt(True, "the driver's JVM maps the class archive `make setup` built (`python -m "
                          "pipelines.jvm`, used only if made by the same java and Spark jars) and compiles with C1 "
                          "only: a session start takes a third of the CPU; a cluster's executors are untouched; your "
                          "`spark.driver.extraJavaOptions` come after these")


@dataclass
class StorageConfig:
    endpoint_url: str = opt("", "S3-compatible endpoint (MinIO, Ceph, R2); `\"\"` = AWS, or "
                                "`EARLYFUSE_S3_ENDPOINT_URL`")
    region: str = opt("", "region (`\"\"` = `AWS_REGION` / the profile's)")
    profile: str = opt("", "AWS profile; credentials come from the usual AWS chain and are never written anywhere")
    max_attempts: int = opt(8, "attempts per S3 request on throttling, 5xx and dropped connections (exponential "
                            "backoff)")
    part_size_mb: int = opt(16, "multipart upload part size (5..5120)")

    def options(self):
        from pipelines.io.storage import StorageOptions

        env = StorageOptions.from_env()
        return StorageOptions(endpoint_url=self.endpoint_url or env.endpoint_url,
                              region=self.region or env.region, profile=self.profile or env.profile,
                              max_attempts=self.max_attempts, part_size=self.part_size_mb * 1024 * 1024)


@dataclass
class SampleConfig:
    generate: str = opt("", "folder where the bundled sample inputs are generated when missing")


@dataclass
class InputConfig:
    name: str = opt("", "source name, recorded in every row and in the ids", shown="required")
    format: str = opt("", "`warc`, `jsonl` (also `.jsonl.gz`), `parquet`, `webdataset` (img2dataset tars: "
                      "`jpg`/`png`/`webp` + `txt`/`json`), `images` (a folder of images with "
                      "`<stem>.txt`/`<stem>.json` captions) or `video` (mp4, webm, mkv, mov with optional "
                      "`<stem>.txt`/`.json` description and `<stem>.vtt`/`.srt` subtitles)", shown="required")
    path: str = opt("", "file, folder, glob or `s3://` prefix; files it holds that no reader takes (an `.svg` in an "
                    "image folder, a caption without its picture, hidden files) are counted in the report's "
                    "`skipped_files`", shown="required")
    text_field: str = opt("text", "JSONL/Parquet text field")
    id_field: str = opt("id", "JSONL/Parquet id field, kept as `source_id` in the part's meta")
    url_field: str = opt("url", "JSONL/Parquet URL field, becomes `uri`")
    max_record_bytes: int = opt(20_000_000, "larger records (or decompressed gzip members) are rejected unread")
    extractor: str = opt("trafilatura", "WARC HTML extractor: `trafilatura` (FineWeb's precision settings) or "
                         "`resiliparse` (Resiliparse main-content extraction, as DCLM uses; about 15x faster per "
                         "page; images kept in place the same way; a page with little text reaches the quality rules "
                         "instead of `ingest:no_text`)")
    image_field: str = opt("", "Parquet: column of image bytes; rows become image-text pairs (caption from "
                           "`text_field`)")
    image_path_field: str = opt("", "Parquet: column of image paths, relative to the Parquet file")
    image_url_field: str = opt("", "JSONL/Parquet: column of image URLs (img2dataset's `url_list`, e.g. `\"URL\"`); "
                               "rows become image-text pairs whose image the fetch stage downloads (needs "
                               "`fetch.enabled`); caption from `text_field`")
    image_root: str = opt("", "WARC: `<img>` not in the WARC set is looked up at `<image_root>/<host>/<path>`")
    date_field: str = opt("", "JSONL/Parquet: the crawl date (ISO 8601, or Unix seconds), kept as the `crawl.date` "
                          "signal (Unix seconds) that URL dedup orders by; WARC records carry their `WARC-Date`")

    FORMATS: typing.ClassVar[tuple[str, ...]] = ("warc", "jsonl", "parquet", "webdataset", "images", "video")
    EXTRACTORS: typing.ClassVar[tuple[str, ...]] = ("trafilatura", "resiliparse")


@dataclass
class LangIdConfig:
    enabled: bool = opt(True, "run language ID")
    model: str = opt("lid176", "embedded preset, or a path to a fastText LID model (NLLB `lid218e`, OpenLID, GlotLID,"
                     " your own); `__label__en` and `__label__eng_Latn` labels are both read")
    min_score: float = opt(0.5, "reject below this confidence (`langid:low_score`)")
    min_score_per_lang: dict[str, float] = opt(factory=dict, doc="per-language overrides, e.g. `{ eng_Latn = 0.65 }`")
    keep: list[str] = opt(factory=list, doc="keep only these codes (empty: all)")
    drop: list[str] = opt(factory=list, doc="reject these codes")
    max_chars: int = opt(2000, "characters of each document that are classified")
    min_chars: int = opt(20, "fewer letters than this -> `und_Zyyy`")
    reject_und: bool = opt(True, "reject undetermined documents (`langid:undetermined`); image-text pairs and videos "
                           "are never rejected for an undeterminable caption")
    top_k: int = opt(1, "predictions kept in `signals` as `langid.top.<code>`")
    paragraph_mode: str = opt("off", "mixed documents: `off`; `record` the language shares (`langid.share.<code>`); "
                              "`reject` (`langid:mixed_language`) when the main language has less than "
                              "`min_majority_share` of the letters; `majority` keeps only the main language's "
                              "paragraphs (`langid.dropped_paragraphs`)")
    min_majority_share: float = opt(0.7, "see `paragraph_mode`")
    alt_text: bool = opt(True, "identify image alt texts too (`alt_lang` in the image part's meta)")

    PARAGRAPH_MODES: typing.ClassVar[tuple[str, ...]] = ("off", "record", "reject", "majority")


@dataclass
class UrlDedupConfig:
    enabled: bool = opt(False, "one document per normalised URL (scheme and host lower-cased, default port and "
                        "fragment dropped, query kept): the newest `crawl.date` survives, ties by lowest id, the "
                        "others are `url_dedup:older_version`; runs right after ingest and the URL filter")
    trailing_slash: bool = opt(True, "`/a/` and `/a` are one URL (the root `/` always is the host alone)")


@dataclass
class LineDedupConfig:
    enabled: bool = opt(False, "remove lines found in more than `max_count` documents of a bucket (Llama 3); "
                        "before PII, language ID and the quality rules, which judge what is left")
    max_count: int = opt(6, "a line in more documents than this (of its bucket) is removed from all of them")
    bucket_docs: int = opt(30_000_000, "documents per bucket (buckets by a hash of the id); Llama 3's 30M makes a "
                           "small job one bucket")
    min_chars: int = opt(100, "a document that lost lines and keeps fewer characters of prose is "
                         "`line_dedup:too_short`")


@dataclass
class ClassifierConfig:
    name: str = opt("", "the classifier's name: signal `classifier.<name>`, rejection `classifier:<name>` "
                    "(letters, digits, `_`, `-`)", shown="required")
    model: str = opt("", "fastText model file (`.bin`/`.ftz`), e.g. DCLM's "
                     "`openhermes_reddit_eli5_vs_rw_v2_bigram_200k_train.bin` or one `earlyfuse train-classifier` "
                     "made; a path every worker can read", shown="required")
    label: str = opt("__label__hq", "the label whose probability is the score (`hq` means `__label__hq`)")
    mode: str = opt("annotate", "`threshold` (keep score >= `threshold`), `top_fraction` (keep the best "
                    "`fraction` of the documents reaching the stage, exactly) or `annotate` (score only)")
    threshold: float = opt(0.5, "`threshold` mode: the lowest score kept (inclusive)")
    fraction: float = opt(0.1, "`top_fraction` mode: the share of documents kept, best scores first, ties by id")
    lowercase: bool = opt(False, "lower-case the text first (as the model was trained)")
    max_chars: int = opt(100_000, "characters of each document scored (newlines become spaces, as fastText needs "
                         "and as DCLM and NeMo Curator train)")
    languages: list[str] = opt(factory=list, doc="score only documents in these languages (FLORES codes; empty: "
                               "all)")

    MODES: typing.ClassVar[tuple[str, ...]] = ("threshold", "top_fraction", "annotate")


@dataclass
class EvalSetConfig:
    name: str = opt("", "the task's name: rejection `decontamination:<name>` (letters, digits, `_`, `-`)",
                    shown="required")
    paths: list[str] = opt(factory=list, doc="JSONL (also `.gz`) or Parquet files, folders or globs, local or "
                           "`s3://`; nothing is downloaded", shown="required")
    fields: list[str] = opt(factory=lambda: ["question"], doc="fields whose text is indexed, each on its own "
                            "(e.g. `[\"question\", \"answer\"]`); a list field's strings each count")


@dataclass
class DecontaminationConfig:
    sets: list[EvalSetConfig] = opt(factory=list, doc="`[[decontamination.sets]]`: the evaluation sets; none: "
                                    "the stage is off")
    mode: str = opt("remove", "`remove` (NeMo Curator's: cut each match with `window` characters each side, to "
                    "sentence ends) or `drop` (datatrove's and Dolma's: any match rejects the document)")
    ngram: int = opt(13, "words per n-gram (normalised: lower-cased, punctuation removed, split on whitespace)")
    min_words: int = opt(8, "a task text shorter than `ngram` words but at least this many is matched whole; "
                         "shorter ones are ignored and counted")
    max_matches: int = opt(10, "an n-gram found in more documents than this is common text, not contamination: "
                           "left alone and counted")
    window: int = opt(200, "`remove`: characters cut on each side of a match, then to the nearest sentence end")
    min_fragment_chars: int = opt(200, "`remove`: shorter fragments left after the cuts are dropped too")
    max_splits: int = opt(10, "`remove`: a document cut more often is rejected")
    warn_share: float = opt(0.001, "warn when more than this share of the documents reaching the stage is cut or "
                            "rejected (Dolma's runbook backs off at 0.1%)")
    broadcast_max_ngrams: int = opt(50_000_000, "an index of at most this many n-grams (12 bytes each, about 600 MB"
                                    " at the default) is broadcast to the workers for the first pass; a larger one is"
                                    " joined in Spark with every document's n-grams; the second pass gets only the "
                                    "n-grams found either way")

    MODES: typing.ClassVar[tuple[str, ...]] = ("remove", "drop")


@dataclass
class QualityConfig(Thresholds):
    enabled: bool = opt(True, "run the quality rules (image-text pairs and videos are not judged by them)")
    all_signals: bool = opt(False, "measure every group's signals even after a group has rejected the "
                            "document, so rejected/ shows them all; off, measuring stops at the first "
                            "failing group, as datatrove's chain does (the decision is the same)")


@dataclass
class UrlFilterConfig:
    enabled: bool = opt(True, "reject documents whose web URL is blocklisted (`urlfilter:<reason>`)")
    embedded: bool = opt(True, "datatrove's UT1-derived list (4.5 M domains) and its banned words and subwords")
    lists: list[str] = opt(factory=list, doc="your plain list files: one domain or URL per line, `#` comments")
    ut1_root: str = opt("", "a UT1 blacklist folder (`<category>/domains`, `<category>/urls`)")
    ut1_categories: list[str] = opt(factory=list, doc="UT1 categories to use (empty: all)")
    substrings: list[str] = opt(factory=list, doc="any URL containing one of these is rejected")


@dataclass
class PiiConfig:
    enabled: bool = opt(True, "mask email and IP addresses in all text before anything is stored or tokenized")
    email_replacement: str = opt("<EMAIL>", "replacement for email addresses")
    ip_replacement: str = opt("<IP>", "replacement for IPv4/IPv6 addresses")
    only_global_ips: bool = opt(True, "leave private, loopback and reserved addresses as they are")


@dataclass
class ImagesConfig:
    enabled: bool = opt(True, "decode, filter and tile images")
    max_pixels: int = opt(64_000_000, "larger images are rejected from their header, never decoded (`too_many_pixels`)")
    min_bytes: int = opt(0, "smaller files -> `too_few_bytes`")
    min_side: int = opt(32, "image-text pairs' images: shorter side below -> `too_small` (a picture this small says "
                        "little at a 336-pixel tile)")
    page_min_side: int = opt(150, "images inside interleaved pages: shorter side below -> `too_small` part drop "
                             "(OBELICS's rule: tracking pixels, spacers, icons and buttons)")
    max_side: int = opt(20_000, "longer side above -> `too_large`")
    max_aspect_ratio: float = opt(20.0, "long side / short side above -> `aspect_ratio`")
    max_per_doc: int = opt(48, "images past the cap are dropped and counted (`over_cap`)")
    tile_size: int = opt(336, "tile side (a multiple of the 14-pixel patch)")
    max_tiles: int = opt(16, "tiles per image before the global tile (1 for thumbnails)")
    mode: str = opt("exact", "`exact` or `fast` (JPEG draft decoding)")
    layout: str = opt("tiles", "`tiles` (`[n, 3, 336, 336]`) or `patches` (`[n, 576, 588]`)")
    tile_format: str = opt("npy", "`npy`, or `png` / `jpeg` (one member per tile, smaller shards)")
    jpeg_quality: int = opt(95, "quality of `jpeg` tiles")
    resolve_on_driver_bytes: int = opt(256_000_000, "a WARC set's image responses of at most this many bytes in all "
                                       "are broadcast from the driver and fill the pages' `<img>` parts in the media "
                                       "stages' Python pass; more are joined by URL in Spark (two shuffles of image "
                                       "bytes); `0` = always the join; the same parts either way (tested)")

    MODES: typing.ClassVar[tuple[str, ...]] = ("exact", "fast")
    LAYOUTS: typing.ClassVar[tuple[str, ...]] = ("tiles", "patches")
    TILE_FORMATS: typing.ClassVar[tuple[str, ...]] = ("npy", "png", "jpeg")


@dataclass
class FetchConfig:
    enabled: bool = opt(False, "fetch the image parts still without bytes after WARC and folder resolution by their "
                        "URL (off by default: a run reaches the network only when asked)")
    concurrency: int = opt(32, "requests in flight per Spark task")
    per_host: int = opt(8, "of which at most this many to one host")
    host_delay: float = opt(0.0, "seconds between two request starts to one host (politeness)")
    connect_timeout: float = opt(5.0, "seconds to connect")
    read_timeout: float = opt(10.0, "seconds between two reads")
    total_timeout: float = opt(30.0, "seconds for one attempt, body included (a server dripping bytes)")
    retries: int = opt(2, "further attempts after 429, 5xx, timeouts and lost connections")
    backoff: float = opt(0.5, "seconds before the first retry, doubled for each next; a Retry-After header wins")
    max_retry_after: float = opt(30.0, "a longer Retry-After is not waited for (the error is counted)")
    max_bytes: int = opt(20 * 2**20, "larger bodies are dropped as `fetch_too_large` while streaming, never held")
    max_redirects: int = opt(5, "more -> `fetch_too_many_redirects`; every hop's address is checked again")
    user_agent: str = opt("earlyfuse/0.1 (image fetcher; +https://github.com/earlyfuse/earlyfuse)",
                          "the User-Agent header; name a contact for a real crawl")
    agent_token: str = opt("earlyfuse", "the agent name X-Robots-Tag (`<token>: noai`) and robots.txt rules address")
    opt_out_directives: list[str] = opt(factory=lambda: ["noai", "noimageai", "noindex", "noimageindex"],
                                        doc="X-Robots-Tag directives that drop an image (`fetch_opt_out_header`), "
                                        "checked before the body is read; `[]` ignores the header")
    robots: bool = opt(True, "honour each host's robots.txt for `agent_token` (`fetch_opt_out_robots`), fetched "
                       "once per host per task")
    allow_private: bool = opt(False, "allow loopback, private and link-local addresses (never for a crawl: pages can "
                              "point at the cluster's metadata service)")
    allow_networks: list[str] = opt(factory=list, doc="private networks allowed anyway, as CIDR (an intranet crawl: "
                                    "`[\"10.1.0.0/16\"]`)")
    cache: bool = opt(True, "keep fetched images and lasting failures, so a resumed run fetches nothing twice")
    cache_dir: str = opt("", "where: `\"\"` = `<work folder>/fetch-cache` (cleared with the work folder); a folder or "
                         "`s3://` prefix of your own outlives runs and can be shared by them")


@dataclass
class VideoConfig:
    enabled: bool = opt(True, "sample frames from `video` inputs")
    fps: float = opt(1.0, "frames sampled per second of video")
    max_frames: int = opt(48, "cap per video; past it, frames are spread uniformly over the duration")
    mode: str = opt("exact", "`exact` (seek to the preceding keyframe, decode forward to each time) or `keyframe` "
                    "(keyframes only: fast, distinct frames, coarser times)")
    max_side: int = opt(1344, "frames are scaled by FFmpeg while decoding so the longer side is at most this")
    frame_max_tiles: int = opt(1, "tiles per frame (Llama 4 has no video tokens: a frame is an image)")
    min_duration: float = opt(0.0, "shorter -> `video:too_short` (seconds)")
    max_duration: float = opt(4 * 3600.0, "longer -> `video:too_long`")
    min_side: int = opt(32, "smaller frames -> `video:too_small`")
    max_pixels: int = opt(64_000_000, "larger frames (width x height from the header) -> `video:too_many_pixels`, "
                          "before any frame is decoded")
    max_file_bytes: int = opt(4 * 1024 ** 3, "larger files -> `video:too_large_file`, not opened")
    threads: int = opt(0, "FFmpeg decoding threads per video (0 = FFmpeg's choice)")
    jpeg_quality: int = opt(95, "sampled frames are kept as JPEG until tiled")

    MODES: typing.ClassVar[tuple[str, ...]] = ("exact", "keyframe")


@dataclass
class DedupConfig:
    order_by: str = opt("id", "survivor of every duplicate cluster: lowest `id`, `uri` or `source`, then lowest id")
    exact: bool = opt(True, "exact dedup on normalised text (and the image hashes of image documents)")
    strip_punctuation: bool = opt(False, "exact key without punctuation and symbols")
    strip_digits: bool = opt(False, "exact key without digits (dates, counters, prices)")
    near: bool = opt(True, "MinHash LSH near-duplicate dedup")
    ngram: int = opt(5, "words per shingle (characters in unspaced scripts); FineWeb's 5")
    bands: int = opt(14, "LSH bands; with `rows`, candidates from Jaccard about (1/bands)^(1/rows) = 0.72 up")
    rows: int = opt(8, "MinHash values per band; bands x rows permutations (112)")
    seed: int = opt(1, "seed of the permutations")
    verify: str = opt("jaccard", "candidate check: `jaccard` (exact shingle sets), `signature`, `none`")
    threshold: float = opt(0.75, "minimum similarity of a verified pair")
    images: bool = opt(True, "image dedup (needs `images.enabled`)")
    image_max_hamming: int = opt(4, "perceptual hashes within this many bits are near-duplicates (0..16)")
    image_max_docs: int = opt(10, "an image cluster in more documents is removed from all of them")
    video: bool = opt(True, "video dedup by frame-hash sequences")
    video_max_hamming: int = opt(10, "frames within this many bits match")
    video_min_match: float = opt(0.8, "share of matching frames that makes two videos duplicates")
    driver_max_rows: int = opt(1_000_000, "when the kept documents' dedup keys (a row per document, its exact key, "
                               "its near-dup band keys, its images, its frame hashes) are at most this many rows, one"
                               " Spark job fetches them and all dedup stages decide on the driver, in stage order, "
                               "and one join writes the marks back; more, and each stage fetches its own narrow data "
                               "(candidate edges, image rows, frame-hash sequences) when it is at most this many rows"
                               " and otherwise takes Spark's joins and connected-component rounds (two jobs per "
                               "round); `0` = always in Spark; the same statuses and clusters every way (tested); a "
                               "million rows is about 100-400 MB on the driver for a moment")

    VERIFY: typing.ClassVar[tuple[str, ...]] = ("jaccard", "signature", "none")


@dataclass
class MetaClipConfig:
    enabled: bool = opt(False, "balance image-text pairs by metadata, as MetaCLIP curates: after dedup, before "
                        "the mixture")
    entries: str = opt("", "the entry list: one entry per line, UTF-8 (WordNet synsets, Wikipedia unigrams, "
                       "bigrams and titles: yours; nothing is downloaded), local or `s3://`", shown="required")
    t: int = opt(20_000, "an entry in more pairs than this keeps each with probability t / count (MetaCLIP's "
                 "20,000)")
    seed: int = opt(0, "seed of the coins (a hash of seed, pair id and entry)")
    keep_unmatched: bool = opt(False, "keep pairs whose caption matches no entry (default: `metaclip:no_entry`)")


@dataclass
class TokenizerConfig:
    spec: str = opt("tiktoken:cl100k_base", "`tiktoken:cl100k_base` (embedded), `tiktoken:/path`, "
                    "`llama4:/path/tokenizer.model`, `hf:/path/tokenizer.json`")
    part_separator: str = opt("\n\n", "joins a document's text parts")


@dataclass
class ShardConfig:
    name: str = opt("", "shard file prefix (letters, digits, `-`, `_`)", shown="run.name")
    max_samples: int = opt(10_000, "samples per shard before rolling")
    max_bytes: int = opt(256 * 1024 * 1024, "bytes per shard before rolling")
    partitions: int = opt(0, "shard-writing partitions (each rolls its own shards); 0 = ceil(kept / max(max_samples, "
                          "256)): a full shard per partition, but at least 256 documents a partition, since each task"
                          " costs about 50 ms beyond its documents; derived from the data alone, so the same "
                          "documents always give the same shards")
    layout: str = opt("document", "`document` (a sample per document) or `packed` (a sample per sequence of "
                      "exactly `seq_len` tokens: whole documents and pieces of longer ones, best-fit packed, with "
                      "`cu_seqlens` boundaries; [stages/packing.md](stages/packing.md))")
    seq_len: int = opt(8192, "`packed`: tokens per sequence (up to 268,435,456); a document is cut into pieces of "
                       "at most this many, never inside an image")

    LAYOUTS: typing.ClassVar[tuple[str, ...]] = ("document", "packed")


@dataclass
class LongContextConfig:
    min_tokens: int = opt(0, "write only documents (or chains, with `group_by`) of at least this many tokens, "
                          "e.g. 32768; `0` = all. Needs `shards.layout = \"packed\"`")
    group_by: str = opt("", "join consecutive documents of one `source`, `lang` or `site` (the URL's host) into "
                        "one document, in id order, up to `concat_tokens`; `\"\"` = no joining")
    concat_tokens: int = opt(0, "`group_by`: the longest joined document; `0` = `shards.seq_len`")

    GROUP_BY: typing.ClassVar[tuple[str, ...]] = ("", "source", "lang", "site")

    @property
    def enabled(self) -> bool:
        return bool(self.min_tokens or self.group_by)


@dataclass
class MixtureConfig:
    method: str = opt("", "`weights`, `temperature` or `unimax`; `\"\"` (no `[mixture]`): every kept document is "
                      "written once")
    over: str = opt("language", "the groups the method sets shares over: `language`, `source`, `source_language` or"
                    " `bucket`; a group's buckets share its rate, keeping their natural proportions")
    weights: dict[str, float] = opt(factory=dict, doc="`weights`: a share per group (normalised), e.g. "
                                    "`{ eng_Latn = 0.5, fra_Latn = 0.5 }`, `{ web = 7, books = 3 }` or "
                                    "`{ \"web/eng_Latn\" = 1 }`; `\"*\"` weighs every unlisted group; unlisted "
                                    "groups get 0")
    alpha: float = opt(0.3, "`temperature`: q_i = p_i^alpha / sum_j p_j^alpha (0.3 as mT5; 1 = natural shares)")
    budget_tokens: int = opt(0, "total tokens written (text and image tokens); `0` = the tokens available "
                             "(required for `unimax`)")
    max_epochs: float = opt(0.0, "cap on any bucket's copies per document, on average (UniMax's N; required for "
                            "`unimax`); `0` = no cap")
    min_tokens_per_language: int = opt(0, "every language gets at least this many tokens (within `max_epochs`); "
                                       "with `over = \"language\"`")
    exclude: list[str] = opt(factory=list, doc="buckets written not at all: glob patterns over bucket names "
                             "`source/lang[/band][/modality]`, e.g. `[\"*/und\", \"web/*/b0\"]`")
    on_unmet: str = opt("error", "a plan the caps cannot hold: `error` (exit 2 naming the group, before any shard "
                        "is written) or `closest` (as near as the caps allow, reported)")
    seed: int = opt(0, "seed of the copy decisions (a hash of seed, id and copy index)")
    band_signal: str = opt("", "a signal that makes quality bands part of the bucket, e.g. `classifier.hq`; "
                           "documents without it are band `none`")
    band_edges: list[float] = opt(factory=list, doc="ascending values cutting the signal into bands `b0`.. (`b0` "
                                  "below the first edge)")
    band_quantiles: list[float] = opt(factory=list, doc="or quantiles of the signal over the documents reaching "
                                      "the mixture, e.g. `[0.5, 0.9]` (Spark's approxQuantile, relative error "
                                      "1e-4)")
    by_modality: bool = opt(False, "buckets also by modality: `text`, `pair`, `interleaved`, `video`")
    driver_max_rows: int = opt(1_000_000, "the documents of fractional-rate buckets are ordered on the driver when "
                               "at most this many; more, and Spark narrows each bucket's cut first (same result, "
                               "tested)")

    METHODS: typing.ClassVar[tuple[str, ...]] = ("weights", "temperature", "unimax")
    OVER: typing.ClassVar[tuple[str, ...]] = ("language", "source", "source_language", "bucket")
    ON_UNMET: typing.ClassVar[tuple[str, ...]] = ("error", "closest")


@dataclass
class Config:
    run: RunConfig = opt(factory=RunConfig, doc="How the job runs: its name, where it writes, the Spark master, "
                         "checkpoints and resuming.")
    sample: SampleConfig = opt(factory=SampleConfig, doc="The bundled sample's generated inputs.")
    storage: StorageConfig = opt(factory=StorageConfig, doc="S3 and S3-compatible stores, through boto3; credentials "
                                 "come from the usual AWS chain (environment, profile, instance role) and are never "
                                 "written anywhere.")
    inputs: list[InputConfig] = opt(factory=list, doc="One `[[inputs]]` table per source; at least one.")
    urlfilter: UrlFilterConfig = opt(factory=UrlFilterConfig, doc="URL blocklists: datatrove's embedded UT1-derived "
                                     "list and word lists, plus your own.")
    pii: PiiConfig = opt(factory=PiiConfig, doc="Email and IP addresses masked in all text, before anything is "
                         "stored or tokenized.")
    langid: LangIdConfig = opt(factory=LangIdConfig, doc="Language identification with fastText; FLORES-200-style "
                               "codes.")
    quality: QualityConfig = opt(factory=QualityConfig, doc="Gopher quality and repetition, C4 and FineWeb rules; "
                                 "the defaults are datatrove's.")
    url_dedup: UrlDedupConfig = opt(factory=UrlDedupConfig, doc="URL-level dedup: the newest crawl of each URL "
                                    "wins.")
    line_dedup: LineDedupConfig = opt(factory=LineDedupConfig, doc="Line-level dedup (CCNet's line normalisation, "
                                      "Llama 3's counts).")
    classifiers: list[ClassifierConfig] = opt(factory=list, doc="One `[[classifiers]]` table per fastText quality "
                                              "classifier; scored after the quality rules.")
    decontamination: DecontaminationConfig = opt(factory=DecontaminationConfig, doc="Evaluation-set n-grams cut "
                                                 "from (or rejecting) the documents "
                                                 "([stages/decontamination.md](stages/decontamination.md)).")
    images: ImagesConfig = opt(factory=ImagesConfig, doc="Decoding limits, filters and Llama-4 tiling.")
    fetch: FetchConfig = opt(factory=FetchConfig, doc="Images fetched by URL for crawled pages: limits, retries, "
                             "opt-out and address safety.")
    video: VideoConfig = opt(factory=VideoConfig, doc="Frame sampling with PyAV; a frame is an image of one tile "
                             "by default.")
    dedup: DedupConfig = opt(factory=DedupConfig, doc="Exact, near-duplicate (MinHash LSH), image and video "
                             "deduplication.")
    metaclip: MetaClipConfig = opt(factory=MetaClipConfig, doc="MetaCLIP's balancing of image-text pairs by "
                                   "caption metadata ([stages/metaclip.md](stages/metaclip.md)).")
    tokenizer: TokenizerConfig = opt(factory=TokenizerConfig, doc="The text tokenizer; image tokens follow Llama "
                                     "4's layout whatever it is.")
    mixture: MixtureConfig = opt(factory=MixtureConfig, doc="Token budgets per source, language, quality band "
                                 "and modality: documents repeated or sampled down to a planned mixture "
                                 "([stages/mixture.md](stages/mixture.md)).")
    shards: ShardConfig = opt(factory=ShardConfig, doc="The webdataset shards.")
    long_context: LongContextConfig = opt(factory=LongContextConfig, doc="A long-context subset: documents "
                                          "selected by length, optionally joined by source, language or site, "
                                          "packed into long sequences ([stages/packing.md](stages/packing.md)).")
    spark: dict[str, str] = opt(factory=dict, doc="Any Spark conf, e.g. `\"spark.driver.memory\" = \"8g\"`.")
    source_file: str = field(default="", repr=False, metadata={"internal": True})

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d.pop("source_file", None)
        return d
