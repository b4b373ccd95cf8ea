"""Fault tolerance and resume: a task that fails once, a run killed midway.

Both run the bundled sample through the CLI in a fresh JVM (the environment variables that
inject faults must reach its Python workers) and compare with the in-process sample run:
same shard names and sha256s, so nothing was lost or written twice.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.spark


def sample_config_file(root: Path, path: Path) -> Path:
    text = (ROOT / "configs" / "sample.toml").read_text()
    path.write_text(text.replace('generate = "data/sample"', 'generate = ""').replace("data/sample", str(root)))
    return path


def shard_table(manifest: dict) -> list[tuple[str, str, int]]:
    return [(s["name"], s["sha256"], s["samples"]) for s in manifest["shards"]]


def cli(args, env=None, **kw):
    return subprocess.Popen([sys.executable, "-m", "jobs.cli", "run", *args, "--no-progress"], cwd=ROOT,
                            env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, **kw)


def test_tasks_failing_once_are_retried_to_the_same_output(sample_run, tmp_path):
    result, _, root = sample_run
    cfg = sample_config_file(root, tmp_path / "sample.toml")
    faults = tmp_path / "faults"
    # local[2,3]: two cores, a task may fail up to 3 times (local mode's default is 1).
    proc = cli([str(cfg), "--output", str(tmp_path / "out"), "--master", "local[2,3]"],
               env={"EARLYFUSE_FAIL_ONCE": "ingest,dedup,shard,shard_commit",
                    "EARLYFUSE_FAULT_DIR": str(faults)})
    _, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err[-3000:]
    assert sorted(p.name for p in faults.iterdir()) == ["failed-dedup", "failed-ingest", "failed-shard",
                                                        "failed-shard_commit"]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert shard_table(manifest) == shard_table(result.manifest)
    assert manifest["totals"] == result.manifest["totals"]


def test_killed_run_resumes_from_checkpoints(sample_run, tmp_path):
    result, _, root = sample_run
    cfg = sample_config_file(root, tmp_path / "sample.toml")
    out = tmp_path / "out"
    proc = cli([str(cfg), "--output", str(out), "--master", "local[2]"])
    deadline = time.monotonic() + 600
    # Kill the driver (and its JVM and workers: the whole process group) once the
    # filtered checkpoint is committed, while later phases are running.
    while not (out / "_work" / "filtered" / "_SUCCESS").exists():
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.monotonic() < deadline
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert not (out / "manifest.json").exists()

    proc = cli([str(cfg), "--output", str(out), "--master", "local[2]", "--json"])
    stdout, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err[-3000:]
    second = json.loads(stdout)
    assert "ingest+filter" in second["resumed"] and "ingest+filter" not in second["timings_s"]
    # The killed run's lease was left behind; its process is gone, so the rerun took it over.
    assert any("took over the lease" in n and "its process is gone" in n for n in second["notes"]), second["notes"]
    assert "took over the lease" in err
    manifest = json.loads((out / "manifest.json").read_text())
    assert shard_table(manifest) == shard_table(result.manifest)
    report = json.loads((out / "report" / "stages.json").read_text())
    assert report["stages"] == result.stages
    # Less work than a full run: the ingest+filter phase was not repeated (timings are for
    # people, not asserted; the README's resume section shows measured ones).
    assert set(second["timings_s"]) == {"dedup", "report", "tokenize+shard", "total"}


def test_other_config_or_fresh_starts_over(sample_run, tmp_path):
    from pipelines.output import Output, fingerprint
    from tests.conftest import sample_config

    _, _, root = sample_run
    cfg = sample_config(root, tmp_path / "o")
    out = Output(cfg)
    assert out.prepare(fingerprint(cfg, "v1"), resume=True) is False  # nothing to resume
    (Path(out.work_path("filtered"))).mkdir()
    (Path(out.work_path("filtered")) / "_SUCCESS").write_text("")
    assert out.prepare(fingerprint(cfg, "v1"), resume=True) is True
    assert out.checkpoint_done("filtered")
    cfg.quality.gq_min_doc_words = 10  # another config: the checkpoint is not reused
    assert out.prepare(fingerprint(cfg, "v1"), resume=True) is False
    assert not out.checkpoint_done("filtered")
    cfg.run.master = "local[1]"  # how it runs is not what it produces
    assert out.prepare(fingerprint(cfg, "v1"), resume=True) is True
    assert out.prepare(fingerprint(cfg, "v1"), resume=False) is False


def test_a_new_mixture_keeps_the_checkpoints_and_rewrites_the_shards(sample_run, tmp_path):
    from pipelines.config import MixtureConfig
    from pipelines.output import Output, fingerprint
    from tests.conftest import sample_config

    _, _, root = sample_run
    cfg = sample_config(root, tmp_path / "o")
    out = Output(cfg)

    def prepare():
        return out.prepare(fingerprint(cfg, "v1"), True, fingerprint(cfg, "v1", upstream=True))

    assert prepare() is False
    for name in ("filtered", "tokens"):
        Path(out.work_path(name)).mkdir()
        (Path(out.work_path(name)) / "_SUCCESS").write_text("")
    shard = Path(out.path("shards")) / "x.tar"
    shard.parent.mkdir()
    shard.write_bytes(b"x")
    cfg.mixture = MixtureConfig(method="temperature", alpha=0.5)
    assert prepare() is False  # the shards are not this config's
    assert out.checkpoint_done("filtered") and out.checkpoint_done("tokens") and not shard.exists()
    cfg.tokenizer.part_separator = "\n"  # upstream of the checkpoints: everything goes
    assert prepare() is False
    assert not out.checkpoint_done("filtered") and not out.checkpoint_done("tokens")
