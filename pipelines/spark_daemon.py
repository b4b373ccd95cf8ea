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

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

PRELOAD = (
    "numpy", "pyarrow", "pyarrow.compute", "pandas", "pyspark.worker", "pyspark.sql.pandas.serializers",
    "pipelines.ingest", "pipelines.stages.urlfilter", "pipelines.stages.pii", "pipelines.stages.langid",
    "pipelines.stages.quality", "pipelines.stages.video", "pipelines.stages.images",
    "pipelines.stages.tokenize", "pipelines.stages.shard", "pipelines.stages.dedup_near",
    "pipelines.stages.dedup_images", "pipelines.stages.dedup_video", "filters.minhash",
    "vision_prep.decode", "vision_prep.tiling", "vision_prep.video", "vision_prep.phash",
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
    import sys
    import zipfile

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


if __name__ == "__main__":
    drop_jars_without_python()
    preload()
    from pyspark.daemon import manager

    manager()
