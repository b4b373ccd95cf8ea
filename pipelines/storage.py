"""Finding and opening inputs, writing outputs: local paths (S3 arrives with issue 8)."""

from __future__ import annotations

import glob
import os
from pathlib import Path


class InputNotFound(FileNotFoundError):
    pass


def _glob_base(pattern: str) -> str:
    parts = Path(pattern).parts
    base = []
    for p in parts:
        if any(c in p for c in "*?["):
            break
        base.append(p)
    return str(Path(*base)) if base else "."


def list_files(pattern: str) -> list[tuple[str, str]]:
    """(absolute path, path relative to the input's root) for a file, folder or glob, sorted.

    Ids derive from the relative path, so moving a dataset does not change them.
    """
    if pattern.startswith("s3://"):
        raise InputNotFound(f"{pattern}: s3:// inputs are not supported yet")
    path = Path(pattern).expanduser()
    if any(c in pattern for c in "*?["):
        base = _glob_base(str(path))
        found = [Path(p) for p in glob.glob(str(path), recursive=True)]
    elif path.is_dir():
        base = str(path)
        found = [p for p in path.rglob("*")]
    elif path.is_file():
        base = str(path.parent)
        found = [path]
    else:
        raise InputNotFound(f"{pattern}: no such file or folder")
    files = sorted(p for p in found if p.is_file() and not p.name.startswith("."))
    if not files:
        raise InputNotFound(f"{pattern}: matches no files")
    return [(str(p.resolve()), os.path.relpath(p, base)) for p in files]
