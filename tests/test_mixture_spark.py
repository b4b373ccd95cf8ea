"""Mixtures through Spark and the whole pipeline: exact upsampling and downsampling,
rerun- and core-count-identical shards, UniMax over 60 languages, both ways of cutting."""

import json
import math
import random
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import webdataset as wds

from pipelines.config import parse_config
from pipelines.run import run_pipeline

pytestmark = pytest.mark.spark
ROOT = Path(__file__).resolve().parent.parent


def write_corpus(path: Path, n: int, seed: int = 5) -> None:
    rng = random.Random(seed)
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9)))
             for _ in range(4000)]
    with open(path, "w") as f:
        for i in range(n):
            text = " ".join(rng.choice(words) for _ in range(rng.randint(30, 400)))
            f.write(json.dumps({"id": f"d{i}", "url": f"https://example.org/{i}", "text": text}) + "\n")


def base_config(corpus: Path, out: Path, **sections) -> dict:
    cfg = {"run": {"name": "mix", "output": str(out), "progress": False},
           "inputs": [{"name": "web", "format": "jsonl", "path": str(corpus)}],
           "langid": {"enabled": False}, "quality": {"enabled": False},
           "shards": {"max_samples": 40, "partitions": 3}}
    for k, v in sections.items():
        cfg[k] = dict(cfg.get(k, {}), **v)
    return cfg


def samples(out: Path) -> list[dict]:
    manifest = json.loads((out / "manifest.json").read_text())
    urls = [str(out / "shards" / s["name"]) for s in manifest["shards"]]
    rows = []
    for s in wds.WebDataset(urls, shardshuffle=False).decode():
        rows.append(dict(s["json"], key=s["__key__"], shard=s["__url__"], n=len(s["tokens.npy"])))
    return rows


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("mix")
    write_corpus(d / "docs.jsonl", 300)
    return d / "docs.jsonl"


