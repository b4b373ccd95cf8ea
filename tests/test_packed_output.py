"""Packed shards of the bundled sample, read as trainers read them: webdataset and Hugging
Face `datasets` (streaming and not), position ids from `cu_seqlens`, every document's
tokens and tiles against the per-document layout of the same run."""

import glob
import io
import json
from pathlib import Path

import numpy as np
import pytest
import webdataset as wds

from jobs.cli import main as cli_main
from pipelines.run import run_pipeline
from tests.conftest import sample_config

pytestmark = pytest.mark.e2e
SEQ_LEN = 1000  # below the sample's largest image blocks (1,017 tokens) and longest documents


def _shards(out) -> list[str]:
    return sorted(glob.glob(str(Path(out) / "shards" / "*.tar")))


def _samples(out) -> list[dict]:
    return list(wds.WebDataset(_shards(out), shardshuffle=False).decode())


@pytest.fixture(scope="module")
def reference(sample_run):
    """The per-document layout's samples, by document id."""
    result, _, _ = sample_run
    return {s["json"]["id"]: s for s in _samples(result.output)}


@pytest.fixture(scope="module")
def packed(spark, sample_inputs, tmp_path_factory):
    root, _ = sample_inputs
    out = tmp_path_factory.mktemp("packed")
    cfg = sample_config(root, out, shards__layout="packed", shards__seq_len=SEQ_LEN, shards__max_samples=8)
    return run_pipeline(cfg, spark)


def _position_ids(cu: np.ndarray, seq_len: int) -> np.ndarray:
    """What a trainer builds: positions restarting at every boundary, padding at -1."""
    pos = np.full(seq_len, -1, dtype=np.int64)
    for a, b in zip(cu[:-1], cu[1:]):
        pos[a:b] = np.arange(b - a)
    return pos


def test_every_document_is_in_the_sequences_once_with_its_tokens_and_tiles(packed, reference):
    special = packed.manifest["tokenizer"]["special_ids"]
    pad = packed.manifest["tokenizer"]["pad_id"]
    covered = {}
    for s in _samples(packed.output):
        tokens, cu, tiles, meta = s["tokens.npy"], s["cu_seqlens.npy"], s["tiles.npy"], s["json"]
        assert tokens.dtype == np.uint32 and tokens.shape == (SEQ_LEN,) and cu.dtype == np.int32
        assert cu[0] == 0 and cu[-1] == meta["n_tokens"] == SEQ_LEN - meta["padding"]
        assert (tokens[cu[-1]:] == pad).all()
        pos = _position_ids(cu, SEQ_LEN)
        n_tiles = 0
        for d in meta["documents"]:
            ref = reference[d["id"]]
            a = d["offset"]
            assert cu[d["segment"]] == a and cu[d["segment"] + 1] == a + d["length"]  # one document a segment
            np.testing.assert_array_equal(tokens[a:a + d["length"]],
                                          ref["tokens.npy"][d["start"]:d["start"] + d["length"]])
            assert pos[a] == 0 and pos[a + d["length"] - 1] == d["length"] - 1
            covered.setdefault(d["id"], []).append((d["start"], d["length"]))
            ref_images = {m["token_offset"]: (m, sum(x["n_tiles"] for x in ref["json"]["images"]
                                                     if x["token_offset"] < m["token_offset"]))
                          for m in ref["json"]["images"]}
            for m in d["images"]:
                o = m["token_offset"]
                assert tokens[o] == special["<|image_start|>"]
                assert tokens[o + m["n_tokens"] - 1] == special["<|image_end|>"]
                assert a <= o and o + m["n_tokens"] <= a + d["length"]  # an image block is never split
                assert m["tile_offset"] == n_tiles
                ref_m, ref_tile = ref_images[o - a + d["start"]]
                np.testing.assert_array_equal(tiles[n_tiles:n_tiles + m["n_tiles"]],
                                              ref["tiles.npy"][ref_tile:ref_tile + ref_m["n_tiles"]])
                n_tiles += m["n_tiles"]
        assert tiles.shape == (n_tiles, 3, 336, 336)
    too_long = {k for k, r in reference.items() if any(m["n_tokens"] > SEQ_LEN for m in r["json"]["images"])}
    assert too_long and set(covered) == set(reference) - too_long
    assert sum(len(v) > 1 for v in covered.values()) > 0  # some documents were cut into pieces
    for doc_id, parts in covered.items():
        parts.sort()
        assert [p[0] for p in parts] == list(np.cumsum([0] + [p[1] for p in parts[:-1]]))
        assert sum(p[1] for p in parts) == len(reference[doc_id]["tokens.npy"])
    p = packed.manifest["packing"]
    assert p["dropped"] == {"packing:image_longer_than_seq_len": len(too_long)}
    assert p["documents"] == len(covered) and p["documents_in"] == len(reference)
    assert p["tokens"] + p["padding"] == p["sequences"] * SEQ_LEN and p["efficiency"] > 0.8
    assert all(0 < s["efficiency"] <= 1 for s in packed.manifest["shards"])


