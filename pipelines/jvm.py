"""Starting the driver's JVM quickly: a class-data-sharing archive and the quick JIT.

A bare Spark session on local[2] burned 13 core-seconds of JVM CPU and 8.6 s of wall time
before its first trivial job finished on the 2-core machine: loading and verifying about
15,000 classes, and the C2 compiler's threads optimising code that runs for seconds. Two
JVM features remove most of it:

- an AppCDS archive (`-XX:SharedArchiveFile`): the classes Spark loads, parsed and verified
  once at set-up (`make setup` runs `python -m pipelines.jvm`) and memory-mapped by every
  later JVM. It is used only when it was made by this java binary for these Spark jars,
  so a changed JDK or pyspark falls back to a normal start instead of a rejected archive;
- C1 only (`-XX:TieredStopAtLevel=1`): the JVM's share of a pipeline is short-lived
  conversion and planning code; C1 compiles it at a fraction of C2's cost.

Together: 3.9 s wall and 4.0 JVM core-seconds for the same trivial job (`run.quick_jvm`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ARCHIVE = "spark-cds.jsa"
KEY = "spark-cds.json"
# Warnings about classes an archive cannot hold (signed jars) or a stale archive would go to
# the JVM's stdout, which is the CLI's stdout (--json).
QUIET_CDS = ("-Xlog:cds=off", "-Xlog:cds+dynamic=off")


def archive_dir() -> Path:
    return Path(sys.prefix) / "share" / "earlyfuse" / "jvm"


def java_binary() -> str | None:
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    return os.path.realpath(java) if java and os.path.exists(java) else None


def archive_key() -> dict | None:
    """What the archive depends on: the java binary and Spark's jars (name, size)."""
    java = java_binary()
    if java is None:
        return None
    import pyspark

    jars_dir = Path(pyspark.__file__).parent / "jars"
    jars = sorted((p.name, p.stat().st_size) for p in jars_dir.glob("*.jar"))
    digest = hashlib.sha256(json.dumps(jars).encode()).hexdigest()[:16]
    return {"java": java, "java_size": os.path.getsize(java), "pyspark": pyspark.__version__,
            "jars": digest}


def usable_archive(folder: Path | None = None) -> Path | None:
    folder = folder or archive_dir()
    archive, key = folder / ARCHIVE, folder / KEY
    try:
        saved = json.loads(key.read_text())
    except (OSError, ValueError):
        return None
    return archive if archive.is_file() and saved == archive_key() else None


def driver_java_options(quick: bool, folder: Path | None = None) -> list[str]:
    if not quick:
        return []
    opts = ["-XX:TieredStopAtLevel=1"]
    archive = usable_archive(folder)
    if archive is not None:
        opts = [f"-XX:SharedArchiveFile={archive}", *QUIET_CDS, *opts]
    return opts


def _warm_up_workload() -> None:
    """What a pipeline run loads: Arrow to Python and back, joins, aggregates, windows,
    Parquet both ways, checkpoints. Run in the JVM that writes the archive at exit."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyspark.sql import SparkSession, Window
    from pyspark.sql import functions as F

    spark = (SparkSession.builder.master("local[2]").appName("earlyfuse-cds")
             .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
             .config("spark.driver.bindAddress", "127.0.0.1")
             .config("spark.driver.extraJavaOptions",
                     f"-XX:ArchiveClassesAtExit={os.environ['EARLYFUSE_CDS_OUT']} "
                     + " ".join(QUIET_CDS))
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")

    def double(batches):
        for b in batches:
            yield pa.RecordBatch.from_arrays([pc.multiply(b.column(0), 2), b.column(1)],
                                             names=["v", "k"])

    df = spark.createDataFrame([(i, f"k{i % 7}", [f"x{i}"]) for i in range(2000)], "v long, k string, a array<string>")
    df = df.mapInArrow(double, "v long, k string").localCheckpoint()
    agg = df.groupBy("k").agg(F.count("*").alias("n"), F.min_by("v", "v").alias("m"))
    ranked = df.withColumn("r", F.row_number().over(Window.partitionBy("k").orderBy("v")))
    with tempfile.TemporaryDirectory() as tmp:
        ranked.join(agg, "k").write.parquet(os.path.join(tmp, "p"))
        back = spark.read.parquet(os.path.join(tmp, "p"))
        back.select(F.explode(F.array("v", "r"))).groupBy().sum().collect()
        back.orderBy("v").limit(3).collect()
    spark.stop()


def build_archive(folder: Path | None = None, quiet: bool = False) -> Path | None:
    """Write the archive (about 150 MB, 15 s) unless a usable one exists."""
    folder = folder or archive_dir()
    if usable_archive(folder) is not None:
        return folder / ARCHIVE
    key = archive_key()
    if key is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (ARCHIVE + ".tmp")
    tmp.unlink(missing_ok=True)
    env = dict(os.environ, EARLYFUSE_CDS_OUT=str(tmp), PYSPARK_PYTHON=sys.executable,
               SPARK_LOCAL_IP="127.0.0.1")
    proc = subprocess.run([sys.executable, "-c", "from pipelines.jvm import _warm_up_workload as w; w()"],
                          env=env, capture_output=True, text=True)
    if proc.returncode != 0 or not tmp.is_file():
        last = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        print(f"earlyfuse: JVM class archive not built (Spark starts without it): {last}", file=sys.stderr)
        tmp.unlink(missing_ok=True)
        return None
    os.replace(tmp, folder / ARCHIVE)
    (folder / KEY).write_text(json.dumps(key, indent=2) + "\n")
    if not quiet:
        print(f"JVM class archive: {folder / ARCHIVE} ({(folder / ARCHIVE).stat().st_size / 1e6:.0f} MB)")
    return folder / ARCHIVE


if __name__ == "__main__":
    build_archive(quiet="-q" in sys.argv)
