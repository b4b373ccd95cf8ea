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


@pytest.mark.spark
def test_workers_are_forked_from_the_preloading_daemon(spark):
    def probe(_):
        import os
        import sys

        with open(f"/proc/{os.getppid()}/cmdline", "rb") as f:
            parent = f.read().replace(b"\0", b" ").decode()
        yield parent, [p for p in sys.path if p.endswith(".jar")], "pipelines.stages.quality" in sys.modules

    [(parent, jars, preloaded)] = spark.sparkContext.parallelize([0], 1).mapPartitions(probe).collect()
    assert "-m pipelines.spark_daemon" in parent
    assert jars == [] and preloaded