@pytest.fixture(scope="module")
def natural(spark, corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("natural") / "out"
    result = run_pipeline(parse_config(base_config(corpus, out)), spark)
    assert "mixture" not in result.manifest
    return out, result.manifest


def test_without_a_mixture_nothing_changes(natural):
    out, manifest = natural
    rows = samples(out)
    assert len(rows) == manifest["totals"]["samples"] == len({r["doc_id"] if "doc_id" in r else r["id"] for r in rows})
    assert all("copy" not in r for r in rows)


def test_upsample_2_5x_exact_rerun_identical_and_spread(spark, corpus, natural, tmp_path):
    _, plain = natural
    available = plain["totals"]["tokens"]
    out = tmp_path / "up"
    mixture = {"method": "weights", "over": "source", "weights": {"web": 1}, "budget_tokens": int(2.5 * available)}
    cfg = base_config(corpus, out, mixture=mixture)
    result = run_pipeline(parse_config(cfg), spark)
    rows = samples(out)
    per_doc = Counter(r["doc_id"] for r in rows)
    assert set(per_doc.values()) <= {2, 3} and len(per_doc) == plain["totals"]["samples"]
    longest = max(r["n"] for r in rows)
    (bucket,) = result.manifest["mixture"]["buckets"]
    assert abs(sum(r["n"] for r in rows) - 2.5 * available) <= longest
    assert bucket["written_tokens"] == sum(r["n"] for r in rows) == result.manifest["totals"]["tokens"]
    assert bucket["epochs"] == pytest.approx(2.5, abs=longest / available)
    # Keys: copy 0 keeps the id, copy k is <id>_r<k>; a copy is the same tokens.
    for r in rows:
        assert r["key"] == (r["doc_id"] if r["copy"] == 0 else f"{r['doc_id']}_r{r['copy']}")
    lengths = defaultdict(set)
    for r in rows:
        lengths[r["doc_id"]].add(r["n"])
    assert all(len(v) == 1 for v in lengths.values())
    # Three copies at most and three partitions: every copy in a different shard, never adjacent.
    shards = defaultdict(set)
    for r in rows:
        shards[r["doc_id"]].add(r["shard"])
    assert all(len(shards[d]) == per_doc[d] for d in per_doc)
    assert all(a["doc_id"] != b["doc_id"] for a, b in zip(rows, rows[1:]))
    # Rerun (the checkpoints kept) and a fresh JVM on one core: byte-identical shards.
    first = {s["name"]: s["sha256"] for s in result.manifest["shards"]}
    again = run_pipeline(parse_config(cfg), spark)
    assert {s["name"]: s["sha256"] for s in again.manifest["shards"]} == first
    toml = tmp_path / "mix.toml"
    toml.write_text(_toml(cfg))
    proc = subprocess.run([sys.executable, "-m", "jobs.cli", "run", str(toml), "--master", "local[1]", "--output",
                           str(tmp_path / "one"), "--no-progress"], capture_output=True, text=True, cwd=ROOT,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "mixture: weights" in proc.stdout
    one = json.loads((tmp_path / "one" / "manifest.json").read_text())
    assert {s["name"]: s["sha256"] for s in one["shards"]} == first


def test_downsample_tenth_keeps_about_a_tenth(spark, corpus, natural, tmp_path):
    _, plain = natural
    available, n = plain["totals"]["tokens"], plain["totals"]["samples"]
    out = tmp_path / "down"
    cfg = base_config(corpus, out, mixture={"method": "temperature", "alpha": 1.0,
                                            "budget_tokens": int(0.1 * available)})
    result = run_pipeline(parse_config(cfg), spark)
    rows = samples(out)
    assert all(r["copy"] == 0 for r in rows)
    sd = math.sqrt(n * 0.1 * 0.9)
    assert abs(len(rows) - 0.1 * n) <= 4 * sd + 1
    assert abs(sum(r["n"] for r in rows) - 0.1 * available) <= max(r["n"] for r in rows)
    d = result.manifest["mixture"]["documents"]
    assert d["in"] == n and d["written"] == len(rows) and d["sampled_out"] == n - len(rows)


def test_an_unmeetable_plan_is_a_one_line_error_before_any_shard(spark, corpus, tmp_path, capsys):
    from pipelines.mixture.planner import MixtureError

    out = tmp_path / "err"
    cfg = base_config(corpus, out, mixture={"method": "unimax", "budget_tokens": 10**12, "max_epochs": 2})
    with pytest.raises(MixtureError, match="exceeds the .* that max_epochs = 2 allows"):
        run_pipeline(parse_config(cfg), spark)
    assert not (out / "manifest.json").exists() and not list((out / "shards").glob("*.tar"))
    # Through the command line: exit code 2 and one line; the checkpoints stay for a fixed rerun.
    from jobs.cli import main as cli_main

    toml = tmp_path / "err.toml"
    toml.write_text(_toml(cfg))
    assert cli_main(["run", str(toml), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("earlyfuse: config error: mixture: budget") and "\n" not in err
    assert (out / "_work" / "tokens" / "_SUCCESS").exists() and (out / "_work" / "docs" / "_SUCCESS").exists()


def test_cuts_on_the_driver_and_narrowed_in_spark_agree(spark):
    from pipelines.config import MixtureConfig
    from pipelines.mixture.planner import plan_mixture
    from pipelines.mixture.sampling import copies, count_buckets, find_cuts

    rng = random.Random(2)
    rows = [(f"id{i:05d}", f"s/l{i % 3}", "s", f"l{i % 3}", None, None, rng.randint(2, 900)) for i in range(6000)]
    df = spark.createDataFrame(rows, "id string, _bucket string, source string, _lang string, _band string, "
                                     "_modality string, n_tokens int")
    plan = plan_mixture(count_buckets(df), MixtureConfig(method="temperature", alpha=0.3, max_epochs=5))
    assert any(b.rate % 1 for b in plan.buckets)
    on_driver = find_cuts(df, plan, 7, 10**6)
    narrowed = find_cuts(df, plan, 7, 50)
    assert len(on_driver) == 3 and {b: (c.docs, c.tokens) for b, c in on_driver.items()} == {
        b: (c.docs, c.tokens) for b, c in narrowed.items()}

    def chosen(cut):
        return sorted((r["doc_id"], r["copy"]) for r in copies(df, plan, cut, 7, 4).select("doc_id", "copy").collect())

    assert chosen(on_driver) == chosen(narrowed)
    for b in plan.buckets:
        c = on_driver[b.name]
        residual = b.target_tokens - int(b.rate) * b.available_tokens
        assert abs(c.tokens - residual) <= 900


def test_routes_put_rows_in_the_chosen_partition(spark):
    from pyspark.sql import functions as F

    from pipelines.mixture.sampling import murmur3_int, routes

    got = spark.range(0, 2000).select(F.col("id").cast("int").alias("v"), F.hash(F.col("id").cast("int")).alias("h"))
    assert all(murmur3_int(r["v"]) == r["h"] for r in got.collect())
    for p in (1, 3, 7, 64):
        table = routes(p)
        df = spark.createDataFrame([(i, table[i % p]) for i in range(5 * p)], "want int, route int")
        placed = df.repartition(p, "route").select("want", F.spark_partition_id().alias("got")).collect()
        assert all(r["want"] % p == r["got"] for r in placed)


def _toml(cfg: dict) -> str:
    lines = []
    for section, table in cfg.items():
        if section == "inputs":
            for inp in table:
                lines.append("[[inputs]]")
                lines += [f"{k} = {json.dumps(v)}" for k, v in inp.items()]
            continue
        lines.append(f"[{section}]")
        for k, v in table.items():
            if isinstance(v, dict):
                v = "{ " + ", ".join(f"{json.dumps(a)} = {json.dumps(b)}" for a, b in v.items()) + " }"
            else:
                v = json.dumps(v)
            lines.append(f"{k} = {v}")
    return "\n".join(lines) + "\n"


def test_buckets_by_band_and_modality_on_the_sample(spark, sample_run):
    """The sample's kept documents: image-text pairs, pages with images, text and videos;
    bands at the median language-ID score; every bucket counted, every copy planned."""
    from pyspark.sql import functions as F

    from pipelines.config import MixtureConfig
    from pipelines.context import RunContext
    from pipelines.mixture.stage import Mixture
    from pipelines.stages.tokenize import Tokenize

    result, _, _ = sample_run
    docs = spark.read.parquet(str(Path(result.output) / "_work" / "docs")).filter(F.col("status") == "keep")
    tokens = Tokenize("tiktoken:cl100k_base").apply(docs, None).cache()
    cfg = MixtureConfig(method="temperature", alpha=0.7, max_epochs=4, by_modality=True,
                        band_signal="langid.score", band_quantiles=[0.5])
    ctx = RunContext(spark)
    out = Mixture(cfg, 32, 0).apply(tokens, ctx)
    block = ctx.report.notes["mixture"]
    names = [b["name"] for b in block["buckets"]]
    assert all(len(n.split("/")) == 4 for n in names)
    assert {b["modality"] for b in block["buckets"]} == {"text", "pair", "interleaved", "video"}
    docs_by_band = Counter()
    for b in block["buckets"]:
        docs_by_band[b["band"]] += b["documents"]
    assert set(docs_by_band) == {"b0", "b1"} and abs(docs_by_band["b0"] - docs_by_band["b1"]) <= 0.2 * tokens.count()
    assert block["available_tokens"] == tokens.agg(F.sum("n_tokens")).first()[0] == result.manifest["totals"]["tokens"]
    rows = out.select("doc_id", "_bucket", "n_tokens").collect()
    assert len(rows) == block["written_samples"] and sum(r["n_tokens"] for r in rows) == block["written_tokens"]
    per_bucket = defaultdict(int)
    for r in rows:
        per_bucket[r["_bucket"]] += r["n_tokens"]
    for b in block["buckets"]:
        assert per_bucket[b["name"]] == b["written_tokens"]
    tokens.unpersist()
