"""Run the benchmarks and print one table: ours, baseline, ratio (higher is better), target.
Ratios are medians over interleaved runs, with their range (min-max) where a row has runs;
a target is met when the median meets it.

    python -m benchmarks.run [--only NAME ...] [--json | --markdown]
    python -m benchmarks.run --load rows.json --markdown    # a saved run, rendered again
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys

from benchmarks.timing import ratio_text

# name -> (module, functions); each function returns one row.
BENCHMARKS = {
    "langid": ("benchmarks.bench_langid", ("run",)),
    "quality": ("benchmarks.bench_quality", ("run",)),
    "classifier": ("benchmarks.bench_classifier", ("run",)),
    "tokenize": ("benchmarks.bench_tokenize", ("run",)),
    "shards": ("benchmarks.bench_shards", ("run",)),
    "tiling": ("benchmarks.bench_tiling", ("run", "run_fast", "run_floor", "run_floor_web")),
    "video": ("benchmarks.bench_video", ("run", "run_keyframe")),
    "dedup": ("benchmarks.bench_dedup", ("run_signatures", "run_stage", "run_scaling")),
    "e2e_text": ("benchmarks.bench_e2e_text", ("run", "run_resiliparse")),
    "e2e": ("benchmarks.bench_e2e", ("run_vs_plain", "run_scaling_time", "run_scaling_memory")),
    "multimodal": ("benchmarks.bench_multimodal", ("run_wall", "run_marginal", "run_small")),
    "fetch": ("benchmarks.bench_fetch", ("run", "run_sequential")),
    "mixture": ("benchmarks.bench_mixture", ("run", "run_planner")),
    "decontam": ("benchmarks.bench_decontam", ("run",)),
    "metaclip": ("benchmarks.bench_metaclip", ("run",)),
    "packing": ("benchmarks.bench_packing", ("run",)),
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run")
    ap.add_argument("--only", nargs="*", choices=sorted(BENCHMARKS), help="run only these")
    out = ap.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print rows as JSON")
    out.add_argument("--markdown", action="store_true", help="print the table as Markdown (the README's)")
    ap.add_argument("--load", metavar="FILE", help="render rows saved with --json instead of running")
    args = ap.parse_args(argv)
    if args.load:
        rows = json.loads(open(args.load, encoding="utf-8").read())
        return _print(rows, args)
    rows = []
    for name in args.only or list(BENCHMARKS):
        print(f"running {name} ...", file=sys.stderr, flush=True)
        module, functions = BENCHMARKS[name]
        mod = importlib.import_module(module)
        for fn in functions:
            row = getattr(mod, fn)()
            # A row without a target is a comparison to see, not a gate.
            row["pass"] = row["target"] is None or row["ratio"] >= row["target"]
            rows.append(row)
    return _print(rows, args)


def _print(rows: list[dict], args) -> int:
    if args.json:
        print(json.dumps(rows, indent=2))
    elif args.markdown:
        print_markdown(rows)
    else:
        print_table(rows)
    return 0


def _target(r: dict) -> str:
    if r["target"] is None:
        return "(comparison)"
    return f">= {r['target']}x" + ("" if r["pass"] else " (not met)")


def print_markdown(rows: list[dict]) -> None:
    print("| benchmark | ours | baseline | ratio | target |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['name']} | {r['ours']} | {r['baseline']} | {ratio_text(r)} | {_target(r)} |")


def print_table(rows: list[dict]) -> None:
    header = ("benchmark", "ours", "baseline", "ratio", "target", "")
    body = [(r["name"], r["ours"], r["baseline"], ratio_text(r),
             f">= {r['target']}x" if r["target"] is not None else "-",
             ("ok" if r["pass"] else "BELOW") if r["target"] is not None else "") for r in rows]
    widths = [max(len(str(x[i])) for x in [header, *body]) for i in range(len(header))]
    def line(cells):
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"
    print(line(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for b in body:
        print(line(b))
    for r in rows:
        print(f"  {r['name']}: {r['detail']}")


if __name__ == "__main__":
    sys.exit(main())
