"""Config and environment errors: one clear line, a non-zero exit, and no output marked
finished (a finished output from before is left as it was)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def _config(tmp_path: Path, inputs: str, extra: str = "") -> Path:
    cfg = tmp_path / "job.toml"
    cfg.write_text(f'[run]\nname = "t"\nmaster = "local[1]"\n\n[[inputs]]\nname = "docs"\nformat = "jsonl"\n'
                   f'path = "{inputs}"\n{extra}')
    return cfg


def _docs(tmp_path: Path) -> Path:
    d = tmp_path / "docs"
    d.mkdir()
    (d / "a.jsonl").write_text(json.dumps({"text": "Hello there. " * 40}) + "\n")
    return d


def _run(cfg: Path, output: Path | str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jobs.cli", "run", str(cfg), "--output", str(output),
                           "--no-progress"], capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env=env)


def _one_line(proc) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("earlyfuse: "), proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    return lines[0]


def _finished_output(tmp_path: Path) -> Path:
    """What an earlier successful run left: a manifest (its content does not matter here)."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text('{"finished": true}\n')
    return out


def test_missing_input_path_leaves_the_finished_output_alone(tmp_path):
    out = _finished_output(tmp_path)
    proc = _run(_config(tmp_path, str(tmp_path / "nothing-here" / "*.jsonl")), out)
    assert proc.returncode == 2
    line = _one_line(proc)
    assert line.startswith("earlyfuse: input error:") and "nothing-here" in line
    assert (out / "manifest.json").read_text() == '{"finished": true}\n'
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json"]


def test_unwritable_output_is_one_line_exit_2(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    proc = _run(_config(tmp_path, str(_docs(tmp_path))), blocker / "out")
    assert proc.returncode == 2
    line = _one_line(proc)
    assert line.startswith("earlyfuse: cannot write output:") and "a-file" in line
    assert blocker.read_text() == "not a folder"


def test_java_missing_exit_3_before_anything_is_written(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("JAVA_HOME", "SPARK_HOME")}
    env["PATH"] = str(tmp_path / "empty-bin")  # no java anywhere; python is called by full path
    out = tmp_path / "out"
    proc = _run(_config(tmp_path, str(_docs(tmp_path))), out, env=env)
    assert proc.returncode == 3
    line = _one_line(proc)
    assert "Java not found" in line and "openjdk-17-jre-headless" in line
    assert not out.exists()


def test_wrong_type_and_unknown_key_exit_2_without_output(tmp_path):
    docs = _docs(tmp_path)
    out = _finished_output(tmp_path)
    for extra, expect in (('[shards]\nmax_samples = "ten"\n', "shards.max_samples must be"),
                          ("[images]\nmax_tile = 4\n", "unknown key 'images.max_tile'"),
                          ("[langid]\nmin_score = [0.5]\n", "langid.min_score must be")):
        proc = _run(_config(tmp_path, str(docs), extra), out)
        assert proc.returncode == 2, (extra, proc.stderr[-2000:])
        assert expect in _one_line(proc), proc.stderr
        assert (out / "manifest.json").read_text() == '{"finished": true}\n'
