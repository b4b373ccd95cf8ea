"""What `earlyfuse submit` ships: the project's packages as a deterministic zip for
`--py-files`, and (with --pack-env) the virtualenv packed by venv-pack for `--archives`.
Both are content-addressed in a staging folder, so an unchanged project or environment is
not zipped or packed again."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from jobs.common import EXIT_CONFIG, EXIT_ENV

# The project's importable packages (pyproject's `packages.find`) and their data files
# (pyproject's `package-data`).
PACKAGES = ("pipelines", "filters", "tokenization", "vision_prep", "jobs")
DATA_SUFFIXES = (".toml", ".txt", ".json")
# Launcher-side tools the job never imports: the sample generator runs before spark-submit.
NOT_SHIPPED = ("jobs/sample/",)
# Zip entries carry this timestamp, so the archive depends only on the files' contents.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
# Kept in the staging folder: a few code zips, two packed environments (about 1 GB each).
KEEP_CODE_ZIPS = 10
KEEP_ENV_ARCHIVES = 2


class PackagingError(RuntimeError):
    """A packaging step the user fixes (install venv-pack, run from a venv); `code` is the
    exit code."""

    def __init__(self, msg: str, code: int = EXIT_ENV):
        super().__init__(msg)
        self.code = code


def package_files() -> list[tuple[str, Path]]:
    """(name inside the zip, file) for every module and data file of the project's packages.

    Packages are found where Python imports them from (the source tree for an editable
    install, site-packages otherwise), so what is shipped is what runs locally.
    """
    files = []
    for pkg in PACKAGES:
        spec = importlib.util.find_spec(pkg)
        if spec is None or not spec.submodule_search_locations:
            raise PackagingError(f"package '{pkg}' not found: is earlyfuse installed?")
        root = Path(list(spec.submodule_search_locations)[0])
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.startswith("."))
            for fn in sorted(filenames):
                if fn.startswith(".") or not (fn.endswith(".py") or fn.endswith(DATA_SUFFIXES)):
                    continue
                path = Path(dirpath) / fn
                name = (Path(pkg) / path.relative_to(root)).as_posix()
                if not name.startswith(NOT_SHIPPED):
                    files.append((name, path))
    return sorted(files)


def write_code_zip(dest: Path) -> Path:
    """The packages as a zip whose bytes depend only on the files' names and contents."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
            for name, path in package_files():
                info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                info.create_system = 3  # unix, whatever the host
                zf.writestr(info, path.read_bytes(), compresslevel=9)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def prune(staging: Path, pattern: str, keep: int, current: Path) -> None:
    """Remove all but the `keep` newest files matching `pattern` (never `current`): the
    staging folder must not fill up with an archive per code or package change."""
    files = sorted((p for p in staging.glob(pattern) if p != current),
                   key=lambda p: p.stat().st_mtime, reverse=True)
    for old in files[max(keep - 1, 0):]:
        old.unlink(missing_ok=True)


def build_code_zip(staging: Path) -> Path:
    """`<staging>/earlyfuse-code-<sha256[:12]>.zip`, content-addressed: same code, same file."""
    staging.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=staging) as tmp:
        built = write_code_zip(Path(tmp) / "code.zip")
        digest = hashlib.sha256(built.read_bytes()).hexdigest()[:12]
        final = staging / f"earlyfuse-code-{digest}.zip"
        if not final.is_file():
            os.replace(built, final)
    prune(staging, "earlyfuse-code-*.zip", KEEP_CODE_ZIPS, final)
    return final


def current_venv() -> Path:
    if sys.prefix == sys.base_prefix:
        raise PackagingError("--pack-env needs earlyfuse to run from a virtualenv "
                             f"({sys.executable} is not in one)", EXIT_CONFIG)
    return Path(sys.prefix)


def env_fingerprint(prefix: Path, python_prefix: str | None = None) -> str:
    """Changes when a package is added, removed or upgraded, or a model file changes."""
    h = hashlib.sha256()
    h.update(f"{sys.version}\n{python_prefix or ''}\n".encode())
    for site in sorted(prefix.glob("lib/python*/site-packages")):
        for entry in sorted(site.iterdir()):
            if entry.name.endswith((".dist-info", ".egg-info", ".pth")):
                st = entry.stat()
                h.update(f"{entry.name} {st.st_mtime_ns}\n".encode())
    models = prefix / "share" / "earlyfuse" / "models"
    if models.is_dir():
        for f in sorted(models.iterdir()):
            st = f.stat()
            h.update(f"model {f.name} {st.st_size} {st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:12]


# Left out of the archive: the editable-install hook points at this machine's source tree
# (the code travels in the --py-files zip instead), and the activate scripts.
PACK_EXCLUDES = ("lib/python*/site-packages/__editable__*",)


def env_archive_path(staging: Path, prefix: Path, python_prefix: str | None = None) -> Path:
    return staging / f"earlyfuse-env-{env_fingerprint(prefix, python_prefix)}.tar.gz"


def pack_env(dest: Path, prefix: Path, python_prefix: str | None = None,
             compress_level: int = 1) -> float:
    """Pack the virtualenv at `prefix` into `dest` with venv-pack; returns the seconds taken."""
    try:
        import venv_pack
    except ImportError:
        raise PackagingError("--pack-env needs venv-pack: pip install venv-pack") from None
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp.tar.gz")
    t0 = time.monotonic()
    try:
        venv_pack.pack(prefix=str(prefix), output=str(tmp), format="tar.gz", force=True,
                       python_prefix=python_prefix, compress_level=compress_level,
                       filters=[("exclude", p) for p in PACK_EXCLUDES])
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except venv_pack.core.VenvPackException as e:
        raise PackagingError(f"venv-pack: {e}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return time.monotonic() - t0


def default_staging_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "earlyfuse" / "submit"
