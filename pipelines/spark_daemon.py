"""PySpark's worker daemon, with the pipeline's modules imported before it forks.

Spark forks a Python worker per concurrent task from one daemon and, on purpose, imports
nothing before forking, so every worker imports pandas, pyarrow and the stage modules again:
about 0.8 s per worker, two dozen workers in the sample run, and half the Python CPU of
that run went to imports (py-spy). Imported here once, they are inherited by every fork.

Spark's reason for importing late is threads started at import (a fork copies only the
forking thread). The two such threads here are OpenBLAS's pool, which is kept from starting
(tasks own one core each, so BLAS threads would only compete), and jemalloc's background
thread in pyarrow, which jemalloc's own fork handlers deal with. Used on local masters,
where the workers run the driver's environment (`run.preload_workers`).
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import zipfile

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

PRELOAD = (
    "numpy", "pyarrow", "pyarrow.compute", "pandas", "pyspark.worker", "pyspark.sql.pandas.serializers",
    "pipelines.ingest", "pipelines.stages.urlfilter", "pipelines.stages.pii", "pipelines.stages.langid",
    "pipelines.stages.quality", "pipelines.stages.video", "pipelines.stages.images", "pipelines.stages.resolve_images",
    "pipelines.stages.tokenize", "pipelines.stages.shard", "pipelines.stages.dedup_exact",
    "pipelines.stages.dedup_near", "pipelines.stages.dedup_images", "pipelines.stages.dedup_video", "pipelines.frames",
    "filters.minhash",
    "vision_prep.decode", "vision_prep.tiling", "vision_prep.video", "vision_prep.hashes", "vision_prep.subtitles",
)


def preload() -> list[str]:
    """Import what the workers will need; a module that fails is left to the worker, where
    its error reaches the task as it would without this daemon."""
    failed = []
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - never stop the daemon over an optional speed-up
            failed.append(name)
    return failed


def drop_jars_without_python() -> list[str]:
    """Spark puts spark-core's jar on the workers' sys.path. It holds no Python, but every
    new worker's `importlib.invalidate_caches()` (pyspark's setup_spark_files) re-reads the
    directories of all zips on the path, this one 10,000 entries long (40-120 ms a worker)."""
    dropped = []
    for entry in [p for p in sys.path if p.endswith(".jar")]:
        try:
            with zipfile.ZipFile(entry) as jar:
                if any(n.endswith((".py", ".pyc")) for n in jar.namelist()):
                    continue
        except (OSError, zipfile.BadZipFile):
            continue
        sys.path.remove(entry)
        sys.path_importer_cache.pop(entry, None)
        dropped.append(entry)
    return dropped


_ZIPPED = re.compile(r"(?:^|/)(pyspark|py4j-(?P<py4j>[0-9.]+)-src)\.zip$")


def zipped_version(entry: str) -> tuple[str, str] | None:
    """(package, version) of the pyspark or py4j source zip Spark puts on the path, or None."""
    m = _ZIPPED.search(entry)
    if not m:
        return None
    if m.group("py4j"):
        return "py4j", m.group("py4j")
    try:
        with zipfile.ZipFile(entry) as z:
            text = z.read("pyspark/version.py").decode()
    except (OSError, KeyError, zipfile.BadZipFile):
        return None
    v = re.search(r"__version__[^=]*=\s*['\"]([^'\"]+)", text)
    return ("pyspark", v.group(1)) if v else None


def use_installed_sources() -> list[str]:
    """Spark puts pyspark.zip and py4j's zip first on the workers' path. Python keeps no
    bytecode for modules imported from a zip, so each daemon compiled pyspark from source
    at start (0.5-0.8 s of the first task's wait, py-spy), and every new worker's
    `invalidate_caches()` re-read both zips' directories. When the environment has the same
    versions installed (pip's pyspark is where the zips come from), the installed copies,
    with their cached bytecode, are used instead; any other version keeps its zip."""
    from importlib import metadata

    dropped = []
    for entry in list(sys.path):
        found = zipped_version(entry)
        if found is None:
            continue
        package, version = found
        try:
            installed = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
        if installed != version:
            continue
        sys.path.remove(entry)
        sys.path_importer_cache.pop(entry, None)
        dropped.append(entry)
    return dropped


if __name__ == "__main__":
    drop_jars_without_python()
    use_installed_sources()
    preload()
    from pyspark.daemon import manager

    manager()
