"""docs/config.md, generated from the config sections' fields (type, default, documentation):

    python -m pipelines.config.reference --write     # or --check (exit 1 when stale)

A test fails when the committed file and the code disagree, defaults included.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import typing
from pathlib import Path

from pipelines.config.sections import Config

TARGET = Path(__file__).resolve().parent.parent.parent / "docs" / "config.md"

INTRO = """# Config reference

Configs are TOML. Unknown keys and wrong types stop the run with one line such as
`configs/x.toml: unknown key 'shards.max_sample' (did you mean 'max_samples'?)` and exit
code 2. Relative paths are relative to the directory you run from. A minimal config and
the bundled sample's are in [configs/](../configs/).

This page is generated from the config's code (`pipelines/config/sections.py`) by
`python -m pipelines.config.reference --write`; a test fails when the two disagree.
"""


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if value is None:
        return "(unset)"
    raise TypeError(f"no TOML for {value!r}")


def _default(f: dataclasses.Field) -> str:
    if "shown" in f.metadata:
        shown = f.metadata["shown"]
        return shown if shown == "required" else f"`{shown}`"
    value = f.default_factory() if f.default is dataclasses.MISSING else f.default
    return f"`{toml_value(value)}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _fields(cls) -> list[dataclasses.Field]:
    fields = [f for f in dataclasses.fields(cls) if not f.metadata.get("internal")]
    # A section's switch first, as a reader looks for it.
    return sorted(fields, key=lambda f: f.name != "enabled")


def undocumented() -> list[str]:
    """Config keys whose field carries no documentation."""
    missing = []
    for section in dataclasses.fields(Config):
        if section.metadata.get("internal"):
            continue
        if not section.metadata.get("doc"):
            missing.append(section.name)
        cls = _section_class(section)
        if cls is not None:
            missing += [f"{section.name}.{f.name}" for f in _fields(cls) if not f.metadata.get("doc")]
    return missing


def _section_class(section: dataclasses.Field):
    tp = typing.get_type_hints(Config)[section.name]
    if dataclasses.is_dataclass(tp):
        return tp
    args = typing.get_args(tp)
    if args and dataclasses.is_dataclass(args[0]):
        return args[0]
    return None


def render() -> str:
    out = [INTRO]
    for section in dataclasses.fields(Config):
        if section.metadata.get("internal"):
            continue
        cls = _section_class(section)
        listed = typing.get_origin(typing.get_type_hints(Config)[section.name]) is list
        title = f"[[{section.name}]]" if listed else f"[{section.name}]"
        out += [f"## `{title}`", "", section.metadata["doc"], ""]
        out += ["| key | default | meaning |", "|---|---|---|"]
        if cls is None:  # a free table: Spark's own keys
            out.append(f"| `{section.name}.*` | `{{}}` | any key of Spark's configuration, as a string |")
        else:
            prefix = f"{section.name}[]" if listed else section.name
            for f in _fields(cls):
                out.append(f"| `{prefix}.{f.name}` | {_default(f)} | {_cell(f.metadata['doc'])} |")
        out.append("")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m pipelines.config.reference", description=__doc__.split("\n")[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help=f"write {TARGET}")
    mode.add_argument("--check", action="store_true", help="exit 1 when the file is not what the code says")
    args = ap.parse_args(argv)
    text = render()
    if args.write:
        TARGET.parent.mkdir(parents=True, exist_ok=True)
        TARGET.write_text(text, encoding="utf-8")
        return 0
    if args.check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.is_file() else ""
        if current != text:
            print(f"{TARGET} is stale: run python -m pipelines.config.reference --write", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
