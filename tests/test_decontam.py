"""Decontamination: the index, matching, NeMo's cuts, and the stage in a pipeline."""

import json
import random

import pyarrow as pa
import pytest

from filters.decontam import build_index, cut, find, words
from pipelines.config import DecontaminationConfig, EvalSetConfig, parse_config
from pipelines.schema import image_part, record, records_to_batch, text_part
from pipelines.stages.decontaminate import DecontaminateProcessor

TASK = ("Which planet in our solar system has the longest day compared with the time it takes "
        "to orbit the sun")  # 20 words


def filler(rng: random.Random, chars: int) -> str:
    vocab = ["river", "market", "garden", "window", "letter", "engine", "harbor", "pencil", "silver", "forest",
             "candle", "ticket", "bridge", "summer", "mirror", "planet", "orange", "rocket", "button", "castle"]
    out = []
    while sum(len(s) for s in out) < chars:
        out.append(" ".join(rng.choice(vocab) for _ in range(rng.randint(6, 14))).capitalize() + ".")
    return " ".join(out)


def test_words_are_normalised_as_nemo_does():
    ws, starts, ends = words("Hello, World! -- it's 42 ...")
    assert ws == ["hello", "world", "its", "42"]
    assert "Hello, World! -- it's 42 ..."[starts[1]:ends[1]] == "World!"


def test_index_counts_long_short_and_ignored_texts():
    idx = build_index({"qa": [TASK, "Name the largest ocean on planet earth today", "Too short here"]}, 13, 8)
    s = idx.stats["qa"]
    assert s["ngrams_indexed"] == (20 - 13 + 1) + 1 and s["texts_used_whole"] == 1 and s["texts_too_short"] == 1
    assert set(idx.by_length) == {13, 8}


def test_case_and_punctuation_do_not_hide_a_match():
    idx = build_index({"qa": [TASK]})
    variant = "WHICH planet, in our solar-system has the LONGEST day; compared with the time it takes to orbit the Sun?"
    assert find(variant, idx)
    assert not find(TASK.replace("longest", "shortest"), build_index({"qa": ["x " * 3]}))


def test_embedded_sentence_leaves_two_fragments_free_of_the_task():
    rng = random.Random(1)
    text = f"{filler(rng, 450)} {TASK}. {filler(rng, 450)}"
    idx = build_index({"qa": [TASK]})
    fragments, cuts, removed = cut(text, find(text, idx), 200, 200)
    assert cuts == 1 and len(fragments) == 2
    assert all(not find(f, idx) for f in fragments) and all(len(f) >= 200 for f in fragments)
    assert removed == len(text) - sum(len(f) for f in fragments)


def _batch(rows):
    return records_to_batch(rows)


def test_processor_remove_keeps_images_rejects_many_splits_and_drop_rejects():
    rng = random.Random(2)
    idx = build_index({"qa": [TASK]})
    page = record("p", "web", "u", [text_part(filler(rng, 300)), image_part(b"img", alt="a photo"),
                                    text_part(f"{filler(rng, 450)} {TASK}. {filler(rng, 450)}"),
                                    image_part(b"img2", alt=TASK)])
    many = record("m", "web", "u2", [text_part(" ".join(f"{filler(rng, 700)} {TASK}." for _ in range(11)))])
    clean = record("c", "web", "u3", [text_part(filler(rng, 600))])
    cfg = DecontaminationConfig(sets=[EvalSetConfig(name="qa", paths=["x"])])
    out = DecontaminateProcessor(cfg, idx)(_batch([page, many, clean]))
    assert out["reasons"] == [None, "qa", None]
    parts = out["parts"][0]
    assert [p["kind"] for p in parts] == ["text", "image", "text", "text", "image"]
    assert parts[1]["data"] == b"img" and dict(parts[1]["meta"])["alt"] == "a photo"
    assert "alt" not in dict(parts[4]["meta"]) and parts[4]["data"] == b"img2"
    assert all(not find(p["text"], idx) for p in parts if p["kind"] == "text")
    assert out["signals"][0]["decontamination.cuts"] == 2.0 and out["signals"][0]["decontamination.task.qa"] >= 2
    assert out["signals"][1]["decontamination.cuts"] == 11.0 and out["signals"][2] == {}
    cfg.mode = "drop"
    dropped = DecontaminateProcessor(cfg, idx)(_batch([page, many, clean]))
    assert dropped["reasons"] == ["qa", "qa", None] and "parts" not in dropped


