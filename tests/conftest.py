"""Shared fixtures: one local Spark session for all integration tests, one sample run."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def spark():
    from pipelines.spark import get_session

    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = get_session(master="local[2]", app_name="earlyfuse-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def sample_inputs(tmp_path_factory):
    from jobs.sample import generate_sample_inputs

    root = tmp_path_factory.mktemp("sample-inputs")
    truth = generate_sample_inputs(root)
    return root, truth


def sample_config(inputs: Path, output: Path, **overrides):
    """The bundled sample config, pointed at the given folders."""
    from pipelines.config import load_config

    cfg = load_config(ROOT / "configs" / "sample.toml")
    cfg.sample.generate = ""
    for inp in cfg.inputs:
        inp.path = str(inputs / Path(inp.path).relative_to("data/sample"))
    cfg.run.output = str(output)
    cfg.run.progress = False
    for key, value in overrides.items():
        section, _, name = key.partition("__")
        setattr(getattr(cfg, section), name, value)
    return cfg


@pytest.fixture(scope="session")
def sample_run(spark, sample_inputs, tmp_path_factory):
    """The sample pipeline run once; tests read its output and must not modify it. Every
    image and frame of at least 1 KiB goes through a payload file (pipelines/payloads.py), so
    the tests that compare this run with the plain process's, which keeps them inline, show
    that references change nothing."""
    from pipelines.run import run_pipeline

    root, truth = sample_inputs
    out = tmp_path_factory.mktemp("sample-out")
    result = run_pipeline(sample_config(root, out, run__payload_min_bytes=1024), spark)
    return result, truth, root


def run_context(spark):
    """A fresh run context, as a pipeline run gives each stage (results land in its report)."""
    from pipelines.context import RunContext

    return RunContext(spark)


def cluster_rows(clusters) -> list[tuple]:
    """A global stage's clusters (an Arrow table or a DataFrame) as sorted (id, root, survivor)."""
    if clusters is None:
        return []
    if hasattr(clusters, "column"):
        return sorted(zip(*(clusters.column(c).to_pylist() for c in ("id", "root", "survivor"))))
    return sorted(tuple(r) for r in clusters.select("id", "root", "survivor").collect())
