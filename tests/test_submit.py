"""`earlyfuse submit`: the spark-submit command it builds, the code zip it ships, the packed
environment, and the sample pipeline on a real standalone cluster (master + worker on
127.0.0.1) giving the same shards as the same config on local mode."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from jobs import packaging, spark_entry, submit
from tests.cluster_util import executor_pids, standalone_cluster, write_sample_config
from tests.conftest import ROOT

SAMPLE = ROOT / "configs" / "sample.toml"


def dry_run(capsys, *argv: str) -> tuple[int, list[str], str]:
    """Run `earlyfuse submit --dry-run`; (exit code, the printed command's argv, stderr)."""
    code = submit.main([*argv, "--dry-run"])
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if "spark-submit " in ln]
    if code != 0:
        return code, [], err
    assert len(lines) == 1, err
    words = shlex.split(lines[0])
    # Leading environment assignments, then the argv.
    while words and "=" in words[0] and not words[0].startswith("/"):
        words.pop(0)
    return code, words, err


def confs(argv: list[str]) -> dict[str, str]:
    out = {}
    for i, w in enumerate(argv):
        if w == "--conf":
            key, _, value = argv[i + 1].partition("=")
            assert key not in out, f"--conf {key} given twice"
            out[key] = value
    return out


def opt(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv else None


def app_args(argv: list[str]) -> list[str]:
    i = argv.index(str(submit.ENTRY))
    return argv[i + 1:]


# ----------------------------------------------------------------------------- commands


def test_dry_run_standalone_client(capsys, tmp_path, monkeypatch):
    cfg = tmp_path / "cfg" / "job.toml"
    cfg.parent.mkdir()
    cfg.write_text(SAMPLE.read_text())
    monkeypatch.chdir(tmp_path)
    code, argv, err = dry_run(capsys, "--master", "spark://127.0.0.1:7077", "cfg/job.toml",
                              "--staging-dir", "stage", "--executor-memory", "2g",
                              "--executor-cores", "2", "--total-executor-cores", "4",
                              "--driver-memory", "3g", "--conf", "spark.task.maxFailures=2",
                              "--conf", "spark.sql.shuffle.partitions=16",
                              "--output", "out/x", "--no-progress", "--json")
    assert code == 0, err
    assert argv[0] == str(submit.spark_home() / "bin" / "spark-submit")
    assert opt(argv, "--master") == "spark://127.0.0.1:7077"
    assert opt(argv, "--deploy-mode") == "client"
    assert opt(argv, "--name") == "earlyfuse-sample"
    assert (opt(argv, "--executor-memory"), opt(argv, "--executor-cores"), opt(argv, "--total-executor-cores"),
            opt(argv, "--driver-memory")) == ("2g", "2", "4", "3g")
    c = confs(argv)
    assert c["spark.driver.host"] == c["spark.driver.bindAddress"] == "127.0.0.1"
    assert c["spark.pyspark.python"] == c["spark.pyspark.driver.python"] == sys.executable
    assert c["spark.task.maxFailures"] == "2" and c["spark.sql.shuffle.partitions"] == "16"
    zip_path = Path(opt(argv, "--py-files"))
    assert zip_path.suffix == ".zip" and zip_path.is_file()
    assert zip_path.parent == (tmp_path / "stage").resolve()
    assert "--archives" not in argv and "--files" not in argv
    # The application and its arguments: the absolute config path, the overrides.
    assert app_args(argv) == [str(cfg.resolve()), "--output", str((tmp_path / "out" / "x").resolve()),
                              "--no-progress", "--json"]
    assert Path(argv[argv.index(str(submit.ENTRY))]).is_file()


def test_dry_run_yarn_cluster_mode_ships_config(capsys, tmp_path):
    code, argv, err = dry_run(capsys, "--master", "yarn", "--deploy-mode", "cluster", str(SAMPLE),
                              "--staging-dir", str(tmp_path), "--num-executors", "8",
                              "--executor-memory", "8g", "--output", "hdfs:///data/out")
    assert code == 0, err
    assert opt(argv, "--deploy-mode") == "cluster" and opt(argv, "--num-executors") == "8"
    c = confs(argv)
    assert "spark.driver.host" not in c and "spark.driver.bindAddress" not in c
    assert "spark.pyspark.driver.python" not in c
    assert opt(argv, "--files") == str(SAMPLE)
    assert app_args(argv) == ["sample.toml", "--output", "hdfs:///data/out"]
    assert "SPARK_LOCAL_IP" not in err


def test_dry_run_kubernetes_runs_the_image_python(capsys, tmp_path):
    code, argv, _ = dry_run(capsys, "--master", "k8s://https://10.0.0.1:443", str(SAMPLE),
                            "--staging-dir", str(tmp_path),
                            "--conf", "spark.kubernetes.container.image=earlyfuse:0.1.0")
    assert code == 0
    c = confs(argv)
    assert c["spark.pyspark.python"] == submit.K8S_IMAGE_PYTHON == "/usr/local/bin/python3"
    assert c["spark.pyspark.driver.python"] == sys.executable  # client mode: the driver runs here
    assert "spark.driver.host" not in c
    assert c["spark.kubernetes.container.image"] == "earlyfuse:0.1.0"
    code, argv, _ = dry_run(capsys, "--master", "k8s://https://10.0.0.1:443", str(SAMPLE),
                            "--staging-dir", str(tmp_path), "--python", "/opt/conda/bin/python",
                            "--deploy-mode", "cluster")
    c = confs(argv)
    assert c["spark.pyspark.python"] == "/opt/conda/bin/python" and "spark.pyspark.driver.python" not in c


def test_user_conf_wins_and_secrets_are_not_printed(capsys, tmp_path):
    code, argv, err = dry_run(capsys, "--master", "local[2]", str(SAMPLE), "--staging-dir", str(tmp_path),
                              "--conf", "spark.log.level=INFO", "--conf", "spark.pyspark.python=/opt/py",
                              "--conf", "spark.executorEnv.AWS_SECRET_ACCESS_KEY=hunter2",
                              "--conf", "spark.hadoop.fs.s3a.access.key=AKIAEXAMPLE")
    assert code == 0
    c = confs(argv)
    assert c["spark.log.level"] == "INFO" and c["spark.pyspark.python"] == "/opt/py"
    assert c["spark.executorEnv.AWS_SECRET_ACCESS_KEY"] == submit.REDACTED
    assert c["spark.hadoop.fs.s3a.access.key"] == submit.REDACTED
    assert "hunter2" not in err and "AKIAEXAMPLE" not in err


def test_pack_env_dry_run_names_the_archive(capsys, tmp_path):
    pytest.importorskip("venv_pack")
    code, argv, err = dry_run(capsys, "--master", "yarn", str(SAMPLE), "--staging-dir", str(tmp_path),
                              "--pack-env")
    assert code == 0, err
    archive, _, alias = opt(argv, "--archives").partition("#")
    assert alias == "environment"
    assert Path(archive).parent == tmp_path and archive.endswith(".tar.gz")
    assert not Path(archive).exists()  # a dry run does not pack
    assert f"{sys.prefix} would be packed into {archive}" in err
    c = confs(argv)
    assert c["spark.pyspark.python"] == "./environment/bin/python"
    assert c["spark.pyspark.driver.python"] == sys.executable
    # Cluster mode: the driver runs the archive's Python too.
    code, argv, _ = dry_run(capsys, "--master", "yarn", "--deploy-mode", "cluster", str(SAMPLE),
                            "--staging-dir", str(tmp_path), "--pack-env", "--pack-python-prefix", "/usr/local")
    c = confs(argv)
    assert c["spark.pyspark.python"] == "./environment/bin/python" and "spark.pyspark.driver.python" not in c


def test_pack_env_packs_a_virtualenv(tmp_path):
    """venv-pack on a small virtualenv: the archive has the interpreter, pyvenv.cfg and the
    packages, not the editable-install hook (the code travels in the --py-files zip)."""
    pytest.importorskip("venv_pack")
    venv = tmp_path / "venv"
    subprocess.run([sys.base_prefix + "/bin/python3.11", "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python*/site-packages"))
    (site / "tinypkg").mkdir()
    (site / "tinypkg" / "__init__.py").write_text("VALUE = 42\n")
    (site / "tinypkg-1.0.dist-info").mkdir()
    (site / "__editable__.earlyfuse-0.1.0.pth").write_text("import __editable___earlyfuse_finder\n")
    (site / "__editable___earlyfuse_finder.py").write_text("MAPPING = {'jobs': '/src/jobs'}\n")
    (venv / "share" / "earlyfuse" / "models").mkdir(parents=True)
    (venv / "share" / "earlyfuse" / "models" / "m.bin").write_bytes(b"model")

    dest = packaging.env_archive_path(tmp_path / "stage", venv)
    secs = packaging.pack_env(dest, venv)
    assert dest.is_file() and secs >= 0
    with tarfile.open(dest) as tf:
        names = set(tf.getnames())
    assert {"pyvenv.cfg", "bin/python", "share/earlyfuse/models/m.bin"} <= names
    assert any(n.endswith("site-packages/tinypkg/__init__.py") for n in names)
    assert not any("__editable__" in n for n in names)
    # Unpacked elsewhere, the interpreter finds the environment's packages.
    unpacked = tmp_path / "environment"
    with tarfile.open(dest) as tf:
        tf.extractall(unpacked, filter="fully_trusted")
    run = subprocess.run([str(unpacked / "bin" / "python"), "-c",
                          "import sys, tinypkg; print(tinypkg.VALUE, sys.prefix)"],
                         capture_output=True, text=True, check=True)
    value, prefix = run.stdout.split()
    assert value == "42" and Path(prefix) == unpacked
    # Same environment, same archive name (reused); a new package, a new name.
    assert packaging.env_archive_path(tmp_path / "stage", venv) == dest
    (site / "other-2.0.dist-info").mkdir()
    assert packaging.env_archive_path(tmp_path / "stage", venv) != dest


@pytest.mark.parametrize("argv, message", [
    (["--master", "spark://127.0.0.1:7077", "--deploy-mode", "cluster"], "standalone"),
    (["--master", "local[2]", "--deploy-mode", "cluster"], "not possible"),
    (["--master", "yarn", "--pack-python-prefix", "/usr"], "only applies with --pack-env"),
    (["--master", "yarn", "--conf", "novalue"], "KEY=VALUE"),
])
def test_bad_options_exit_2(capsys, tmp_path, argv, message):
    assert submit.main([*argv, str(SAMPLE), "--staging-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "spark-submit " not in err


def test_config_error_exits_2_before_spark_submit(capsys, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[run]\nnmae = "x"\n')
    assert submit.main(["--master", "yarn", str(bad), "--staging-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "config error" in err and "nmae" in err and "spark-submit " not in err
    assert submit.main(["--master", "yarn", str(tmp_path / "missing.toml"), "--staging-dir", str(tmp_path)]) == 2


def test_default_config_is_the_sample(capsys, tmp_path):
    code, argv, _ = dry_run(capsys, "--master", "local[2]", "--staging-dir", str(tmp_path))
    assert code == 0 and app_args(argv) == [str(SAMPLE)]


def test_registers_on_the_earlyfuse_parser():
    ap = argparse.ArgumentParser(prog="earlyfuse")
    sub = ap.add_subparsers(dest="command", required=True)
    submit.add_submit_parser(sub)
    args = ap.parse_args(["submit", "--master", "yarn", "x.toml", "--conf", "a=1", "--conf", "b=2",
                          "--num-executors", "3", "--dry-run"])
    assert args.func is submit.cmd_submit
    assert (args.master, args.config, args.conf, args.num_executors, args.dry_run) == \
        ("yarn", "x.toml", ["a=1", "b=2"], 3, True)
    with pytest.raises(SystemExit):
        ap.parse_args(["submit", "x.toml"])  # --master is required


def test_loopback_masters():
    assert submit.is_loopback_master("local[*]") and submit.is_loopback_master("local")
    assert submit.is_loopback_master("spark://127.0.0.1:7077")
    assert submit.is_loopback_master("spark://localhost:7077")
    assert not submit.is_loopback_master("spark://10.1.2.3:7077")
    assert not submit.is_loopback_master("spark://127.0.0.1:7077,10.1.2.3:7077")
    assert not submit.is_loopback_master("yarn")
    assert not submit.is_loopback_master("k8s://https://127.0.0.1:6443")


# ----------------------------------------------------------------------------- code zip


def test_code_zip_is_deterministic_and_complete(tmp_path):
    a = packaging.build_code_zip(tmp_path / "a")
    time.sleep(1.1)  # a later build must not differ by timestamps
    b = packaging.build_code_zip(tmp_path / "b")
    assert a.read_bytes() == b.read_bytes()
    assert a.name == b.name == f"earlyfuse-code-{hashlib.sha256(a.read_bytes()).hexdigest()[:12]}.zip"
    # Content-addressed: building again into the same folder reuses the file.
    assert packaging.build_code_zip(tmp_path / "a") == a and len(list((tmp_path / "a").iterdir())) == 1

    # Old zips of other code versions are pruned, the newest kept.
    for i in range(packaging.KEEP_CODE_ZIPS + 3):
        old = tmp_path / "a" / f"earlyfuse-code-old{i:03d}.zip"
        old.write_bytes(b"")
        os.utime(old, (1_000_000 + i, 1_000_000 + i))
    assert packaging.build_code_zip(tmp_path / "a") == a
    left = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert len(left) == packaging.KEEP_CODE_ZIPS and a.name in left and "earlyfuse-code-old000.zip" not in left

    with zipfile.ZipFile(a) as zf:
        infos = zf.infolist()
        names = {i.filename for i in infos}
        assert zf.testzip() is None
    assert {"pipelines/__init__.py", "pipelines/run.py", "filters/__init__.py", "tokenization/__init__.py",
            "vision_prep/__init__.py", "jobs/__init__.py", "jobs/spark_entry.py", "jobs/cli.py"} <= names
    assert all(i.date_time == packaging.ZIP_EPOCH for i in infos)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert not any(n.startswith(("tests/", "configs/", "benchmarks/")) for n in names)
    # Every module and package-data file (*.toml, *.txt, *.json) of the five packages, but
    # the launcher's sample generator, nothing else.
    expected = set()
    for pkg in packaging.PACKAGES:
        for path in (ROOT / pkg).rglob("*"):
            rel = path.relative_to(ROOT).as_posix()
            if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".toml", ".txt", ".json") \
                    and not path.name.startswith(".") and not rel.startswith("jobs/sample/"):
                expected.add(rel)
    assert names == expected and not any(n.startswith("jobs/sample/") for n in names)
    with zipfile.ZipFile(a) as zf:
        assert zf.read("pipelines/run.py") == (ROOT / "pipelines" / "run.py").read_bytes()


def test_code_zip_includes_package_data(tmp_path, monkeypatch):
    """Data files inside a package (*.toml, *.txt, *.json as in pyproject's package-data) travel too."""
    pkg = tmp_path / "src" / "pipelines"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "words.txt").write_text("a\nb\n")
    (pkg / "defaults.toml").write_text("x = 1\n")
    (pkg / "notes.md").write_text("not shipped\n")
    (pkg / "__pycache__").mkdir()
    (pkg / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    real = packaging.importlib.util.find_spec

    class Spec:
        submodule_search_locations = [str(pkg)]

    monkeypatch.setattr(packaging.importlib.util, "find_spec",
                        lambda name, *a: Spec() if name == "pipelines" else real(name, *a))
    z = packaging.build_code_zip(tmp_path / "stage")
    with zipfile.ZipFile(z) as zf:
        names = set(zf.namelist())
    assert {"pipelines/__init__.py", "pipelines/sub/words.txt", "pipelines/defaults.toml"} <= names
    assert "pipelines/notes.md" not in names and not any("__pycache__" in n for n in names)


# ----------------------------------------------------------------------------- entry


def test_entry_config_error_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[run\n")
    assert spark_entry.main([str(bad)]) == 2
    assert "config error" in capsys.readouterr().err
    assert spark_entry.main([str(tmp_path / "missing.toml")]) == 2


def test_entry_finds_a_shipped_config_by_basename(tmp_path, monkeypatch):
    (tmp_path / "job.toml").write_text("")
    monkeypatch.chdir(tmp_path)
    assert spark_entry.find_config("job.toml") == Path("job.toml")
    assert spark_entry.find_config("/abs/job.toml") == Path("/abs/job.toml")


def test_entry_settings_follow_the_config():
    from pipelines.config import load_config

    cfg = load_config(SAMPLE)
    cfg.spark["spark.sql.shuffle.partitions"] = "6"
    s = spark_entry.session_settings(cfg)
    assert s["spark.sql.shuffle.partitions"] == "6"
    assert s["spark.sql.session.timeZone"] == "UTC"
    assert not any(k in s for k in ("spark.master", "spark.driver.host", "spark.driver.bindAddress"))


PROBE = """
import json, sys
from jobs import spark_entry
from pipelines.config import load_config

cfg = load_config(sys.argv[1])
cfg.spark["spark.sql.session.timeZone"] = "Europe/Paris"
cfg.spark["spark.task.maxFailures"] = "3"
spark = spark_entry.submitted_session(cfg)
conf = spark.sparkContext.getConf()
keys = ["spark.master", "spark.app.name", "spark.sql.shuffle.partitions", "spark.task.maxFailures",
        "spark.sql.session.timeZone", "spark.sql.execution.arrow.maxRecordsPerBatch",
        "spark.locality.wait", "spark.driver.bindAddress", "spark.ui.enabled"]
print("SETTINGS " + json.dumps({k: conf.get(k, None) for k in keys}))
spark.stop()
"""


@pytest.mark.spark
def test_entry_session_keeps_spark_submit_settings(tmp_path):
    """Under spark-submit: --master and --conf win over the config, whose [spark] table and
    run settings win over the pipeline's defaults; no loopback address is forced."""
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    cmd = [str(submit.spark_submit_path()), "--master", "local[1]", "--name", "probe",
           "--conf", f"spark.pyspark.python={sys.executable}", "--conf", "spark.ui.enabled=false",
           "--conf", "spark.sql.shuffle.partitions=7", "--conf", "spark.task.maxFailures=5",
           str(probe), str(SAMPLE)]
    env = dict(os.environ, SPARK_HOME=str(submit.spark_home()),
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-4000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("SETTINGS "))
    got = json.loads(line.removeprefix("SETTINGS "))
    assert got == {"spark.master": "local[1]",             # the config says local[*]
                   "spark.app.name": "probe",
                   "spark.sql.shuffle.partitions": "7",    # --conf over run.shuffle_partitions (4)
                   "spark.task.maxFailures": "5",          # --conf over the config's [spark] table
                   "spark.sql.session.timeZone": "Europe/Paris",  # [spark] over the default (UTC)
                   "spark.sql.execution.arrow.maxRecordsPerBatch": "512",
                   "spark.locality.wait": "0s",
                   "spark.driver.bindAddress": None,
                   "spark.ui.enabled": "false"}


@pytest.mark.spark
def test_submit_returns_the_jobs_exit_code(tmp_path):
    """A missing input is exit code 2 in the application; spark-submit and `earlyfuse
    submit` pass it through, after printing the command; the message is on stderr."""
    config = write_sample_config(tmp_path / "job.toml", tmp_path / "nothing-here", tmp_path / "out", SAMPLE)
    proc = subprocess.run(_earlyfuse("submit", "--master", "local[1]", str(config), "--no-progress",
                                     "--staging-dir", str(tmp_path / "stage"), "--conf", "spark.ui.enabled=false"),
                          capture_output=True, text=True, timeout=180, cwd=str(ROOT))
    assert proc.returncode == 2, proc.stderr[-4000:]
    lines = proc.stderr.splitlines()
    assert "spark-submit " in lines[0]
    # The driver's stderr stays on stderr (spark-submit alone would merge it into stdout).
    assert any(ln.startswith("earlyfuse: input error:") and "nothing-here" in ln for ln in lines), proc.stderr[-4000:]
    assert "input error" not in proc.stdout


# ----------------------------------------------------------------------------- cluster


def _earlyfuse(*args: str) -> list[str]:
    """The `earlyfuse` console script when it has the subcommand, else its module."""
    script = Path(sys.executable).parent / "earlyfuse"
    if args and args[0] == "submit":
        if script.is_file() and subprocess.run([str(script), "submit", "--help"], capture_output=True).returncode == 0:
            return [str(script), *args]
        return [sys.executable, "-m", "jobs.submit", *args[1:]]
    return [str(script), *args] if script.is_file() else [sys.executable, "-m", "jobs.cli", *args]


def _start(cmd: list[str], log: Path) -> tuple[subprocess.Popen, Path]:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    with open(log, "w") as f:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=f, text=True, env=env, cwd=str(ROOT))
    return proc, log


def _finish(started: tuple[subprocess.Popen, Path], timeout: float, what: str, extra=lambda: "") -> tuple[str, str]:
    """Wait for a started command; (stdout, stderr), or fail with both and `extra()`."""
    proc, log = started
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
        pytest.fail(f"{what} did not finish in {timeout:.0f}s\n{shlex.join(proc.args)}\n"
                    f"--- stderr ---\n{log.read_text()[-8000:]}\n{extra()}")
    err = log.read_text()
    if proc.returncode != 0:
        pytest.fail(f"{what} exited with {proc.returncode}\n$ {shlex.join(proc.args)}\n"
                    f"--- stdout ---\n{out[-4000:]}\n--- stderr ---\n{err[-8000:]}\n{extra()}")
    return out, err


def _shards(manifest: dict) -> list[tuple[str, str, int, int]]:
    return [(s["name"], s["sha256"], s["samples"], s["bytes"]) for s in manifest["shards"]]


@pytest.mark.cluster
@pytest.mark.spark
@pytest.mark.e2e
def test_sample_on_two_workers_one_killed_matches_local_mode(sample_run, tmp_path):
    """The sample submitted to a standalone master with two workers (1 core each, their own
    work and local folders), `run.work_dir` a `file://` URI (Spark's Parquet and the driver's
    small files through Hadoop's FileSystem): once the records are checkpointed, one worker is
    killed with its executor, and the job still writes the local run's shards, byte for byte."""
    import tomllib

    from tests.cluster_util import dump_toml

    result, _, root = sample_run
    config = write_sample_config(tmp_path / "sample-cluster.toml", root, tmp_path / "unused", SAMPLE)
    work = tmp_path / "work"
    data = tomllib.loads(config.read_text())
    data["run"]["work_dir"] = work.as_uri()
    config.write_text(dump_toml(data))
    out = tmp_path / "out"
    with standalone_cluster(cores=1, memory="2g", log_dir=tmp_path / "cluster", workers=2) as cluster:
        t0 = time.monotonic()
        job = _start(_earlyfuse("submit", "--master", cluster.master_url, str(config), "--output", str(out),
                                "--no-progress", "--staging-dir", str(tmp_path / "stage")), tmp_path / "submit.log")
        try:
            victim = cluster.workers[1]
            killed = False
            while not killed and job[0].poll() is None and time.monotonic() - t0 < 400:
                if (work / "filtered" / "_SUCCESS").exists() and executor_pids(parent=victim.pid):
                    os.killpg(victim.pid, signal.SIGKILL)  # the worker JVM and its executor
                    killed = True
                time.sleep(0.2)
            stdout, stderr = _finish(job, 500, "earlyfuse submit", cluster.logs)
            submit_s = time.monotonic() - t0
            apps = cluster.state().get("completedapps", [])
        finally:
            if job[0].poll() is None:
                job[0].kill()
                job[0].wait()
    assert killed, "the second worker never ran an executor while the job ran"
    # The command it ran, printed first, on one line.
    line = next(ln for ln in stderr.splitlines() if "spark-submit " in ln)
    argv = shlex.split(line)
    assert argv[argv.index("--master") + 1] == cluster.master_url
    assert str(config) in argv and str(submit.ENTRY) in argv
    # It ran on the cluster: the master lists the finished application (with the surviving
    # worker's core), and each worker's folder has an executor's logs.
    assert [a["name"] for a in apps] == ["earlyfuse-sample"] and apps[0]["state"] == "FINISHED"
    for folder in ("work", "work-1"):
        assert list((tmp_path / "cluster" / folder).glob("app-*/*/stderr")), f"no executor logs in {folder}"

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["totals"] == result.manifest["totals"] and manifest["totals"]["samples"] > 0
    assert _shards(manifest) == _shards(result.manifest)
    for name, sha, _, _ in _shards(manifest):
        assert hashlib.sha256((out / "shards" / name).read_bytes()).hexdigest() == sha
    # The checkpoints went to the URI, none under the output.
    assert (work / "run.json").is_file() and (work / "docs" / "_SUCCESS").is_file()
    assert not (out / "_work").exists()
    # The same summary as `earlyfuse run` prints, ending with the totals and the output.
    assert f"{manifest['totals']['samples']:,} samples" in stdout and str(out) in stdout
    took = re.search(r" in ([0-9.]+)s -> ", stdout)
    print(f"\nsubmit to two workers, one killed: {submit_s:.1f}s (pipeline {took and took[1]}s)")
