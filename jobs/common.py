"""What every entry point shares: exit codes, the one-line error, the run options that
override a config, and the bundled sample."""

from __future__ import annotations

import sys
from pathlib import Path

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_CONFIG = 2   # bad config, missing input or unwritable output: the user fixes a file or a path
EXIT_ENV = 3      # the machine lacks something (Java, pyspark, venv-pack)

# `earlyfuse submit` -> a client-mode driver: the FIFO the driver sends its stderr to.
STDERR_ENV = "EARLYFUSE_DRIVER_STDERR"

SAMPLE_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "sample.toml"


def err(msg: str, code: int, prog: str = "earlyfuse") -> int:
    """Print one line on stderr and return the exit code, for `return err(...)`."""
    print(f"{prog}: {msg}", file=sys.stderr, flush=True)
    return code


def apply_run_options(cfg, args) -> None:
    """The command-line options that override the config's [run] table (`earlyfuse run`,
    `earlyfuse submit` and the spark-submit entry take the same ones)."""
    if getattr(args, "output", None):
        cfg.run.output = args.output
    if getattr(args, "master", None):
        cfg.run.master = args.master
    if getattr(args, "no_progress", False):
        cfg.run.progress = False
    if getattr(args, "fresh", False):
        cfg.run.resume = False
    if getattr(args, "force", False):
        cfg.run.force = True


def prepare_sample(cfg) -> None:
    """Generate the sample's inputs when the config asks for them and they are missing. The
    generator is a launcher's job: it is not shipped to a cluster."""
    if cfg.sample.generate:
        from jobs.sample import generate_sample_inputs

        generate_sample_inputs(cfg.sample.generate)


def result_doc(result, **extra) -> dict:
    """A finished run as `--json` prints it."""
    return {"output": result.output, "totals": result.manifest["totals"], "stages": result.stages,
            "part_drops": result.part_drops, "skipped_files": result.skipped_files,
            "timings_s": result.timings, "resumed": result.resumed, "notes": getattr(result, "notes", []),
            **extra}
