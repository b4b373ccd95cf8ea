"""`earlyfuse submit`: the pipeline job on a cluster, through spark-submit.

The launcher loads the config (so a bad config fails here, with exit code 2, before
anything starts), zips the project's packages into a deterministic archive for
`--py-files`, optionally packs the virtualenv with venv-pack for `--archives`, builds the
spark-submit command, prints it (one shell-quoted line on stderr), runs it with its output
streamed, and returns its exit code. The application spark-submit runs is
`jobs/spark_entry.py`.

spark-submit is the one inside the installed `pyspark` package (SPARK_HOME is that
folder), so the cluster client always matches the pyspark the job was written against.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from jobs.common import EXIT_CONFIG, EXIT_ENV, SAMPLE_CONFIG, STDERR_ENV, err, prepare_sample
from jobs.packaging import (
    KEEP_ENV_ARCHIVES,
    PackagingError,
    build_code_zip,
    current_venv,
    default_staging_dir,
    env_archive_path,
    pack_env,
    prune,
)

ENTRY = Path(__file__).resolve().parent / "spark_entry.py"
ENV_ALIAS = "environment"
# Spark's default spark.redaction.regex (plus ACCESS_KEY, credential): such --conf values
# are never printed.
SECRET_KEY = re.compile(r"(?i)secret|password|token|credential|access[._]?key")
REDACTED = "*********(redacted)"
# The Python of docker/Dockerfile's image (python:3.11-slim installs it there).
K8S_IMAGE_PYTHON = "/usr/local/bin/python3"
DEPLOY_MODES = ("client", "cluster")
DESCRIPTION = ("Run a pipeline on a Spark cluster (standalone, YARN, Kubernetes) through spark-submit, "
               "shipping the code and, with --pack-env, this virtualenv.")


class SubmitError(RuntimeError):
    """Something the user fixes (options, missing tool); `code` is the exit code."""

    def __init__(self, msg: str, code: int = EXIT_CONFIG):
        super().__init__(msg)
        self.code = code


def _err(msg: str, code: int) -> int:
    return err(msg, code, prog="earlyfuse submit")


# --------------------------------------------------------------------------- Spark paths


def spark_home() -> Path:
    """The installed pyspark package folder: its bin/ has spark-submit and spark-class."""
    spec = importlib.util.find_spec("pyspark")
    if spec is None or not spec.submodule_search_locations:
        raise SubmitError("pyspark is not installed in this environment", EXIT_ENV)
    return Path(list(spec.submodule_search_locations)[0])


def spark_submit_path() -> Path:
    path = spark_home() / "bin" / "spark-submit"
    if not path.is_file():
        raise SubmitError(f"{path} not found: the pyspark package looks incomplete", EXIT_ENV)
    return path


def is_loopback_master(master: str) -> bool:
    """local[*] or a standalone master on this machine's loopback address."""
    if master == "local" or master.startswith("local["):
        return True
    if master.startswith("spark://"):
        hosts = [urlparse("spark://" + h).hostname for h in master[len("spark://"):].split(",")]
        return all(h in ("127.0.0.1", "localhost") for h in hosts)
    return False


def _has_scheme(path: str) -> bool:
    """s3://, hdfs://, local://, ... (but not a Windows drive letter)."""
    scheme = urlparse(path).scheme
    return len(scheme) > 1


# --------------------------------------------------------------------------- the command


@dataclass
class Plan:
    """What `earlyfuse submit` runs: the argv, its environment additions, what it ships."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    code_zip: Path | None = None
    env_archive: Path | None = None
    config: Path | None = None

    def command_line(self, redact: bool = True) -> str:
        """One shell-quoted line that runs exactly this (environment assignments first);
        values of secret-looking --conf keys are shown as *********(redacted), as Spark does."""
        argv = list(self.argv)
        if redact:
            for i in range(1, len(argv)):
                if argv[i - 1] == "--conf":
                    key, _, _ = argv[i].partition("=")
                    if SECRET_KEY.search(key):
                        argv[i] = f"{key}={REDACTED}"
        return " ".join([f"{k}={shlex.quote(v)}" for k, v in self.env.items()] + [shlex.join(argv)])


def parse_conf(items: list[str] | None) -> dict[str, str]:
    confs = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SubmitError(f"--conf expects KEY=VALUE, got {item!r}")
        confs[key.strip()] = value
    return confs


def validate(args) -> None:
    master, mode = args.master, args.deploy_mode
    if mode == "cluster":
        if master.startswith("local"):
            raise SubmitError(f"--deploy-mode cluster is not possible with master {master}")
        if master.startswith("spark://"):
            raise SubmitError("Spark standalone clusters do not run Python applications in cluster "
                              "deploy mode; use --deploy-mode client (the default)")
    if args.pack_python_prefix and not args.pack_env:
        raise SubmitError("--pack-python-prefix only applies with --pack-env")
    if args.pack_python_prefix and not os.path.isabs(args.pack_python_prefix):
        raise SubmitError("--pack-python-prefix must be an absolute path (e.g. /usr/local)")
    parse_conf(args.conf)  # before anything is zipped or packed


def build_plan(args, run_name: str, config_path: Path, code_zip: Path,
               env_archive: Path | None) -> Plan:
    """The spark-submit argv for these options; pure apart from locating spark-submit."""
    master, mode = args.master, args.deploy_mode
    cluster = mode == "cluster"
    argv = [str(spark_submit_path()), "--master", master, "--deploy-mode", mode,
            "--name", f"earlyfuse-{run_name}"]
    for opt in ("driver_memory", "executor_memory", "executor_cores", "num_executors",
                "total_executor_cores"):
        value = getattr(args, opt)
        if value is not None:
            argv += ["--" + opt.replace("_", "-"), str(value)]

    conf: dict[str, str] = {}
    env: dict[str, str] = {"SPARK_HOME": str(spark_home())}
    # The driver imports the code from the zip, where there is no git checkout to ask.
    from pipelines.manifest import code_version

    env["EARLYFUSE_CODE_VERSION"] = code_version()
    if is_loopback_master(master):
        # Driver, master and executors all on this machine: never depend on its network.
        conf["spark.driver.host"] = "127.0.0.1"
        conf["spark.driver.bindAddress"] = "127.0.0.1"
        env["SPARK_LOCAL_IP"] = "127.0.0.1"
    # The executors' Python (and a cluster-mode driver's): with --pack-env the unpacked
    # archive's, as in Spark's Python package management guide; on Kubernetes the image's;
    # elsewhere this interpreter's path (the nodes share or mirror this install).
    if env_archive is not None:
        conf["spark.pyspark.python"] = f"./{ENV_ALIAS}/bin/python"
    elif args.python:
        conf["spark.pyspark.python"] = args.python
    elif master.startswith("k8s://"):
        conf["spark.pyspark.python"] = K8S_IMAGE_PYTHON
    else:
        conf["spark.pyspark.python"] = sys.executable
    if not cluster:
        # A client-mode driver runs here, in this environment, whatever the executors run.
        conf["spark.pyspark.driver.python"] = sys.executable
    # Spark's INFO lines would bury the progress and the summary; --conf spark.log.level=INFO
    # brings them back.
    conf["spark.log.level"] = "WARN"
    conf.update(parse_conf(args.conf))  # the user's --conf wins over ours
    for key, value in conf.items():
        argv += ["--conf", f"{key}={value}"]

    argv += ["--py-files", str(code_zip)]
    if env_archive is not None:
        argv += ["--archives", f"{env_archive}#{ENV_ALIAS}"]
    if cluster:
        argv += ["--files", str(config_path)]
    argv.append(str(ENTRY))
    argv.append(config_path.name if cluster else str(config_path))
    if args.output:
        out = args.output
        if not cluster and not _has_scheme(out):
            out = str(Path(out).expanduser().resolve())
        argv += ["--output", out]
    if args.no_progress:
        argv.append("--no-progress")
    if args.json:
        argv.append("--json")
    if args.fresh:
        argv.append("--fresh")
    if getattr(args, "force", False):
        argv.append("--force")
    return Plan(argv, env, code_zip, env_archive, config_path)


class StderrRelay:
    """Keeps a client-mode driver's stderr on our stderr.

    spark-submit's PythonRunner merges the Python driver's stderr into its stdout, which
    would put progress lines and errors into `earlyfuse submit --json > result.json`. The
    driver (jobs/spark_entry.py) finds this FIFO's path in STDERR_ENV and moves its stderr
    there; a thread copies it to ours.
    """

    def __init__(self):
        self._dir = tempfile.mkdtemp(prefix="earlyfuse-submit-")
        self.path = os.path.join(self._dir, "driver-stderr")
        os.mkfifo(self.path, 0o600)
        self._thread = threading.Thread(target=self._pump, name="driver-stderr", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        out = getattr(sys.stderr, "buffer", None)
        # Blocks until the driver opens the FIFO (or close() does, if it never will).
        with open(self.path, "rb", buffering=0) as fifo:
            while chunk := fifo.read(65536):
                if out is not None:
                    out.write(chunk)
                    out.flush()
                else:
                    sys.stderr.write(chunk.decode("utf-8", "replace"))
                    sys.stderr.flush()

    def close(self) -> None:
        try:  # wake a reader still waiting for a writer
            os.close(os.open(self.path, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
        self._thread.join(timeout=10)
        shutil.rmtree(self._dir, ignore_errors=True)


def run_plan(plan: Plan, relay_stderr: bool = False) -> int:
    """Run spark-submit with its output streamed to ours; its exit code. With relay_stderr
    (client mode) the driver's stderr stays on stderr and only its stdout reaches stdout."""
    env = dict(os.environ, **plan.env)
    relay = StderrRelay() if relay_stderr else None
    if relay is not None:
        env[STDERR_ENV] = relay.path
    try:
        proc = subprocess.Popen(plan.argv, env=env)
        try:
            return proc.wait()
        except KeyboardInterrupt:
            # The child got the same SIGINT from the terminal; give it time to stop the job.
            try:
                return proc.wait(timeout=30)
            except (subprocess.TimeoutExpired, KeyboardInterrupt):
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                return 130
    finally:
        if relay is not None:
            relay.close()


