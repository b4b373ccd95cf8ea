"""Starting Spark the way this project needs it."""

from __future__ import annotations

import os
import shutil
import sys

from pipelines.config import Config
from pipelines.jvm import driver_java_options


class EnvironmentError_(RuntimeError):
    """The machine lacks something Spark needs (Java); the message says what."""


def check_java() -> None:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and os.path.exists(os.path.join(java_home, "bin", "java")):
        return
    if shutil.which("java") is None:
        raise EnvironmentError_(
            "Java not found: Spark 4 needs Java 17 or newer on PATH or in JAVA_HOME "
            "(Debian: apt-get install openjdk-17-jre-headless)"
        )


def worker_daemon_conf(run, master: str | None) -> dict[str, str]:
    """Local masters: Python workers fork from a daemon that imported the pipeline once
    (pipelines/spark_daemon.py). Cluster executors may not have earlyfuse installed, so they keep
    Spark's own daemon."""
    if (run.preload_workers if run else True) and (master or "local").startswith("local"):
        return {"spark.python.daemon.module": "pipelines.spark_daemon"}
    return {}


def get_session(cfg: Config | None = None, master: str | None = None, app_name: str = "earlyfuse"):
    """The active session, or a new one configured from `cfg`.

    Python workers must run this interpreter (the venv's), not whatever `python3` is on
    PATH, and the driver binds to loopback so local runs never depend on the network.
    """
    check_java()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    run = cfg.run if cfg else None
    builder = (
        SparkSession.builder.appName(app_name)
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(run.shuffle_partitions if run else 8))
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(run.arrow_batch_size if run else 512))
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        # Inputs live on shared storage (local disk, S3), so waiting for a "local" slot
        # only idles cores; the 3 s default showed up as idle time on every phase.
        .config("spark.locality.wait", "0s")
    )
    chosen = master or (run.master if run else None)
    if chosen:
        builder = builder.master(chosen)
    for key, value in worker_daemon_conf(run, chosen).items():
        builder = builder.config(key, value)
    user = dict(cfg.spark) if cfg else {}
    java_opts = driver_java_options(run.quick_jvm if run else True)
    if java_opts:
        # Yours come last, so they win where they overlap.
        user["spark.driver.extraJavaOptions"] = " ".join(
            [*java_opts, *filter(None, [user.get("spark.driver.extraJavaOptions")])])
    for key, value in user.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark
