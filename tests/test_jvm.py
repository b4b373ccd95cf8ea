"""The driver JVM's quick start: class archive built at set-up, used only when it matches."""

import json
import subprocess
import sys

import pytest

from pipelines import jvm


def test_off_means_no_options(tmp_path):
    assert jvm.driver_java_options(False, tmp_path) == []


def test_without_an_archive_only_the_quick_jit(tmp_path):
    assert jvm.driver_java_options(True, tmp_path) == ["-XX:TieredStopAtLevel=1"]


def test_an_archive_made_for_another_java_or_spark_is_not_used(tmp_path):
    (tmp_path / jvm.ARCHIVE).write_bytes(b"x")
    key = jvm.archive_key()
    (tmp_path / jvm.KEY).write_text(json.dumps(key))
    assert jvm.usable_archive(tmp_path) == tmp_path / jvm.ARCHIVE
    for field, value in (("pyspark", "0.0.1"), ("java", "/opt/other/java"), ("jars", "0" * 16)):
        (tmp_path / jvm.KEY).write_text(json.dumps(dict(key, **{field: value})))
        assert jvm.usable_archive(tmp_path) is None
        assert not any("SharedArchiveFile" in o for o in jvm.driver_java_options(True, tmp_path))
    (tmp_path / jvm.KEY).write_text("{broken")
    assert jvm.usable_archive(tmp_path) is None


SESSION = """
import json
from pipelines.config import parse_config
from pipelines.spark import get_session
cfg = parse_config({"run": {"master": "local[1]", "quick_jvm": QUICK},
                    "inputs": [{"name": "x", "format": "jsonl", "path": "x"}],
                    "spark": {"spark.driver.extraJavaOptions": "-Dearlyfuse.test=1"}}, "t")
s = get_session(cfg)
args = list(s._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments())
assert s.range(5).count() == 5
print("ARGS " + json.dumps(args))
"""


@pytest.mark.spark
@pytest.mark.parametrize("quick", [True, False])
def test_session_starts_with_the_archive_and_users_options_last(quick):
    if quick and jvm.usable_archive() is None:
        pytest.fail("no usable JVM class archive: `make setup` builds it (python -m pipelines.jvm)")
    proc = subprocess.run([sys.executable, "-c", SESSION.replace("QUICK", str(quick))],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    args = json.loads(next(ln for ln in lines if ln.startswith("ARGS "))[5:])
    assert "-Dearlyfuse.test=1" in args
    if quick:
        assert f"-XX:SharedArchiveFile={jvm.usable_archive()}" in args
        assert args.index("-XX:TieredStopAtLevel=1") < args.index("-Dearlyfuse.test=1")
    else:
        assert not any(a.startswith(("-XX:SharedArchiveFile", "-XX:TieredStopAtLevel")) for a in args)
    # The JVM's own warnings (a stale archive, signed jars) never reach stdout (--json).
    assert all(ln.startswith("ARGS ") for ln in lines), lines