def test_config_validation():
    base = {"inputs": [{"name": "web", "format": "jsonl", "path": "x.jsonl"}]}
    from pipelines.config import ConfigError

    for d, msg in (({"mode": "cut"}, "decontamination.mode must be one of"),
                   ({"ngram": 5, "min_words": 8}, "min_words <= ngram"),
                   ({"sets": [{"name": "a b", "paths": ["x"]}]}, "may only use letters"),
                   ({"sets": [{"name": "a", "paths": []}]}, "paths and fields must not be empty")):
        with pytest.raises(ConfigError, match=msg):
            parse_config(dict(base, decontamination=d))


@pytest.mark.spark
def test_pipeline_common_ngrams_left_alone_cuts_counted_and_without_sets_unchanged(spark, tmp_path):
    from pipelines.run import run_pipeline

    rng = random.Random(3)
    common = "the committee approved the annual budget for the new public library and the city park"
    sets = tmp_path / "sets"
    sets.mkdir()
    with open(sets / "qa.jsonl", "w") as f:
        f.write(json.dumps({"question": TASK, "answer": "Venus"}) + "\n")
        f.write(json.dumps({"question": common + " last year", "answer": "yes"}) + "\n")
        f.write(json.dumps({"question": "Too short", "answer": "no"}) + "\n")
    docs = []
    for i in range(40):
        text = filler(rng, 900)
        if i < 11:
            text = f"{filler(rng, 400)} {common}. {filler(rng, 400)}"
        elif i < 13:
            text = f"{filler(rng, 450)} {TASK}. {filler(rng, 450)}"
        docs.append({"id": f"d{i}", "url": f"https://x.org/{i}", "text": text})
    with open(tmp_path / "docs.jsonl", "w") as f:
        f.writelines(json.dumps(d) + "\n" for d in docs)

    def run(out, **extra):
        cfg = {"run": {"name": "dc", "output": str(tmp_path / out), "progress": False},
               "inputs": [{"name": "web", "format": "jsonl", "path": str(tmp_path / "docs.jsonl")}],
               "langid": {"enabled": False}, "quality": {"enabled": False},
               "dedup": {"near": False, "exact": False}}
        cfg.update(extra)
        return run_pipeline(parse_config(cfg), spark)

    plain = run("plain")
    result = run("dc", decontamination={"sets": [{"name": "qa", "paths": [str(sets / "qa.jsonl")]}]})
    d = result.curation["decontamination"]
    t = d["tasks"]["qa"]
    assert t["texts_too_short"] == 1 and t["ngrams_common"] > 0 and d["common_ngrams"] == t["ngrams_common"]
    assert t["documents_touched"] == 2 and d["documents_touched"] == 2 and d["documents_rejected"] == 0
    assert d["cuts"] == 2 and d["chars_removed"] > 2 * len(TASK) and t["chars_removed"] == d["chars_removed"]
    assert "warning" in d  # 2 of 40 documents is far past 0.1%
    from pipelines.report_html import render
    from pipelines.stats import curation_lines, summarize

    s = summarize(tmp_path / "dc")
    lines = curation_lines(s["curation"])
    assert any(x.startswith("decontamination (remove, 13-grams): 2 of 40 documents touched") for x in lines)
    assert any(x.startswith("  task qa:") for x in lines) and any(x.startswith("WARNING") for x in lines)
    assert "<li class=warn>WARNING" in render(s)
    import pyarrow.parquet as pq

    rows = {r["id"]: r for r in pq.read_table(tmp_path / "dc" / "_work" / "docs").to_pylist()}
    before = {r["id"]: r for r in pq.read_table(tmp_path / "plain" / "_work" / "docs").to_pylist()}
    for i in range(40):
        rid = [k for k, r in rows.items() if r["uri"] == f"https://x.org/{i}"][0]
        texts = [p["text"] for p in rows[rid]["parts"]]
        if 11 <= i < 13:
            assert len(texts) == 2 and not any(TASK.lower()[:40] in x.lower() for x in texts)
        else:  # common text and clean documents: as without decontamination
            assert texts == [p["text"] for p in before[rid]["parts"]]
    assert plain.manifest["totals"]["samples"] == result.manifest["totals"]["samples"] == 40
    assert "decontamination" not in plain.curation
    assert "decontamination" in [s["stage"] for s in result.stages]
    in_spark = run("spark", decontamination={"sets": [{"name": "qa", "paths": [str(sets / "qa.jsonl")]}]},
                   dedup={"near": False, "exact": False, "driver_max_rows": 0})
    assert in_spark.curation["decontamination"]["counted_on"] == "spark" and d["counted_on"] == "driver"
    assert in_spark.curation["decontamination"]["tasks"] == d["tasks"]
    joined = run("join", decontamination={"sets": [{"name": "qa", "paths": [str(sets / "qa.jsonl")]}],
                                          "broadcast_max_ngrams": 5})
    j = joined.curation["decontamination"]
    assert j["looked_up_by"] == "spark join" and d["looked_up_by"] == "broadcast"
    assert j["tasks"] == d["tasks"] and j["ngrams_found"] == d["ngrams_found"] and j["cuts"] == d["cuts"]
    drop = run("drop", decontamination={"mode": "drop", "sets": [{"name": "qa", "paths": [str(sets / "qa.jsonl")]}]})
    assert drop.manifest["totals"]["samples"] == 38
    assert drop.curation["decontamination"]["tasks"]["qa"]["documents_rejected"] == 2


