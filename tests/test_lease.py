"""One run per output: the lease, local and on S3 (moto's server over HTTP), and two real runs
started together on one output."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from pipelines.lease import LEASE, Lease, LeaseHeld
from tests.conftest import ROOT
from tests.s3_util import moto_server

BUCKET = "earlyfuse-lease"


def _holder(data: bytes) -> dict:
    return json.loads(data)


def test_a_second_run_on_a_held_output_is_told_who_holds_it(tmp_path):
    first = Lease(str(tmp_path)).acquire()
    try:
        lease = _holder((tmp_path / LEASE).read_bytes())
        assert lease["host"] == socket.gethostname() and lease["pid"] == os.getpid()
        with pytest.raises(LeaseHeld, match=rf"is held by another run: pid {os.getpid()} on .* since .*--force"):
            Lease(str(tmp_path)).acquire()
    finally:
        first.release()
    assert not (tmp_path / LEASE).exists()
    Lease(str(tmp_path)).acquire().release()


def test_a_lease_left_by_a_killed_run_is_taken_over_and_said_so(tmp_path):
    code = ("import os, signal, sys; from pipelines.lease import Lease; Lease(sys.argv[1]).acquire(); "
            "os.kill(os.getpid(), signal.SIGKILL)")
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT)
    assert proc.returncode == -signal.SIGKILL
    dead = _holder((tmp_path / LEASE).read_bytes())["pid"]
    with Lease(str(tmp_path)) as lease:
        assert f"its process is gone (pid {dead} on" in lease.note
        assert _holder((tmp_path / LEASE).read_bytes())["pid"] == os.getpid()


def test_another_hosts_lease_is_taken_over_only_when_its_heartbeat_stopped(tmp_path):
    now = time.time()
    fresh = {"run_id": "x", "host": "elsewhere", "pid": 1, "started": now - 60, "heartbeat": now - 5}
    (tmp_path / LEASE).write_text(json.dumps(fresh))
    with pytest.raises(LeaseHeld, match="pid 1 on elsewhere"):
        Lease(str(tmp_path), stale_after=60).acquire()
    (tmp_path / LEASE).write_text(json.dumps(dict(fresh, heartbeat=now - 61)))
    with Lease(str(tmp_path), stale_after=60) as lease:
        assert "its heartbeat stopped (pid 1 on elsewhere" in lease.note


def test_force_takes_a_live_lease_and_the_forced_out_run_notices(tmp_path):
    first = Lease(str(tmp_path), stale_after=0.5).acquire()
    second = Lease(str(tmp_path), force=True).acquire()
    assert second.note.endswith("forced (--force)")
    deadline = time.monotonic() + 5
    while not first.lost:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    first.release()  # must not remove the lease it lost
    assert _holder((tmp_path / LEASE).read_bytes())["run_id"] == second.me.run_id
    second.release()


def test_the_heartbeat_moves(tmp_path):
    with Lease(str(tmp_path), stale_after=0.5):
        first = _holder((tmp_path / LEASE).read_bytes())["heartbeat"]
        time.sleep(0.3)
        assert _holder((tmp_path / LEASE).read_bytes())["heartbeat"] > first


def _race(make, n: int = 8) -> tuple[list[Lease], list[str]]:
    """n takers at once; returns the winners and the losers' messages."""
    won, lost, start = [], [], threading.Barrier(n)

    def take():
        lease = make()
        start.wait()
        try:
            won.append(lease.acquire())
        except LeaseHeld as e:
            lost.append(str(e))

    threads = [threading.Thread(target=take) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return won, lost


def test_of_eight_takers_at_once_exactly_one_holds_a_local_output(tmp_path):
    won, lost = _race(lambda: Lease(str(tmp_path)))
    assert len(won) == 1 and len(lost) == 7
    won[0].release()


def test_s3_lease_conditional_writes_on_moto(tmp_path):
    """On S3 the lease object is created with If-None-Match and replaced with If-Match: of
    eight takers exactly one holds it; a stale one is taken over; release deletes it."""
    import boto3

    from pipelines.io import storage
    from pipelines.io.storage import StorageOptions

    with moto_server() as endpoint:
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
        opts = StorageOptions(endpoint_url=endpoint)
        uri = f"s3://{BUCKET}/out"
        won, lost = _race(lambda: Lease(uri, opts, settle=0.5))
        assert len(won) == 1 and len(lost) == 7 and all("another run" in m for m in lost)
        held = _holder(storage.read_bytes(f"{uri}/{LEASE}", opts))
        assert held["run_id"] == won[0].me.run_id
        won[0].release()
        assert not storage.exists(f"{uri}/{LEASE}", opts)
        now = time.time()
        stale = {"run_id": "x", "host": "elsewhere", "pid": 1, "started": now - 900, "heartbeat": now - 900}
        storage.write_bytes(f"{uri}/{LEASE}", json.dumps(stale).encode(), opts)
        with Lease(uri, opts, stale_after=300, settle=0.1) as lease:
            assert "its heartbeat stopped (pid 1 on elsewhere" in lease.note
            with pytest.raises(LeaseHeld, match="is held by another run"):
                Lease(uri, opts, settle=0.1).acquire()


def _sample_config(root, path):
    text = (ROOT / "configs" / "sample.toml").read_text()
    path.write_text(text.replace('generate = "data/sample"', 'generate = ""').replace("data/sample", str(root)))
    return path


def _run(args, env=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "jobs.cli", "run", *args, "--no-progress"], cwd=ROOT,
                            env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


@pytest.mark.spark
def test_two_runs_started_together_on_one_output(sample_inputs, tmp_path):
    """Exactly one proceeds; the other exits 2 at once with one line naming the holder, and
    the finished output verifies."""
    from pipelines.verify import verify_output

    root, _ = sample_inputs
    cfg = _sample_config(root, tmp_path / "sample.toml")
    out = tmp_path / "out"
    procs = [_run([str(cfg), "--output", str(out), "--master", "local[2]"]) for _ in range(2)]
    results = [(p.wait(timeout=900), *p.communicate()) for p in procs]
    codes = sorted(r[0] for r in results)
    assert codes == [0, 2], [r[2][-2000:] for r in results]
    loser = next(r for r in results if r[0] == 2)
    lines = loser[2].strip().splitlines()
    assert len(lines) == 1 and "is held by another run: pid" in lines[0], loser[2]
    assert verify_output(str(out))["ok"]
    assert not (out / LEASE).exists()


@pytest.mark.spark
def test_two_runs_started_together_on_one_s3_output(sample_inputs, tmp_path):
    import boto3

    from pipelines.io import storage
    from pipelines.io.storage import StorageOptions
    from pipelines.verify import verify_output

    root, _ = sample_inputs
    cfg = _sample_config(root, tmp_path / "sample.toml")
    with moto_server() as endpoint:
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
        uri = f"s3://{BUCKET}/out"
        # Two working folders: two machines sharing only the bucket.
        procs = []
        for n in range(2):
            (tmp_path / f"m{n}").mkdir()
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "jobs.cli", "run", str(cfg), "--output", uri, "--master", "local[2]",
                 "--no-progress"], cwd=tmp_path / f"m{n}", env={**os.environ, "PYTHONPATH": str(ROOT)},
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        results = [(p.wait(timeout=900), *p.communicate()) for p in procs]
        assert sorted(r[0] for r in results) == [0, 2], [r[2][-2000:] for r in results]
        loser = next(r for r in results if r[0] == 2)
        assert "is held by another run" in loser[2] or "taken by another run" in loser[2], loser[2]
        opts = StorageOptions(endpoint_url=endpoint)
        assert verify_output(uri, opts=opts)["ok"]
        assert not storage.exists(f"{uri}/{LEASE}", opts)


@pytest.mark.spark
def test_a_run_that_fails_after_starting_says_where_in_one_line(sample_inputs, tmp_path):
    """A task that fails with no retry left: exit 1, one line naming the phase and the cause,
    the whole trace in a log file under the work folder."""
    root, _ = sample_inputs
    cfg = _sample_config(root, tmp_path / "sample.toml")
    out = tmp_path / "out"
    proc = _run([str(cfg), "--output", str(out), "--master", "local[2]"],
                env={"EARLYFUSE_FAIL_ONCE": "shard", "EARLYFUSE_FAULT_DIR": str(tmp_path / "faults")})
    _, err = proc.communicate(timeout=900)
    assert proc.returncode == 1, err[-3000:]
    line = err.strip().splitlines()[-1]
    assert line.startswith("earlyfuse: run failed in tokenize+shard: ") and "full trace: " in line, err[-3000:]
    log = line.rsplit("full trace: ", 1)[1].rstrip(")")
    assert log.startswith(str(out / "_work" / "logs")) and "Traceback" in open(log).read()
    assert not (out / LEASE).exists()  # released on the way out