def _hf(files, streaming: bool, cache: Path, features=None):
    import datasets

    return datasets.load_dataset("webdataset", data_files={"train": files}, split="train", streaming=streaming,
                                 cache_dir=str(cache), features=features)


@pytest.mark.parametrize("layout", ["document", "packed"])
def test_hugging_face_datasets_reads_both_layouts_streaming_and_not(layout, sample_run, packed, tmp_path,
                                                                    monkeypatch):
    """The same members in every sample and JSON types that do not depend on the document:
    `datasets` loads the shards as a new user would, and what it returns is what webdataset
    returns; `features.json` gives the same schema without inference."""
    import datasets

    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    out = sample_run[0].output if layout == "document" else packed.output
    files = _shards(out)
    expect = {s["__key__"]: s for s in _samples(out)}
    declared = datasets.Features.from_dict(json.loads((Path(out) / "features.json").read_text()))
    for streaming in (True, False):
        ds = _hf(files, streaming, tmp_path / f"cache-{streaming}")
        assert ds.features == declared
        rows = 0
        for row in ds:
            ref = expect[row["__key__"]]
            assert row["json"] == ref["json"]
            np.testing.assert_array_equal(np.asarray(row["tokens.npy"], dtype=np.uint32), ref["tokens.npy"])
            assert np.asarray(row["tiles.npy"], dtype=np.uint8).reshape(-1, 3, 336, 336).shape == ref["tiles.npy"].shape
            if layout == "packed":
                np.testing.assert_array_equal(_position_ids(np.asarray(row["cu_seqlens.npy"]), SEQ_LEN),
                                              _position_ids(ref["cu_seqlens.npy"], SEQ_LEN))
            rows += 1
        assert rows == len(expect)
    # Declared, the schema needs no sample: the last shard alone (its first samples need not show every type).
    ds = _hf(files[-1:], False, tmp_path / "declared", features=declared)
    assert len(ds) == sum(1 for k, s in expect.items() if s["__url__"] == files[-1])


def test_every_per_document_sample_has_the_same_members(sample_run):
    result, _, _ = sample_run
    members, text_only = set(), None
    import tarfile

    for path in _shards(result.output):
        with tarfile.open(path) as tar:
            by_key = {}
            for m in tar:
                key, _, ext = m.name.partition(".")
                by_key.setdefault(key, {})[ext] = m
            for exts in by_key.values():
                members.add(tuple(sorted(exts)))
                if text_only is None and not json.loads(tar.extractfile(exts["json"]).read())["images"]:
                    text_only = (np.load(io.BytesIO(tar.extractfile(exts["tiles.npy"]).read())), exts["tiles.npy"])
    assert members == {("json", "tiles.npy", "tokens.npy")}
    arr, info = text_only
    assert arr.shape == (0, 3, 336, 336) and info.size == 128  # a 512-byte header and one 512-byte block