def test_arrow_hashes_round_trip():
    from pipelines.stages.decontaminate import matched_hashes

    idx = build_index({"qa": [TASK]})
    b = _batch([record("a", "s", "u", [text_part(TASK)]), record("b", "s", "u", [text_part("nothing")])])
    got = matched_hashes(b, idx)
    assert got.num_rows == 8 and got.schema == pa.schema([("hash", pa.int64())])


def test_sets_read_from_s3_jsonl_gz_and_parquet(tmp_path):
    """Sets on S3 (moto's server over real HTTP): JSONL, gzipped JSONL and Parquet, list
    fields, a folder prefix."""
    import gzip

    import pyarrow.parquet as pq

    from pipelines.io import s3, storage
    from pipelines.io.storage import StorageOptions
    from pipelines.stages.decontaminate import read_set_texts
    from tests.s3_util import moto_server

    pq.write_table(pa.table({"question": ["What is the capital of France"], "choices": [["Paris", "Rome"]]}),
                   tmp_path / "c.parquet")
    with moto_server() as url:
        opts = StorageOptions(endpoint_url=url)
        s3.client(opts).create_bucket(Bucket="evals")
        storage.write_bytes("s3://evals/mmlu/a.jsonl", b'{"question": "Q one", "answer": "A"}\n\n', opts)
        storage.write_bytes("s3://evals/mmlu/b.jsonl.gz", gzip.compress(b'{"question": "Q two"}\n'), opts)
        storage.write_bytes("s3://evals/mmlu/c.parquet", (tmp_path / "c.parquet").read_bytes(), opts)
        got = read_set_texts(["s3://evals/mmlu/"], ["question", "choices"], opts)
    assert got == ["Q one", "Q two", "What is the capital of France", "Paris", "Rome"]


def test_a_broken_set_file_is_a_one_line_error(tmp_path):
    from pipelines.stages.decontaminate import DecontaminationError, read_set_texts

    (tmp_path / "a.jsonl.gz").write_bytes(b"not gzip")
    (tmp_path / "b.parquet").write_bytes(b"not parquet")
    for name in ("a.jsonl.gz", "b.parquet"):
        with pytest.raises(DecontaminationError, match=name):
            read_set_texts([str(tmp_path / name)], ["question"])
