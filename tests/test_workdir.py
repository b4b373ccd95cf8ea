"""The work folder as a Hadoop URI: file operations through the driver's JVM, a whole run with
`file://` checkpoints and its resume, and a scheme the cluster cannot open."""

from __future__ import annotations

import json

import pytest

from pipelines.config import ConfigError
from pipelines.run import run_pipeline
from pipelines.workdir import WorkDir, WorkDirError, is_uri
from tests.conftest import sample_config

pytestmark = pytest.mark.spark


@pytest.mark.parametrize("as_uri", [False, True])
def test_file_operations_alike_on_a_path_and_through_hadoop(spark, tmp_path, as_uri):
    root = tmp_path / "w"
    wd = WorkDir(root.as_uri() if as_uri else str(root))
    assert wd.uri == as_uri == is_uri(wd.root)
    wd.bind(spark)
    wd.makedirs(wd.root)
    f = wd.path("a", "b.json")
    assert wd.read_bytes(f) is None and not wd.exists(f)
    wd.write_bytes(f, b'{"x": 1}')
    wd.write_bytes(f, b'{"x": 2}')  # replaced whole
    assert wd.read_bytes(f) == b'{"x": 2}' and (root / "a" / "b.json").read_bytes() == b'{"x": 2}'
    wd.write_bytes(wd.path("c", "d.txt"), b"d")
    wd.rename(wd.path("a"), wd.path("c"))  # a folder taking the place of another
    assert wd.read_bytes(wd.path("c", "b.json")) == b'{"x": 2}' and not wd.exists(wd.path("a"))
    wd.copy_to_local(wd.path("c"), str(tmp_path / "copy"))
    assert (tmp_path / "copy" / "b.json").read_bytes() == b'{"x": 2}'
    wd.remove(wd.path("c"))
    assert not (root / "c").exists()
    assert not list(root.glob("*.tmp")) and not list(root.rglob("*.tmp"))


def test_a_run_with_file_uri_checkpoints_resumes_and_matches_local(spark, sample_run, sample_inputs, tmp_path):
    result, _, _ = sample_run
    root, _ = sample_inputs
    work = tmp_path / "work"
    cfg = sample_config(root, tmp_path / "out", run__work_dir=work.as_uri())
    first = run_pipeline(cfg, spark)
    assert [s["sha256"] for s in first.manifest["shards"]] == [s["sha256"] for s in result.manifest["shards"]]
    assert json.loads((work / "run.json").read_text())["output"] == str(tmp_path / "out")
    assert (work / "dedup.json").is_file() and (work / "filtered" / "_SUCCESS").is_file()
    assert not (tmp_path / "out" / "_work").exists()
    # Interrupted after the record phase: the dedup checkpoint and the shards are gone.
    (work / "docs" / "_SUCCESS").unlink()
    for p in (tmp_path / "out" / "shards").glob("*.tar"):
        p.unlink()
    (tmp_path / "out" / "manifest.json").unlink()
    cfg = sample_config(root, tmp_path / "out", run__work_dir=work.as_uri())
    again = run_pipeline(cfg, spark)
    assert "ingest+filter" in again.resumed and "dedup" not in again.resumed
    assert again.manifest["shards"] == first.manifest["shards"]
    assert (tmp_path / "out" / "report" / "dedup_clusters").is_dir()


def test_a_scheme_the_cluster_cannot_open_is_a_config_error_at_the_start(spark, sample_inputs, tmp_path):
    root, _ = sample_inputs
    cfg = sample_config(root, tmp_path / "out", run__work_dir="gs://no-connector-here/work")
    with pytest.raises(WorkDirError, match=r"run.work_dir gs://no-connector-here/work: the cluster cannot use it"):
        run_pipeline(cfg, spark)
    assert issubclass(WorkDirError, ConfigError)  # `earlyfuse run` exits 2 with the one line
    assert not (tmp_path / "out" / "manifest.json").exists() and not (tmp_path / "out" / "shards").exists()
