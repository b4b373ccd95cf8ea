"""The application `earlyfuse submit` hands to spark-submit.

    spark-submit [options] jobs/spark_entry.py CONFIG [--output X] [--no-progress] [--json]

It runs the same pipeline as `earlyfuse run` and prints the same summary (or JSON), with
one difference: spark-submit has already decided the master, deploy mode, driver address
and resources, so none of that comes from the config. `run.master` is ignored, and the
session is built without `pipelines.spark.get_session`'s local-mode settings (loopback
driver address, no web UI), which would break executors on other machines; `earlyfuse
submit` passes the loopback address itself when the master is on this machine.

Exit codes: 0 success; 1 failure; 2 bad config, missing input or unwritable output.
"""

from __future__ import annotations

import os
import sys

# spark-submit puts this script's folder (jobs/) first on sys.path; the project's modules
# must be imported as packages (`jobs.cli`), never as top-level `cli`, `submit`.
if sys.path and os.path.abspath(sys.path[0] or ".") == os.path.dirname(os.path.abspath(__file__)):
    del sys.path[0]

import argparse
import fcntl
import json
import time
import traceback
from pathlib import Path

from jobs.common import EXIT_CONFIG, EXIT_FAILURE, STDERR_ENV, apply_run_options, result_doc
from jobs.common import err as _err


def keep_stderr_apart() -> None:
    """Send this process's stderr to the FIFO `earlyfuse submit` named, if it did.

    spark-submit merges a Python driver's stderr into its stdout; the launcher's FIFO keeps
    progress lines, warnings and errors on the user's stderr, so stdout holds only the
    summary or the JSON. Without the variable (spark-submit run by hand) nothing changes.
    """
    path = os.environ.pop(STDERR_ENV, None)
    if not path:
        return
    deadline = time.monotonic() + 5
    while True:
        try:
            # Non-blocking: fails (ENXIO) instead of hanging when no launcher is reading.
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError:
            if time.monotonic() > deadline:
                return
            time.sleep(0.1)
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    sys.stderr.flush()
    os.dup2(fd, 2)
    os.close(fd)


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="spark_entry.py",
                                 description="earlyfuse pipeline, run by spark-submit")
    ap.add_argument("config", help="TOML config (a basename shipped with --files in cluster mode)")
    ap.add_argument("--output", help="override run.output")
    ap.add_argument("--no-progress", action="store_true")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--fresh", action="store_true",
                    help="ignore the checkpoints of an interrupted run with the same config")
    ap.add_argument("--force", action="store_true", help="take the output's lease from a run that seems alive")
    return ap.parse_args(argv)


def find_config(name: str) -> Path:
    """The config as given: an absolute path in client mode; in cluster mode a basename that
    spark-submit's --files put in the driver's working directory (YARN container,
    Kubernetes driver pod)."""
    path = Path(name)
    if path.is_file() or path.is_absolute():
        return path
    shipped = Path.cwd() / path.name
    return shipped if shipped.is_file() else path


def session_settings(cfg) -> dict[str, str]:
    """Spark properties the pipeline wants, as `pipelines.spark.get_session` sets them for
    local runs, minus master, driver address and web UI (spark-submit's business)."""
    run = cfg.run
    settings = {
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.shuffle.partitions": str(run.shuffle_partitions),
        "spark.sql.execution.arrow.maxRecordsPerBatch": str(run.arrow_batch_size),
        "spark.sql.session.timeZone": "UTC",
        # Inputs live on shared storage, waiting for a "local" slot only idles cores.
        "spark.locality.wait": "0s",
    }
    settings.update(cfg.spark)
    return settings


def submitted_session(cfg):
    """The session under spark-submit: its settings (master, --conf, resources) win over
    the config's [spark] table, which wins over the pipeline's defaults."""
    from pyspark import SparkConf, SparkContext
    from pyspark.sql import SparkSession

    # Attach to the driver JVM spark-submit started first: without a gateway SparkConf()
    # is an empty Python dict, and the config would silently override --conf settings.
    SparkContext._ensure_initialized()
    given = SparkConf()  # what spark-submit passed (the driver JVM's system properties)
    builder = SparkSession.builder
    for key, value in session_settings(cfg).items():
        if not given.contains(key):
            builder = builder.config(key, str(value))
    spark = builder.getOrCreate()
    if not given.contains("spark.log.level"):
        spark.sparkContext.setLogLevel("WARN")
    return spark


def main(argv=None) -> int:
    args = parse_args(argv)
    keep_stderr_apart()
    from pipelines.config import ConfigError, load_config
    from pipelines.io.storage import InputNotFound

    try:
        cfg = load_config(find_config(args.config))
    except ConfigError as e:
        return _err(f"config error: {e}", EXIT_CONFIG)
    apply_run_options(cfg, args)
    # spark-submit's --master decides; the config's run.master is for `earlyfuse run`. The
    # sample's inputs, if the config has them generated, were made by `earlyfuse submit`.
    cfg.run.master = ""

    from pipelines.run import run_pipeline

    spark = submitted_session(cfg)
    sc = spark.sparkContext
    where = {"master": sc.master, "deploy_mode": sc.getConf().get("spark.submit.deployMode", "client"),
             "app_id": sc.applicationId}
    from pipelines.lease import LeaseHeld
    from pipelines.run import RunFailed

    try:
        result = run_pipeline(cfg, spark)
    except LeaseHeld as e:
        return _err(str(e), EXIT_CONFIG)
    except RunFailed as e:
        return _err(str(e), EXIT_FAILURE)
    except InputNotFound as e:
        return _err(f"input error: {e}", EXIT_CONFIG)
    except ConfigError as e:
        return _err(f"config error: {e}", EXIT_CONFIG)
    except OSError as e:  # unwritable, a file where a folder should be, S3 refusing writes
        return _err(f"cannot write output: {e}", EXIT_CONFIG)
    except Exception as e:  # noqa: BLE001 - one line for the user, the trace for the logs
        traceback.print_exc()
        first = (str(e).strip().splitlines() or [""])[0]
        return _err(f"run failed: {type(e).__name__}: {first}", EXIT_FAILURE)
    finally:
        spark.stop()

    if args.json:
        print(json.dumps(result_doc(result, **where), indent=2))
    else:
        from jobs.summary import print_run_summary

        print_run_summary(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
