"""Config fields that carry their documentation: every config dataclass (the pipeline's
sections, the quality thresholds) declares its fields with `opt`, and docs/config.md is
generated from what they say (pipelines/config/reference.py)."""

from __future__ import annotations

from dataclasses import MISSING, field


def opt(default=MISSING, doc: str = "", *, factory=None, shown: str | None = None):
    """A dataclass field with its user documentation. `factory` for mutable defaults;
    `shown` replaces the default in the reference when the value is computed (e.g. "run.name")."""
    meta = {"doc": doc}
    if shown is not None:
        meta["shown"] = shown
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)
