"""`earlyfuse stats --verify` on a real sample output, intact and damaged three ways."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.verify import verify_output
from tests.conftest import ROOT

pytestmark = pytest.mark.spark


@pytest.fixture
def output_copy(sample_run, tmp_path):
    result, _, _ = sample_run
    dst = tmp_path / "out"
    shutil.copytree(result.output, dst, ignore=shutil.ignore_patterns("_work"))
    return dst


def biggest_shard(out: Path) -> dict:
    return max(json.loads((out / "manifest.json").read_text())["shards"], key=lambda s: s["bytes"])


def test_intact_output_verifies(output_copy):
    v = verify_output(str(output_copy))
    m = json.loads((output_copy / "manifest.json").read_text())
    assert v["ok"] and v["shards"] == len(m["shards"]) and v["samples"] == m["totals"]["samples"]


def test_corrupted_byte_is_caught(output_copy):
    shard = biggest_shard(output_copy)
    path = output_copy / "shards" / shard["name"]
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    v = verify_output(str(output_copy))
    assert not v["ok"] and [f["shard"] for f in v["failures"]] == [shard["name"]]
    assert "sha256 differs from the manifest" in v["failures"][0]["problems"]


def test_truncated_shard_is_caught(output_copy):
    shard = biggest_shard(output_copy)
    path = output_copy / "shards" / shard["name"]
    path.write_bytes(path.read_bytes()[: shard["bytes"] // 3])
    (failure,) = verify_output(str(output_copy))["failures"]
    assert any("truncated or corrupt" in p for p in failure["problems"])
    assert any("bytes, manifest says" in p for p in failure["problems"])


def test_manifest_mismatch_and_cli_exit_code(output_copy):
    m = json.loads((output_copy / "manifest.json").read_text())
    m["shards"][0]["samples"] += 1
    m["shards"][-1]["sha256"] = "0" * 64
    (output_copy / "manifest.json").write_text(json.dumps(m))
    proc = subprocess.run([sys.executable, "-m", "jobs.cli", "stats", str(output_copy), "--verify"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 1
    assert f"{m['shards'][0]['name']}: " in proc.stderr and "samples, manifest says" in proc.stderr
    assert f"{m['shards'][-1]['name']}: sha256 differs from the manifest" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "jobs.cli", "stats", str(output_copy), "--verify", "--json"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 1 and json.loads(proc.stdout)["verify"]["failed_shards"] == 2


def test_token_id_beyond_vocabulary_is_caught(output_copy):
    m = json.loads((output_copy / "manifest.json").read_text())
    m["tokenizer"]["vocab_size"] = 1000  # every real document has ids above this
    (output_copy / "manifest.json").write_text(json.dumps(m))
    v = verify_output(str(output_copy))
    assert v["failed_shards"] == len(m["shards"])
    assert any(">= vocabulary size 1000" in p for f in v["failures"] for p in f["problems"])
