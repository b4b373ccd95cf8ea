"""A real Spark standalone cluster on 127.0.0.1 for tests: one master, one worker.

The pip pyspark package has no sbin/start-*.sh, so both daemons run in the foreground
through `$SPARK_HOME/bin/spark-class` (docs/cluster.md, "A standalone cluster"), each in its own process group
(the worker's executors are in the worker's group), with their logs in a temp folder.

    with standalone_cluster() as cluster:
        run(["earlyfuse", "submit", "--master", cluster.master_url, ...])
        cluster.executor_pids()      # this worker's CoarseGrainedExecutorBackend JVMs
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

EXECUTOR_CLASS = "org.apache.spark.executor.CoarseGrainedExecutorBackend"
MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"


class ClusterError(RuntimeError):
    pass


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).resolve().parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(n: int) -> list[int]:
    """n distinct free ports (held open together so the kernel cannot hand out one twice)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [a.decode("utf-8", "replace") for a in raw.split(b"\0") if a]


def _ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may contain spaces and parentheses.
    return int(stat.rsplit(")", 1)[1].split()[1])


def executor_pids(parent: int | None = None, app_id: str | None = None) -> list[int]:
    """PIDs of the Spark executor JVMs (CoarseGrainedExecutorBackend) on this machine,
    optionally only those started by the worker `parent` or belonging to `app_id`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        args = _cmdline(pid)
        if EXECUTOR_CLASS not in args:
            continue
        if parent is not None and _ppid(pid) != parent:
            continue
        if app_id is not None and app_id not in args:
            continue
        pids.append(pid)
    return sorted(pids)


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return f"({path} unreadable)"
    return "\n".join(text[-lines:])


@dataclass
class StandaloneCluster:
    master_url: str
    webui_url: str
    log_dir: Path
    work_dir: Path
    master: subprocess.Popen
    worker: subprocess.Popen
    cores: int
    memory: str
    workers: list[subprocess.Popen] = field(default_factory=list)  # all of them; `worker` is the first
    _stopped: bool = field(default=False, repr=False)

    @property
    def master_pid(self) -> int:
        return self.master.pid

    @property
    def worker_pid(self) -> int:
        return self.worker.pid

    def state(self) -> dict:
        """The master's web UI JSON: workers, active and completed applications."""
        with urllib.request.urlopen(self.webui_url + "/json/", timeout=5) as r:
            return json.loads(r.read().decode("utf-8"))

    def alive_workers(self) -> list[dict]:
        return [w for w in self.state().get("workers", []) if w.get("state") == "ALIVE"]

    def executor_pids(self, app_id: str | None = None) -> list[int]:
        """This worker's executor JVMs (children of the worker JVM)."""
        return executor_pids(parent=self.worker.pid, app_id=app_id)

    def logs(self, lines: int = 40) -> str:
        return "\n".join(f"--- {p.name} ---\n{log_tail(p, lines)}" for p in sorted(self.log_dir.glob("*.log")))

    def stop(self, timeout: float = 20.0) -> None:
        if self._stopped:
            return
        self._stopped = True
        # Workers first (they stop their executors), then the master; then make sure of it.
        for proc in [*(self.workers or [self.worker]), self.master]:
            _stop_group(proc, timeout)


def _stop_group(proc: subprocess.Popen, timeout: float) -> None:
    """SIGTERM the process (a group leader), wait, then SIGKILL its whole group."""
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # stragglers: executors the worker left behind
    except (ProcessLookupError, PermissionError):
        pass
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def _wait_for(cond, timeout: float, what: str, cluster_logs, procs) -> None:
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        for name, proc in procs:
            if proc.poll() is not None:
                raise ClusterError(f"Spark {name} exited with {proc.returncode} while waiting for "
                                   f"{what}\n{cluster_logs()}")
        try:
            if cond():
                return
        except (urllib.error.URLError, ConnectionError, OSError, ValueError) as e:
            last_error = e
        time.sleep(0.5)
    raise ClusterError(f"timed out after {timeout:.0f}s waiting for {what} "
                       f"(last error: {last_error})\n{cluster_logs()}")


