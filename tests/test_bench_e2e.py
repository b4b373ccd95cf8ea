"""The whole-pipeline benchmark's process accounting (benchmarks/bench_e2e.py)."""

import os
import subprocess
import sys
import time

from benchmarks.bench_e2e import TreeCPU, _kind

BURN = "import time\nt = time.process_time()\nwhile time.process_time() - t < {s}: pass\n"


def test_tree_cpu_counts_children_by_kind():
    with TreeCPU(os.getpid(), interval=0.05) as cpu:
        subprocess.run([sys.executable, "-c", BURN.format(s=0.5)], check=True)
    used = cpu.by_kind()
    # the child's half second (its interpreter start on top); this process mostly waited
    assert 0.4 <= used["other"] <= 1.5
    assert used.get("driver python", 0) < 0.4


def test_tree_cpu_counts_only_what_ran_inside_the_block():
    child = subprocess.Popen([sys.executable, "-c", BURN.format(s=0.6) + "time.sleep(30)\n"])
    try:
        time.sleep(1.5)  # the child's CPU is spent before the block
        with TreeCPU(os.getpid(), interval=0.05) as cpu:
            time.sleep(0.3)
        assert cpu.by_kind().get("other", 0) < 0.1
    finally:
        child.kill()
        child.wait()


def test_kind_names_the_jvm_although_its_command_line_names_the_daemon(tmp_path):
    # Spark's JVM carries `spark.python.daemon.module=pipelines.spark_daemon` in its arguments.
    java = tmp_path / "java"
    java.symlink_to(sys.executable)
    jvm = subprocess.Popen([str(java), "-c", "import time; time.sleep(30)",
                            "--conf", "spark.python.daemon.module=pipelines.spark_daemon"])
    daemon = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)",
                               "-m", "pipelines.spark_daemon"])
    try:
        time.sleep(0.2)
        assert _kind(jvm.pid, os.getpid()) == "JVM"
        assert _kind(daemon.pid, os.getpid()) == "pyspark daemon+workers"
        assert _kind(os.getpid(), os.getpid()) == "driver python"
    finally:
        for p in (jvm, daemon):
            p.kill()
            p.wait()


def test_tree_rss_skips_a_jvm_child_that_is_still_the_jvm(tmp_path):
    from benchmarks.bench_e2e import tree_rss

    java = tmp_path / "java"
    java.symlink_to(sys.executable)
    # A "JVM" whose child is still a "JVM": the moment between spawn and exec of a helper.
    code = ("import subprocess, sys, time; "
            f"c = subprocess.Popen([{str(java)!r}, '-c', 'import time; time.sleep(30)']); "
            "time.sleep(30)")
    # A Spark session an earlier test started is a real JVM child of this process: count
    # only what the fake one adds.
    before = tree_rss(os.getpid())[1].get("JVM", [0, 0])[1]
    jvm = subprocess.Popen([str(java), "-c", code], start_new_session=True)
    try:
        time.sleep(1.0)
        total, by_kind = tree_rss(os.getpid())
        assert by_kind["JVM"][1] == before + 1
        assert total == sum(v for v, _ in by_kind.values())
    finally:
        os.killpg(jvm.pid, 9)  # the helper too
        jvm.wait()