def cmd_submit(args) -> int:
    from pipelines.config import ConfigError, load_config
    from pipelines.spark import EnvironmentError_, check_java

    try:
        validate(args)
        config_path = Path(args.config).expanduser().resolve() if args.config else SAMPLE_CONFIG
        try:
            cfg = load_config(config_path)
        except ConfigError as e:
            return _err(f"config error: {e}", EXIT_CONFIG)
        if not args.dry_run:
            try:
                check_java()
            except EnvironmentError_ as e:
                return _err(str(e), EXIT_ENV)
            if args.deploy_mode == "client":
                # The driver runs here: the sample's inputs are made here, before the job.
                prepare_sample(cfg)
        staging = Path(args.staging_dir).expanduser().resolve() if args.staging_dir else default_staging_dir()
        code_zip = build_code_zip(staging)
        env_archive = None
        if args.pack_env:
            prefix = current_venv()
            if importlib.util.find_spec("venv_pack") is None:
                raise SubmitError("--pack-env needs venv-pack: pip install venv-pack", EXIT_ENV)
            env_archive = env_archive_path(staging, prefix, args.pack_python_prefix)
            if args.dry_run:
                if not env_archive.is_file():
                    print(f"earlyfuse submit: dry run: {prefix} would be packed into {env_archive}",
                          file=sys.stderr)
            elif env_archive.is_file() and not args.repack:
                print(f"earlyfuse submit: reusing packed environment {env_archive}", file=sys.stderr)
            else:
                print(f"earlyfuse submit: packing {prefix} with venv-pack ...", file=sys.stderr, flush=True)
                secs = pack_env(env_archive, prefix, args.pack_python_prefix)
                prune(staging, "earlyfuse-env-*.tar.gz", KEEP_ENV_ARCHIVES, env_archive)
                size = env_archive.stat().st_size / 2**20
                print(f"earlyfuse submit: packed {env_archive} ({size:,.0f} MiB) in {secs:.0f}s",
                      file=sys.stderr)
        plan = build_plan(args, cfg.run.name, config_path, code_zip, env_archive)
    except (SubmitError, PackagingError) as e:
        return _err(str(e), e.code)
    print(plan.command_line(), file=sys.stderr, flush=True)
    if args.dry_run:
        return 0
    return run_plan(plan, relay_stderr=args.deploy_mode == "client")