@contextmanager
def standalone_cluster(cores: int = 2, memory: str = "4g", timeout: float = 90.0,
                       log_dir: str | os.PathLike | None = None, workers: int = 1):
    """Start a master and `workers` workers on 127.0.0.1 (free ports; each worker with its own
    work and local folders), wait until they are ALIVE in the master's web UI JSON, yield a
    StandaloneCluster, stop them all on exit."""
    home = spark_home()
    spark_class = home / "bin" / "spark-class"
    own_tmp = None
    if log_dir is None:
        own_tmp = tempfile.TemporaryDirectory(prefix="earlyfuse-cluster-")
        log_dir = own_tmp.name
    log_dir = Path(log_dir)
    work_dir = log_dir / "work"
    work_dir.mkdir(parents=True, exist_ok=True)
    port, webui, *worker_webuis = free_ports(2 + workers)
    env = dict(os.environ, SPARK_HOME=str(home), SPARK_LOCAL_IP="127.0.0.1",
               SPARK_LOG_DIR=str(log_dir), SPARK_WORKER_DIR=str(work_dir))
    # Small daemon heaps: they only coordinate; the executors get their own.
    env.setdefault("SPARK_DAEMON_MEMORY", "512m")
    master_url = f"spark://127.0.0.1:{port}"
    webui_url = f"http://127.0.0.1:{webui}"

    procs = []
    master_log = open(log_dir / "master.log", "wb")
    worker_logs = [open(log_dir / ("worker.log" if i == 0 else f"worker-{i}.log"), "wb") for i in range(workers)]
    try:
        master = subprocess.Popen(
            [str(spark_class), MASTER_CLASS, "--host", "127.0.0.1", "--port", str(port),
             "--webui-port", str(webui)],
            env=env, stdout=master_log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)
        procs.append(("master", master))
        cluster_logs = lambda: "\n".join(  # noqa: E731
            f"--- {n}.log ---\n{log_tail(log_dir / f'{n}.log')}" for n in ("master", "worker"))

        def master_up() -> bool:
            with urllib.request.urlopen(webui_url + "/json/", timeout=5) as r:
                return json.loads(r.read().decode("utf-8")).get("status") == "ALIVE"

        _wait_for(master_up, timeout, f"the master at {webui_url}", cluster_logs, procs)
        started = []
        for i, (webui_port, log) in enumerate(zip(worker_webuis, worker_logs)):
            own_work = work_dir if i == 0 else log_dir / f"work-{i}"
            local = log_dir / f"local-{i}"
            own_work.mkdir(parents=True, exist_ok=True)
            local.mkdir(parents=True, exist_ok=True)
            started.append(subprocess.Popen(
                [str(spark_class), WORKER_CLASS, "--host", "127.0.0.1", "--cores", str(cores),
                 "--memory", memory, "--webui-port", str(webui_port), "--work-dir", str(own_work),
                 master_url],
                env=dict(env, SPARK_LOCAL_DIRS=str(local)), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True))
            procs.append((f"worker {i}", started[-1]))
        cluster = StandaloneCluster(master_url, webui_url, log_dir, work_dir, master, started[0],
                                    cores, memory, started)
        _wait_for(lambda: len(cluster.alive_workers()) >= workers, timeout,
                  "the workers to register with the master", cluster_logs, procs)
    except BaseException:
        for _, proc in reversed(procs):
            _stop_group(proc, 10)
        master_log.close()
        for log in worker_logs:
            log.close()
        if own_tmp is not None:
            own_tmp.cleanup()
        raise
    try:
        yield cluster
    finally:
        cluster.stop()
        master_log.close()
        for log in worker_logs:
            log.close()
        if own_tmp is not None:
            own_tmp.cleanup()


# ----------------------------------------------------------------------------- configs


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)  # a TOML basic string is JSON-compatible
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def dump_toml(data: dict) -> str:
    """A config dict (tables of scalars, lists, inline tables; arrays of tables) as TOML."""
    lines = []
    for key, value in data.items():
        if not isinstance(value, (dict, list)) or (isinstance(value, list) and not
                                                   all(isinstance(x, dict) for x in value)):
            lines.append(f"{key} = {_toml_value(value)}")
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append(f"\n[{key}]")
            lines += [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()]
        elif isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
            for item in value:
                lines.append(f"\n[[{key}]]")
                lines += [f"{json.dumps(k)} = {_toml_value(v)}" for k, v in item.items()]
    return "\n".join(lines) + "\n"


def write_sample_config(path: Path, inputs: Path, output: Path, sample_toml: Path) -> Path:
    """configs/sample.toml pointed at generated inputs under `inputs`, writing to `output`."""
    import tomllib

    data = tomllib.loads(sample_toml.read_text(encoding="utf-8"))
    data.setdefault("sample", {})["generate"] = ""
    data["run"]["output"] = str(output)
    data["run"]["progress"] = False
    for inp in data["inputs"]:
        inp["path"] = str(inputs / Path(inp["path"]).relative_to("data/sample"))
    path.write_text(dump_toml(data), encoding="utf-8")
    return path
