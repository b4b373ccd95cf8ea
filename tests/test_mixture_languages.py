"""UniMax over 60 languages of Zipf-like sizes, through language ID (a fastText model
trained here on generated text), the shards, the manifest and `earlyfuse stats`."""

import io
import json
from collections import defaultdict
from contextlib import redirect_stdout

import pytest
import webdataset as wds

from pipelines.config import parse_config
from pipelines.run import run_pipeline
from tests.test_langid_200 import lid_languages, sentence

pytestmark = pytest.mark.spark
N_LANGS = 60


@pytest.fixture(scope="module")
def zipf_corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("zipf")
    codes, vocab, rng = lid_languages(d, N_LANGS, 11, "lid.bin")
    with open(d / "docs.jsonl", "w") as f:
        for rank, c in enumerate(codes, 1):
            for i in range(max(1, round(150 / rank ** 1.1))):  # Zipf-like: 150 documents down to 2
                f.write(json.dumps({"id": f"{c}-{i}", "url": f"http://x/{c}/{i}",
                                    "text": sentence(rng, vocab[c], rng.randint(40, 160))}) + "\n")
    return d


def test_unimax_over_60_languages_lands_on_the_plan(spark, zipf_corpus, tmp_path):
    from jobs.cli import main as cli_main

    d = zipf_corpus
    out = tmp_path / "out"
    cfg = {"run": {"name": "zipf", "output": str(out), "progress": False},
           "inputs": [{"name": "web", "format": "jsonl", "path": str(d / "docs.jsonl")}],
           "langid": {"model": str(d / "lid.bin"), "min_score": 0.3}, "quality": {"enabled": False},
           "mixture": {"method": "unimax", "budget_tokens": 150_000, "max_epochs": 3},
           "shards": {"max_samples": 200}}
    result = run_pipeline(parse_config(cfg), spark)
    mix = result.manifest["mixture"]
    langs = {b["lang"] for b in mix["buckets"]}
    assert len(langs) >= 50
    assert mix["available_tokens"] > 150_000 and mix["written_tokens"] == result.manifest["totals"]["tokens"]
    # Realized per language, read back from the shards with webdataset.
    urls = [str(out / "shards" / s["name"]) for s in result.manifest["shards"]]
    realized, longest = defaultdict(int), defaultdict(int)
    for s in wds.WebDataset(urls, shardshuffle=False).decode():
        n = len(s["tokens.npy"])
        realized[s["json"]["lang"]] += n
        longest[s["json"]["lang"]] = max(longest[s["json"]["lang"]], n)
    target = defaultdict(float)
    epochs = {}
    for b in mix["buckets"]:
        target[b["lang"]] += b["target_tokens"]
        epochs[b["lang"]] = b["rate"]
    for lang in langs:
        assert abs(realized[lang] - target[lang]) <= max(0.01 * target[lang], longest[lang]), lang
    # UniMax: the small languages at the cap, the large ones level at one budget.
    assert max(epochs.values()) == pytest.approx(3.0)
    level = {round(target[lang]) for lang in langs if epochs[lang] < 3.0 - 1e-9}
    assert len(level) == 1 and level.pop() > 0
    buf = io.StringIO()
    with redirect_stdout(buf):
        assert cli_main(["stats", str(out), "--json"]) == 0
    stats = json.loads(buf.getvalue())["mixture"]
    assert stats["method"] == "unimax" and len(stats["languages"]) == len(langs)
    assert {r["name"]: r["realized_tokens"] for r in stats["languages"]} == dict(realized)
    for r in stats["languages"]:
        assert abs(r["realized_tokens"] - r["target_tokens"]) <= max(0.01 * r["target_tokens"], longest[r["name"]])
    html = tmp_path / "stats.html"
    assert cli_main(["stats", str(out), "--html", str(html)]) == 0
    page = html.read_text()
    assert "<h2>Mixture</h2>" in page and 'alt="mixture"' in page