# --------------------------------------------------------------------------- argparse


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def configure_parser(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("config", nargs="?", help="TOML config (default: configs/sample.toml)")
    p.add_argument("--master", required=True,
                   help="Spark master URL: spark://HOST:PORT, yarn, k8s://https://HOST:PORT, local[N]")
    p.add_argument("--deploy-mode", choices=DEPLOY_MODES, default="client",
                   help="where the driver runs (default client: on this machine)")
    g = p.add_argument_group("resources (spark-submit's options)")
    g.add_argument("--driver-memory", metavar="MEM", help="e.g. 4g")
    g.add_argument("--executor-memory", metavar="MEM", help="e.g. 8g")
    g.add_argument("--executor-cores", type=_positive_int, metavar="N")
    g.add_argument("--num-executors", type=_positive_int, metavar="N", help="YARN and Kubernetes")
    g.add_argument("--total-executor-cores", type=_positive_int, metavar="N", help="standalone")
    p.add_argument("--conf", action="append", metavar="KEY=VALUE",
                   help="Spark property, repeatable; wins over the ones earlyfuse sets")
    e = p.add_argument_group("python environment")
    e.add_argument("--pack-env", action="store_true",
                   help="pack this virtualenv with venv-pack and ship it (--archives ...#environment)")
    e.add_argument("--pack-python-prefix", metavar="PREFIX",
                   help="with --pack-env: where Python 3.11 lives on the cluster nodes if not "
                        f"where it lives here ({sys.base_prefix})")
    e.add_argument("--repack", action="store_true",
                   help="with --pack-env: pack again even if an archive of this environment exists")
    e.add_argument("--python", metavar="PATH",
                   help="without --pack-env: the executors' Python (default: this interpreter's path; "
                        f"on Kubernetes the image's, {K8S_IMAGE_PYTHON})")
    e.add_argument("--staging-dir", metavar="DIR",
                   help=f"where the code zip and the packed environment are kept (default {default_staging_dir()})")
    p.add_argument("--output", help="override run.output")
    p.add_argument("--no-progress", action="store_true", help="no live progress line")
    p.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    p.add_argument("--fresh", action="store_true",
                   help="ignore the checkpoints of an interrupted run with the same config")
    p.add_argument("--force", action="store_true", help="take the output's lease from a run that seems alive")
    p.add_argument("--dry-run", action="store_true", help="print the spark-submit command, do not run it")
    p.set_defaults(func=cmd_submit)
    return p


def add_submit_parser(subparsers) -> argparse.ArgumentParser:
    """Register `submit` on the `earlyfuse` command line's subparsers."""
    p = subparsers.add_parser("submit", help="run a pipeline on a cluster through spark-submit",
                              description=DESCRIPTION)
    return configure_parser(p)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="earlyfuse submit", description=DESCRIPTION)
    return configure_parser(ap)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
