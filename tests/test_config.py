import subprocess
import sys

import pytest

from pipelines.config import ConfigError, load_config, parse_config
from tests.conftest import ROOT

MINIMAL = {"inputs": [{"name": "a", "format": "jsonl", "path": "x.jsonl"}]}


def test_bundled_sample_config_is_valid():
    cfg = load_config(ROOT / "configs" / "sample.toml")
    assert cfg.shards.name == "sample"
    assert [i.format for i in cfg.inputs] == ["warc", "jsonl", "webdataset", "video"]


def test_unknown_key_names_key_and_suggests():
    with pytest.raises(ConfigError) as e:
        parse_config({**MINIMAL, "quality": {"gq_min_doc_word": 3}}, "c.toml")
    msg = str(e.value)
    assert msg == "c.toml: unknown key 'quality.gq_min_doc_word' (did you mean 'gq_min_doc_words'?)"


def test_unknown_section():
    with pytest.raises(ConfigError, match="unknown key 'qualty'"):
        parse_config({**MINIMAL, "qualty": {}}, "c.toml")


def test_wrong_type():
    with pytest.raises(ConfigError, match=r"langid.min_score must be float, got str"):
        parse_config({**MINIMAL, "langid": {"min_score": "high"}}, "c.toml")
    with pytest.raises(ConfigError, match=r"shards.max_samples must be int, got bool"):
        parse_config({**MINIMAL, "shards": {"max_samples": True}}, "c.toml")


def test_int_accepted_for_float_and_inputs_checked():
    cfg = parse_config({**MINIMAL, "langid": {"min_score": 1}}, "c.toml")
    assert cfg.langid.min_score == 1.0
    with pytest.raises(ConfigError, match=r"inputs\[0\].format must be one of"):
        parse_config({"inputs": [{"name": "a", "format": "csv", "path": "x"}]}, "c.toml")
    with pytest.raises(ConfigError, match="no \\[\\[inputs\\]\\]"):
        parse_config({}, "c.toml")


def test_cli_bad_key_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[inputs]]\nname="a"\nformat="jsonl"\npath="x"\n[shards]\nmax_sample = 3\n')
    proc = subprocess.run([sys.executable, "-m", "jobs.cli", "run", str(bad)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert f"{bad}: unknown key 'shards.max_sample'" in lines[0]
    assert "did you mean 'max_samples'" in lines[0]


def test_cli_invalid_toml_exit_2(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[run\n")
    proc = subprocess.run([sys.executable, "-m", "jobs.cli", "run", str(bad)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert proc.returncode == 2
    assert "invalid TOML" in proc.stderr


def test_resolve_on_driver_bytes_bounds():
    base = {"inputs": [{"name": "a", "format": "jsonl", "path": "x"}]}
    assert parse_config(dict(base, images={"resolve_on_driver_bytes": 0})).images.resolve_on_driver_bytes == 0
    with pytest.raises(ConfigError, match="images.resolve_on_driver_bytes must be 0..4000000000"):
        parse_config(dict(base, images={"resolve_on_driver_bytes": -1}))


def test_config_reference_is_what_the_code_says():
    """docs/config.md is generated from the config sections; it must be current (defaults
    included) and every key must carry its documentation."""
    from pipelines.config.reference import TARGET, render, undocumented

    assert undocumented() == []
    assert TARGET.read_text(encoding="utf-8") == render(), \
        "docs/config.md is stale: python -m pipelines.config.reference --write"


def test_config_reference_lists_every_key_with_its_default():
    import dataclasses

    from pipelines.config import Config
    from pipelines.config.reference import render

    text = render()
    cfg = Config()
    for section in ("run", "langid", "images", "video", "dedup", "shards"):
        for f in dataclasses.fields(getattr(cfg, section)):
            assert f"| `{section}.{f.name}` |" in text
    assert "| `dedup.driver_max_rows` | `1000000` |" in text
    assert "| `video.max_duration` | `14400.0` |" in text
    assert "| `quality.gq_min_doc_words` | `50` |" in text
    assert "| `inputs[].path` | required |" in text


def test_the_readmes_minimal_config_is_valid():
    """The config a new user copies from the README's front door parses and validates."""
    import re

    from tests.conftest import ROOT

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## A minimal config\n\n```toml\n(.*?)```", text, re.S).group(1)
    import tomllib

    cfg = parse_config(tomllib.loads(block), "README.md")
    assert [i.format for i in cfg.inputs] == ["warc", "webdataset"] and cfg.shards.name == "crawl-2026-49"
