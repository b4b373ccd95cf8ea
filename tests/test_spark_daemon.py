"""Workers fork from earlyfuse's daemon on local masters, with the pipeline imported."""

from __future__ import annotations

import sys
import zipfile

import pytest

from pipelines import spark_daemon
from pipelines.config import RunConfig
from pipelines.spark import worker_daemon_conf


def test_daemon_only_on_local_masters_and_when_enabled():
    assert worker_daemon_conf(RunConfig(), "local[2]") == {"spark.python.daemon.module": "pipelines.spark_daemon"}
    assert worker_daemon_conf(RunConfig(), None) == {"spark.python.daemon.module": "pipelines.spark_daemon"}
    assert worker_daemon_conf(RunConfig(), "spark://head:7077") == {}
    assert worker_daemon_conf(RunConfig(preload_workers=False), "local[2]") == {}


def test_every_preloaded_module_imports():
    assert spark_daemon.preload() == []


def test_only_jars_without_python_leave_the_path(tmp_path, monkeypatch):
    plain, with_py = tmp_path / "core.jar", tmp_path / "py.jar"
    with zipfile.ZipFile(plain, "w") as z:
        z.writestr("org/apache/Foo.class", b"\xca\xfe")
    with zipfile.ZipFile(with_py, "w") as z:
        z.writestr("pkg/__init__.py", "")
    monkeypatch.setattr(sys, "path", [str(plain), str(with_py), *sys.path])
    assert spark_daemon.drop_jars_without_python() == [str(plain)]
    assert str(plain) not in sys.path and str(with_py) in sys.path


def _pyspark_zip(path, version):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("pyspark/__init__.py", "")
        z.writestr("pyspark/version.py", f'__version__: str = "{version}"\n')
    return str(path)


def test_source_zips_leave_the_path_only_for_the_installed_versions(tmp_path, monkeypatch):
    from importlib import metadata

    same_dir, other_dir = tmp_path / "same", tmp_path / "other"
    same_dir.mkdir()
    other_dir.mkdir()
    same = _pyspark_zip(same_dir / "pyspark.zip", metadata.version("pyspark"))
    other = _pyspark_zip(other_dir / "pyspark.zip", "0.0.1")
    py4j_same = str(tmp_path / f"py4j-{metadata.version('py4j')}-src.zip")
    py4j_other = str(tmp_path / "py4j-0.0.1-src.zip")
    unrelated = _pyspark_zip(tmp_path / "mypyspark.zip", metadata.version("pyspark"))
    entries = [same, other, py4j_same, py4j_other, unrelated]
    monkeypatch.setattr(sys, "path", [*entries, *sys.path])
    assert spark_daemon.zipped_version(other) == ("pyspark", "0.0.1")
    assert spark_daemon.zipped_version(py4j_other) == ("py4j", "0.0.1")
    assert spark_daemon.zipped_version(unrelated) is None
    assert spark_daemon.use_installed_sources() == [same, py4j_same]
    assert [e for e in entries if e in sys.path] == [other, py4j_other, unrelated]


def test_a_pyspark_zip_without_a_version_stays(tmp_path, monkeypatch):
    broken = tmp_path / "pyspark.zip"
    broken.write_bytes(b"not a zip")
    monkeypatch.setattr(sys, "path", [str(broken), *sys.path])
    assert spark_daemon.use_installed_sources() == []
    assert str(broken) in sys.path


@pytest.mark.spark
def test_workers_are_forked_from_the_preloading_daemon(spark):
    def probe(_):
        import os
        import sys

        with open(f"/proc/{os.getppid()}/cmdline", "rb") as f:
            parent = f.read().replace(b"\0", b" ").decode()
        import pyspark

        yield (parent, [p for p in sys.path if p.endswith(".jar")], "pipelines.stages.quality" in sys.modules,
               pyspark.__file__)

    [(parent, jars, preloaded, pyspark_file)] = spark.sparkContext.parallelize([0], 1).mapPartitions(probe).collect()
    assert "-m pipelines.spark_daemon" in parent
    assert jars == [] and preloaded
    # The installed pyspark (with cached bytecode), not Spark's pyspark.zip.
    assert ".zip" not in pyspark_file
