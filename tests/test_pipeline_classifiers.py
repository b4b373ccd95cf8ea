"""Quality classifiers in the pipeline: a model trained by `earlyfuse train-classifier`,
scored in the per-record pass, each mode's decision checked against the model's own scores."""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from filters.classifier import QualityClassifier
from pipelines.config import ConfigError, parse_config
from tests.test_classifier import FAST, ROOT, _write_inputs, corpus, prose, spam


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clf")
    files = _write_inputs(folder, *corpus(1, 1500), n_empty=0)
    path = folder / "quality.bin"
    out = subprocess.run([sys.executable, "-m", "jobs.cli", "train-classifier", "--positive", str(files["pos"]),
                          "--positive", str(files["pos_gz"]), "--negative", str(files["neg"]),
                          "--output", str(path), "--json", *FAST], capture_output=True, text=True, cwd=ROOT,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["accuracy"] >= 0.95
    return path


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Documents from all prose to all boilerplate, multi-line, so scores spread over [0, 1]."""
    rng = random.Random(7)
    folder = tmp_path_factory.mktemp("clf-in")
    docs = []
    for i in range(48):
        lines = [prose(rng) for _ in range(i % 7)] + [spam(rng) for _ in range(6 - i % 7)]
        rng.shuffle(lines)
        docs.append({"url": f"https://site.example/{i}", "text": "\n".join(lines)})
    (folder / "docs.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    return folder, {d["url"]: d["text"] for d in docs}


def config(folder: Path, out: Path, classifiers: list[dict], **extra) -> dict:
    return {"run": {"output": str(out), "progress": False},
            "inputs": [{"name": "web", "format": "jsonl", "path": str(folder / "*.jsonl")}],
            "langid": {"enabled": False}, "quality": {"enabled": False},
            "dedup": {"exact": False, "near": False, **extra.get("dedup", {})}, "classifiers": classifiers}


def run(spark, cfg: dict):
    from pipelines.run import run_pipeline

    result = run_pipeline(parse_config(cfg), spark)
    rows = spark.read.parquet(str(Path(cfg["run"]["output"]) / "_work" / "docs")).collect()
    return result, {r["uri"]: r for r in rows}


def test_three_modes_in_one_run(spark, model, inputs, tmp_path):
    folder, texts = inputs
    scores = dict(zip(texts, QualityClassifier(str(model), "hq").scores(list(texts.values()))))
    assert len(set(scores.values())) > 20          # the documents really spread over the scale
    t = sorted(scores.values())[20]                # a threshold equal to a document's score
    cfg = config(folder, tmp_path / "out", [
        {"name": "look", "model": str(model), "label": "hq", "mode": "annotate"},
        {"name": "hq", "model": str(model), "label": "__label__hq", "mode": "threshold", "threshold": t},
        {"name": "best", "model": str(model), "mode": "top_fraction", "fraction": 0.5},
        {"name": "french", "model": str(model), "mode": "threshold", "threshold": 1.0, "languages": ["fra_Latn"]}])
    result, rows = run(spark, cfg)
    for url, r in rows.items():
        signals = dict(r["signals"])
        assert signals["classifier.look"] == scores[url] and 0.0 <= scores[url] <= 1.0
        assert "classifier.french" not in signals   # not a French document: not scored
    below = {u for u, s in scores.items() if s < t}
    assert {u for u, r in rows.items() if r["status"] == "classifier:hq"} == below
    assert any(s == t for s in scores.values()) and all(rows[u]["status"] != "classifier:hq"
                                                        for u, s in scores.items() if s == t)   # inclusive
    # Top half of the documents the threshold kept: best scores first, ties by id.
    pool = sorted((u for u in texts if u not in below), key=lambda u: (-scores[u], rows[u]["id"]))
    best = set(pool[:round(0.5 * len(pool))])
    assert {u for u, r in rows.items() if r["status"] == "keep"} == best
    assert {u for u, r in rows.items() if r["status"] == "classifier:best"} == set(pool) - best
    stage = next(s for s in result.stages if s["stage"] == "classifier")
    assert stage["reasons"] == {"hq": len(below), "best": len(pool) - len(best)}
    report = json.loads((tmp_path / "out" / "report" / "stages.json").read_text())
    top = report["curation"]["classifiers"]["best"]
    assert (top["scored"], top["kept"], top["exact"]) == (len(pool), len(best), True)
    assert top["cutoff"] == round(min(scores[u] for u in best), 6)
    # The scores reach the shards' JSON.
    shard = next((tmp_path / "out" / "shards").glob("*.tar"))
    with tarfile.open(shard) as tar:
        metas = [json.load(io.BytesIO(tar.extractfile(m).read())) for m in tar if m.name.endswith(".json")]
    names = [{x["name"] for x in m["signals"]} for m in metas]
    assert metas and all({"classifier.look", "classifier.hq"} <= n for n in names)


def test_top_fraction_in_spark_is_within_one_document(spark, model, inputs, tmp_path):
    folder, texts = inputs
    cfg = config(folder, tmp_path / "out", [{"name": "best", "model": str(model), "mode": "top_fraction",
                                             "fraction": 0.25}], dedup={"driver_max_rows": 0})
    result, rows = run(spark, cfg)
    kept = sum(r["status"] == "keep" for r in rows.values())
    assert abs(kept - round(0.25 * len(texts))) <= 1
    report = json.loads((tmp_path / "out" / "report" / "stages.json").read_text())
    assert report["curation"]["classifiers"]["best"]["exact"] is False


def test_annotate_rejects_nothing(spark, model, inputs, tmp_path):
    folder, texts = inputs
    result, rows = run(spark, config(folder, tmp_path / "out", [{"name": "q", "model": str(model)}]))
    assert all(r["status"] == "keep" for r in rows.values()) and len(rows) == len(texts)
    assert all("classifier.q" in dict(r["signals"]) for r in rows.values())


def test_bad_classifier_configs_are_one_line_errors(model, inputs, tmp_path):
    folder, _ = inputs
    base = config(folder, tmp_path / "out", [])
    for bad, says in [({"name": "q", "model": str(model), "label": "good"}, "is not one of the model's labels"),
                      ({"name": "q", "model": str(tmp_path / "missing.bin")}, "no such file"),
                      ({"name": "q", "model": str(ROOT / "README.md")}, "is not a fastText model"),
                      ({"name": "q", "model": str(model), "mode": "top"}, "mode must be one of"),
                      ({"name": "q w", "model": str(model)}, "name may only use letters"),
                      ({"name": "q", "model": str(model), "fraction": 0}, "fraction in (0, 1]")]:
        with pytest.raises(ConfigError, match=None) as e:
            parse_config({**base, "classifiers": [bad]})
        assert says in str(e.value) and "\n" not in str(e.value), str(e.value)
    toml = tmp_path / "bad.toml"
    toml.write_text(f'[[inputs]]\nname = "a"\nformat = "jsonl"\npath = "{folder}/*.jsonl"\n\n'
                    f'[[classifiers]]\nname = "q"\nmodel = "{model}"\nlabel = "__label__nope"\n')
    out = subprocess.run([sys.executable, "-m", "jobs.cli", "run", str(toml)], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1 and "__label__nope" in out.stderr