def test_stats_show_and_verify_understand_packed_shards(packed, capsys):
    out = packed.output
    assert cli_main(["stats", out, "--verify", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["verify"]["ok"] and s["verify"]["samples"] == packed.manifest["packing"]["sequences"]
    p = s["packing"]
    assert p["scanned"] == {k: packed.manifest["packing"][k] for k in ("sequences", "documents", "pieces", "padding")}
    assert p["scanned"]["pieces"] > p["scanned"]["documents"]
    assert s["totals"]["documents"] == p["documents"] == sum(r["documents"] for r in s["languages"])
    piece = next(d for x in _samples(out) for d in x["json"]["documents"] if d["pieces"] > 1)
    assert cli_main(["show", out, "--key", piece["id"]]) == 0
    shown = capsys.readouterr().out
    assert f"sequence of {SEQ_LEN:,} tokens" in shown and piece["id"] in shown and "piece " in shown
    assert cli_main(["stats", out]) == 0
    assert "efficiency" in capsys.readouterr().out
    html = Path(out).parent / "stats.html"
    assert cli_main(["stats", out, "--html", str(html)]) == 0
    page = html.read_text()
    assert "<h2>Packing</h2>" in page and 'alt="packing efficiency"' in page


def test_verify_finds_a_boundary_that_does_not_add_up(packed, tmp_path):
    import tarfile

    from pipelines.verify import _check_sample

    with tarfile.open(_shards(packed.output)[0]) as tar:
        first = tar.getnames()[0].split(".")[0]
        members = {m.name.partition(".")[2]: tar.extractfile(m).read() for m in tar if m.name.startswith(first + ".")}
    key = first
    assert _check_sample(key, members, 10**6, 336, packed.manifest["tokenizer"]) == []
    cu = np.load(io.BytesIO(members["cu_seqlens.npy"]))
    cu[-1] -= 1
    buf = io.BytesIO()
    np.save(buf, cu)
    problems = _check_sample(key, dict(members, **{"cu_seqlens.npy": buf.getvalue()}), 10**6, 336,
                             packed.manifest["tokenizer"])
    assert any("boundaries end at" in p for p in problems)


def test_packed_rerun_gives_identical_shards(spark, sample_inputs, packed, tmp_path):
    root, _ = sample_inputs
    cfg = sample_config(root, tmp_path / "again", shards__layout="packed", shards__seq_len=SEQ_LEN,
                        shards__max_samples=8)
    again = run_pipeline(cfg, spark)
    assert [(s["name"], s["sha256"]) for s in again.manifest["shards"]] == \
        [(s["name"], s["sha256"]) for s in packed.manifest["shards"]]


def test_long_context_joins_a_sources_documents_and_drops_the_short(spark, sample_inputs, reference, tmp_path):
    """seq_len 2^20: each source's documents joined in id order (one segment each), sources
    with fewer than 5,000 tokens in all not written, and a task holds one sequence at a time."""
    root, _ = sample_inputs
    seq_len = 1 << 20
    cfg = sample_config(root, tmp_path / "long", shards__layout="packed", shards__seq_len=seq_len,
                        long_context__min_tokens=5000, long_context__group_by="source")
    result = run_pipeline(cfg, spark)
    by_source = {}
    for doc_id, r in sorted(reference.items()):
        by_source.setdefault(r["json"]["source"], []).append(doc_id)
    short = {src for src, ids in by_source.items() if sum(len(reference[i]["tokens.npy"]) for i in ids) < 5000}
    assert short and len(short) < len(by_source)
    seen = {}
    for s in _samples(result.output):
        assert s["tokens.npy"].shape == (seq_len,)
        for seg in range(len(s["cu_seqlens.npy"]) - 1):
            docs = [d for d in s["json"]["documents"] if d["segment"] == seg]
            sources = {d["source"] for d in docs}
            assert len(sources) == 1
            seen[sources.pop()] = [d["id"] for d in docs]
    assert seen == {src: ids for src, ids in by_source.items() if src not in short}
    p = result.manifest["packing"]
    assert p["dropped"] == {"long_context:too_short": sum(len(by_source[s]) for s in short)}
    assert p["long_context"] == {"min_tokens": 5000, "group_by": "source", "concat_tokens": seq_len}


def test_packed_tasks_failing_once_are_retried_to_the_same_shards(sample_inputs, packed, tmp_path):
    """Through the CLI in a fresh JVM, a shard task and a commit failing once each: the
    retried partitions give the same sequences, byte for byte."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    root, _ = sample_inputs
    text = (ROOT / "configs" / "sample.toml").read_text()
    text = text.replace('generate = "data/sample"', 'generate = ""').replace("data/sample", str(root))
    text = text.replace("max_samples = 32\n", f'max_samples = 8\nlayout = "packed"\nseq_len = {SEQ_LEN}\n')
    cfg = tmp_path / "packed.toml"
    cfg.write_text(text)
    faults = tmp_path / "faults"
    proc = subprocess.run([sys.executable, "-m", "jobs.cli", "run", str(cfg), "--output", str(tmp_path / "out"),
                           "--master", "local[2,3]", "--no-progress"], cwd=ROOT, capture_output=True, text=True,
                          timeout=900, env={**os.environ, "EARLYFUSE_FAIL_ONCE": "shard,shard_commit",
                                            "EARLYFUSE_FAULT_DIR": str(faults)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert sorted(p.name for p in faults.iterdir()) == ["failed-shard", "failed-shard_commit"]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert [(s["name"], s["sha256"]) for s in manifest["shards"]] == \
        [(s["name"], s["sha256"]) for s in packed.manifest["shards"]]
    assert manifest["packing"] == packed.manifest["packing"]


def test_a_mixtures_copies_are_packed_and_accounted(spark, sample_inputs, tmp_path, monkeypatch):
    """Packed with a mixture: every planned copy is written (documents = the plan's samples),
    each piece names the document it repeats, and the schema with copies loads in `datasets`."""
    import datasets

    root, _ = sample_inputs
    cfg = sample_config(root, tmp_path / "mix", shards__layout="packed", shards__seq_len=4096,
                        mixture__method="temperature", mixture__alpha=0.5, mixture__max_epochs=3.0)
    result = run_pipeline(cfg, spark)
    mix, p = result.manifest["mixture"], result.manifest["packing"]
    assert p["documents"] == p["documents_in"] == mix["written_samples"] and not p["dropped"]
    assert p["tokens"] == mix["written_tokens"]
    pieces = [d for s in _samples(result.output) for d in s["json"]["documents"]]
    assert {d["id"] for d in pieces if d["start"] == 0} == {
        d["doc_id"] if d["copy"] == 0 else f"{d['doc_id']}_r{d['copy']}" for d in pieces}
    assert max(d["copy"] for d in pieces) >= 1
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    features = datasets.Features.from_dict(json.loads((Path(result.output) / "features.json").read_text()))
    ds = _hf(_shards(result.output), False, tmp_path / "cache", features=features)
    assert len(ds) == p["sequences"]
    assert [d["copy"] for d in ds[0]["json"]["documents"]] == [
        d["copy"] for d in _samples(result.output)[0]["json"]["documents"]]
