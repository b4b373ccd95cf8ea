"""Local paths and s3:// URIs as strings: joining, parents, relative resolution, globs."""

from __future__ import annotations

import fnmatch
import os
import posixpath
from pathlib import Path


def is_s3(uri: str) -> bool:
    return uri[:5].lower() == "s3://"


def split(uri: str) -> tuple[str, str]:
    """s3://bucket/key -> (bucket, key); the key may be empty."""
    if not uri.lower().startswith("s3://"):
        raise ValueError(f"{uri}: not an s3:// URI")
    bucket, _, key = uri[5:].partition("/")
    if not bucket:
        raise ValueError(f"{uri}: no bucket name")
    return bucket, key


def join(base: str, *parts: str) -> str:
    """os.path.join for local paths; for s3:// one "/" between parts, whatever their slashes."""
    if not is_s3(base):
        return os.path.join(base, *parts)
    out = base.rstrip("/")
    for p in parts:
        p = p.strip("/")
        if p:
            out = f"{out}/{p}"
    return out


def parent(uri: str) -> str:
    """The folder holding a file or object: s3://b/d/x -> s3://b/d, s3://b/x -> s3://b."""
    if not is_s3(uri):
        return os.path.dirname(uri)
    bucket, key = split(uri)
    folder = key.rstrip("/").rpartition("/")[0]
    return f"s3://{bucket}/{folder}" if folder else f"s3://{bucket}"


def resolve(base: str, rel: str) -> str:
    """rel against the folder base, normalised ("../x" climbs, never above an S3 bucket);
    an absolute path or s3:// URI in rel is returned as it is."""
    if is_s3(rel):
        return rel
    if not is_s3(base):
        return os.path.normpath(os.path.join(base, rel))
    bucket, key = split(base)
    joined = posixpath.normpath(posixpath.join("/", key, rel)).lstrip("/")
    return f"s3://{bucket}/{joined}" if joined else f"s3://{bucket}"


def glob_base(pattern: str) -> str:
    parts = Path(pattern).parts
    base = []
    for p in parts:
        if any(c in p for c in "*?["):
            break
        base.append(p)
    return str(Path(*base)) if base else "."


def has_magic(s: str) -> bool:
    return any(c in s for c in "*?[")


def visible(key: str) -> bool:
    """Objects, not folder markers or hidden files (same rule as the local walk)."""
    return not key.endswith("/") and not key.rsplit("/", 1)[-1].startswith(".")


def match_segment(pat: str, name: str) -> bool:
    # Like glob: wildcards do not match names starting with "." unless the pattern does.
    if name.startswith(".") and not pat.startswith(".") and has_magic(pat):
        return False
    return fnmatch.fnmatchcase(name, pat)


def match(pats: list[str], names: list[str]) -> bool:
    """glob(recursive=True) semantics per path segment; "**" spans zero or more segments."""
    if not pats:
        return not names
    head = pats[0]
    if head == "**":
        for i in range(len(names) + 1):
            if i > 0 and names[i - 1].startswith("."):
                break  # ** does not descend into hidden folders
            if match(pats[1:], names[i:]):
                return True
        return False
    return bool(names) and match_segment(head, names[0]) and match(pats[1:], names[1:])
