"""The `earlyfuse` command line: run, submit, stats, show."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from jobs.common import (
    EXIT_CONFIG,
    EXIT_ENV,
    EXIT_FAILURE,
    SAMPLE_CONFIG,
    apply_run_options,
    prepare_sample,
    result_doc,
)
from jobs.common import err as _err
from jobs.summary import print_run_summary, print_stats, print_verify


def cmd_run(args) -> int:
    from pipelines.config import ConfigError, load_config
    from pipelines.io.storage import InputNotFound
    from pipelines.spark import EnvironmentError_

    path = Path(args.config) if args.config else SAMPLE_CONFIG
    try:
        cfg = load_config(path)
    except ConfigError as e:
        return _err(f"config error: {e}", EXIT_CONFIG)
    apply_run_options(cfg, args)
    prepare_sample(cfg)
    from pipelines.lease import LeaseHeld
    from pipelines.run import RunFailed, run_pipeline

    try:
        result = run_pipeline(cfg)
    except LeaseHeld as e:  # another run holds the output: nothing was touched
        return _err(str(e), EXIT_CONFIG)
    except RunFailed as e:
        return _err(str(e), EXIT_FAILURE)
    except InputNotFound as e:
        return _err(f"input error: {e}", EXIT_CONFIG)
    except ConfigError as e:  # a mixture the counted tokens cannot hold, before any shard
        return _err(f"config error: {e}", EXIT_CONFIG)
    except EnvironmentError_ as e:
        return _err(str(e), EXIT_ENV)
    except OSError as e:  # unwritable, a file where a folder should be, S3 refusing writes
        return _err(f"cannot write output: {e}", EXIT_CONFIG)
    if args.json:
        print(json.dumps(result_doc(result), indent=2))
    else:
        print_run_summary(result)
    return 0


def cmd_stats(args) -> int:
    from pipelines.stats import NotAnOutput, summarize

    try:
        s = summarize(args.path, progress=not args.json and sys.stderr.isatty())
    except NotAnOutput as e:
        return _err(str(e), EXIT_FAILURE)
    verified = None
    if args.verify:
        from pipelines.verify import verify_output

        verified = verify_output(args.path)
        s["verify"] = verified
    if args.html:
        from pipelines.io import storage
        from pipelines.report_html import render

        storage.write_bytes(args.html, render(s, args.top).encode("utf-8"))
        print(f"wrote {args.html}", file=sys.stderr)
    if args.json:
        print(json.dumps(s, indent=2, ensure_ascii=False))
    else:
        print_stats(s, args.top)
        if verified is not None:
            print_verify(verified)
    return 1 if verified is not None and not verified["ok"] else 0


def cmd_show(args) -> int:
    import io

    import numpy as np

    from pipelines.io import storage
    from pipelines.show import SampleNotFound, find_sample, render, render_packed, write_images
    from tokenization import load_tokenizer

    try:
        shard, members = find_sample(args.path, key=args.key, index=None if args.key else args.index)
    except (SampleNotFound, FileNotFoundError) as e:
        return _err(str(e), EXIT_FAILURE)
    meta = json.loads(members["json"])
    tokens = np.load(io.BytesIO(members["tokens.npy"]), allow_pickle=False)
    manifest_path = storage.join(args.path, "manifest.json")
    manifest = json.loads(storage.read_bytes(manifest_path)) if storage.exists(manifest_path) else {}
    spec = manifest.get("tokenizer", {}).get("spec", "tiktoken:cl100k_base")
    packed = "seq_len" in meta
    text = (render_packed if packed else render)(meta, tokens, load_tokenizer(spec))
    files = write_images(meta, members, args.out, manifest.get("vision", {}).get("tile_size", 336)) if args.out else []
    if args.json:
        print(json.dumps({"shard": shard, "meta": meta, "text": text, "files": files}, indent=2, ensure_ascii=False))
        return 0
    if packed:
        docs = meta.get("documents", [])
        print(f"{shard}  {meta['key']}\nsequence of {meta['seq_len']:,} tokens: {meta['n_tokens']:,} in "
              f"{len({d['segment'] for d in docs})} segments holding {len(docs)} documents or pieces, "
              f"{meta['padding']:,} padding, {sum(len(d['images']) for d in docs)} images\n")
        print(text)
        if files:
            print(f"\nwrote {len(files)} PNG files to {args.out}", file=sys.stderr)
        return 0
    score = f" ({meta['lang_score']:.2f})" if meta.get("lang_score") is not None else ""
    print(f"{shard}  {meta.get('id')}\nsource {meta.get('source')}  uri {meta.get('uri')}\n"
          f"lang {meta.get('lang')}{score}  {meta.get('n_tokens', 0):,} tokens "
          f"({meta.get('n_image_tokens', 0):,} image), {len(meta.get('images', []))} images\n")
    from pipelines.shards import signal_dict

    signals = signal_dict(meta.get("signals"))
    if signals:
        print("signals:")
        for group, items in _grouped(signals).items():
            print(f"  {group}: " + ", ".join(f"{k} {v:g}" for k, v in items))
        print()
    print(text)
    if files:
        print(f"\nwrote {len(files)} PNG files to {args.out}", file=sys.stderr)
    return 0


def _grouped(signals: dict) -> dict[str, list]:
    """`gopher.word_count` -> {"gopher": [("word_count", v)]}, groups in first-seen order."""
    groups: dict[str, list] = {}
    for k in sorted(signals):
        group, _, name = k.partition(".")
        groups.setdefault(group if name else "other", []).append((name or k, signals[k]))
    return groups


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="earlyfuse", description="Multimodal pretraining data on Spark.")
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a pipeline (default: the bundled sample on Spark local mode)")
    r.add_argument("config", nargs="?", help="TOML config (default: configs/sample.toml)")
    r.add_argument("--output", help="override run.output")
    r.add_argument("--master", help="override run.master, e.g. local[2]")
    r.add_argument("--no-progress", action="store_true", help="no live progress line")
    r.add_argument("--json", action="store_true", help="print the result as JSON")
    r.add_argument("--fresh", action="store_true",
                   help="ignore the checkpoints of an interrupted run with the same config")
    r.add_argument("--force", action="store_true",
                   help="take the output's lease even from another run that seems alive")
    r.set_defaults(func=cmd_run)
    s = sub.add_parser("stats", help="summarise a finished output folder")
    s.add_argument("path")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.add_argument("--html", metavar="FILE", help="also write a self-contained HTML report with plots "
                                                  "(a local path or s3:// URI)")
    s.add_argument("--top", type=int, default=20, help="rows per table before the tail (default 20)")
    s.add_argument("--verify", action="store_true",
                   help="check every shard against the manifest (sha256, tar, samples, tokens, tiles); "
                        "exit 1 on any failure")
    s.set_defaults(func=cmd_stats)
    w = sub.add_parser("show", help="one sample decoded: text with image markers; tiles as PNG")
    w.add_argument("path")
    pick = w.add_mutually_exclusive_group()
    pick.add_argument("--key", help="the sample's key or document id")
    pick.add_argument("--index", type=int, default=0, help="the N-th sample in manifest order (default 0)")
    w.add_argument("--out", help="write the tiles and each reassembled image here as PNG")
    w.add_argument("--json", action="store_true", help="machine-readable output")
    w.set_defaults(func=cmd_show)
    from jobs.submit import add_submit_parser
    from jobs.train_classifier import add_parser as add_train_classifier_parser

    add_submit_parser(sub)
    add_train_classifier_parser(sub)
    return ap


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
