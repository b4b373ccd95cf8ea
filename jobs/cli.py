"""The `earlyfuse` command line: run, submit, stats, show."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_CONFIG = 2
EXIT_ENV = 3

SAMPLE_CONFIG = Path(__file__).resolve().parent.parent / "configs" / "sample.toml"


def _err(msg: str, code: int) -> int:
    print(f"earlyfuse: {msg}", file=sys.stderr)
    return code


def _human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def cmd_run(args) -> int:
    from pipelines.config import ConfigError, load_config
    from pipelines.spark import EnvironmentError_
    from pipelines.storage import InputNotFound

    path = Path(args.config) if args.config else SAMPLE_CONFIG
    try:
        cfg = load_config(path)
    except ConfigError as e:
        return _err(f"config error: {e}", EXIT_CONFIG)
    if args.output:
        cfg.run.output = args.output
    if args.master:
        cfg.run.master = args.master
    if args.no_progress:
        cfg.run.progress = False
    if getattr(args, "fresh", False):
        cfg.run.resume = False
    if cfg.sample.generate:
        from jobs.sample_data import generate_sample_inputs

        generate_sample_inputs(cfg.sample.generate)
    from pipelines.run import run_pipeline

    try:
        result = run_pipeline(cfg)
    except InputNotFound as e:
        return _err(f"input error: {e}", EXIT_CONFIG)
    except EnvironmentError_ as e:
        return _err(str(e), EXIT_ENV)
    except OSError as e:  # unwritable, a file where a folder should be, S3 refusing writes
        return _err(f"cannot write output: {e}", EXIT_CONFIG)
    if args.json:
        print(json.dumps({"output": result.output, "totals": result.manifest["totals"],
                          "stages": result.stages, "part_drops": result.part_drops,
                          "timings_s": result.timings, "resumed": result.resumed}, indent=2))
    else:
        print_run_summary(result)
    return 0


def print_run_summary(result) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    t = Table(title="earlyfuse run", title_justify="left")
    for col in ("stage", "in", "kept", "rejected", "top reasons"):
        t.add_column(col, justify="right" if col in ("in", "kept", "rejected") else "left")
    for s in result.stages:
        top = ", ".join(f"{k} {v}" for k, v in sorted(s["reasons"].items(), key=lambda kv: -kv[1])[:3])
        t.add_row(s["stage"], f"{s['in']:,}", f"{s['kept']:,}", f"{s['rejected']:,}", top)
    console.print(t)
    if result.part_drops:
        console.print("parts dropped inside kept documents: "
                      + ", ".join(f"{k} {v}" for k, v in result.part_drops.items()))
    tot = result.manifest["totals"]
    secs = result.timings.get("total", 0.0)
    if result.resumed:
        console.print("resumed from an interrupted run: " + ", ".join(result.resumed) + " taken from checkpoints")
    console.print(f"{tot['samples']:,} samples, {tot['tokens']:,} tokens in {tot['shards']} shards "
                  f"({_human(tot['bytes'])}) in {secs:.1f}s -> {result.output}", soft_wrap=True)


def cmd_stats(args) -> int:
    from pipelines.stats import NotAnOutput, summarize

    try:
        s = summarize(args.path, progress=not args.json and sys.stderr.isatty())
    except NotAnOutput as e:
        return _err(str(e), 1)
    verified = None
    if args.verify:
        from pipelines.verify import verify_output

        verified = verify_output(args.path)
        s["verify"] = verified
    if args.html:
        from pipelines import storage
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


def print_verify(v: dict) -> None:
    if v["ok"]:
        print(f"verify: {v['shards']} shards, {v['samples']:,} samples: all shards match the manifest, "
              f"every sample complete")
        return
    print(f"verify: {v['failed_shards']} of {v['shards']} shards FAILED", file=sys.stderr)
    for f in v["failures"]:
        for problem in f["problems"]:
            print(f"  {f['shard']}: {problem}", file=sys.stderr)


def print_stats(s: dict, top: int) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    tot = s["totals"]
    console.print(f"[bold]{s['path']}[/bold]  ({s['name']}, {s['code_version']}, tokenizer {s['tokenizer']['spec']})")
    if not s.get("has_manifest", True):
        console.print("[yellow]no manifest.json: an unfinished or copied output; totals come from scanning the tars[/yellow]")
    console.print(f"{tot['samples']:,} documents, {tot['tokens']:,} tokens "
                  f"({tot['text_tokens']:,} text, {tot['image_tokens']:,} image), {tot['images']:,} images, "
                  f"{tot['tiles']:,} tiles, {tot['shards']} shards, {_human(tot['bytes'])}")
    if tot.get("videos"):
        console.print(f"{tot['videos']:,} videos, {tot['frames']:,} frames, {tot['frame_tokens']:,} frame tokens "
                      f"(frames count among images and image tokens)")
    if s["modalities"]:
        console.print("modalities: " + ", ".join(f"{k} {v:,}" for k, v in s["modalities"].items()))
    if s["bytes_by_member"]:
        v = s.get("vision") or {}
        console.print("bytes by member: " + ", ".join(f"{k} {_human(n)}" for k, n in s["bytes_by_member"].items())
                      + (f"  (tiles stored as {v.get('layout')}/{v.get('tile_format')}, {v.get('mode')} mode)" if v else ""))
    for title, rows in (("languages", s["languages"]), ("sources", s["sources"])):
        t = Table(title=title, title_justify="left")
        for col in (title[:-1], "documents", "share", "tokens"):
            t.add_column(col, justify="left" if col == title[:-1] else "right")
        for r in rows[:top]:
            t.add_row(r["name"], f"{r['documents']:,}", f"{100 * r['share']:.1f}%", f"{r['tokens']:,}")
        if len(rows) > top:
            rest = rows[top:]
            t.add_row(f"({len(rest)} more)", f"{sum(r['documents'] for r in rest):,}",
                      f"{100 * sum(r['share'] for r in rest):.1f}%", f"{sum(r['tokens'] for r in rest):,}")
        console.print(t)
    t = Table(title="distributions", title_justify="left")
    for col in ("", "min", "p10", "p50", "p90", "p99", "max"):
        t.add_column(col, justify="right")
    for name, key, fmt in (("tokens/sample", "tokens_per_sample", lambda v: f"{v:,.0f}"),
                           ("images/doc", "images_per_doc", lambda v: f"{v:,.1f}"),
                           ("tiles/image", "tiles_per_image", lambda v: f"{v:,.1f}"),
                           ("samples/shard", "shard_samples", lambda v: f"{v:,.0f}"),
                           ("bytes/shard", "shard_bytes", _human)):
        d = s[key]
        if d.get("count"):
            t.add_row(name, *(fmt(d[k]) for k in ("min", "p10", "p50", "p90", "p99", "max")))
    console.print(t)
    print_histograms(console, s.get("histograms") or {})
    t = Table(title="drops by stage", title_justify="left")
    for col in ("stage", "in", "kept", "rejected", "reasons"):
        t.add_column(col, justify="right" if col in ("in", "kept", "rejected") else "left")
    for st in s["stages"]:
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(st["reasons"].items(), key=lambda kv: -kv[1]))
        t.add_row(st["stage"], f"{st['in']:,}", f"{st['kept']:,}", f"{st['rejected']:,}", reasons)
    console.print(t)
    if s.get("part_drops"):
        console.print("parts dropped inside kept documents: "
                      + ", ".join(f"{k} {v}" for k, v in s["part_drops"].items()))
    rates = s.get("dedup_rates") or {}
    if rates:
        console.print("dedup removed: " + ", ".join(
            f"{k} {r['removed']:,} of {r['in']:,} ({100 * r['rate']:.1f}%)" for k, r in rates.items()))
    print_dedup(console, s.get("dedup") or {})


HISTOGRAMS = (("tokens per sample", "tokens_per_sample", lambda v: f"{v:,.0f}"),
              ("images per document", "images_per_doc", lambda v: f"{v:,.0f}"),
              ("tiles per image", "tiles_per_image", lambda v: f"{v:,.0f}"),
              ("shard size", "shard_bytes", lambda v: _human(int(v))))


def bar_lines(edges: list[float], counts: list[int], fmt, discrete: bool = False, width: int = 40) -> list[str]:
    """One text line per bin: its value or range, a bar scaled to the fullest bin, the count."""
    if not counts:
        return []
    peak = max(counts) or 1
    labels = [fmt(edges[i] + 0.5) if discrete else f"{fmt(edges[i])}-{fmt(edges[i + 1])}" for i in range(len(counts))]
    pad = max(len(x) for x in labels)
    eighths = " ▏▎▍▌▋▊▉"
    out = []
    for label, c in zip(labels, counts):
        full, frac = divmod(round(8 * width * c / peak), 8)
        bar = "█" * full + (eighths[frac] if frac else "")
        out.append(f"  {label:>{pad}} │{bar:<{width}} {c:,}")
    return out


def print_histograms(console, hists: dict) -> None:
    for title, key, fmt in HISTOGRAMS:
        h = hists.get(key) or {}
        if sum(h.get("counts", [])) == 0:
            continue
        console.print(f"[bold]{title}[/bold]")
        for line in bar_lines(h["edges"], h["counts"], fmt, h.get("discrete", False)):
            console.print(line, highlight=False, soft_wrap=True)


DEDUP_KINDS = ("exact", "near", "images", "video")


def print_dedup(console, dedup: dict) -> None:
    """Clusters per dedup kind: how many, their members, what was removed, their sizes."""
    from rich.table import Table

    kinds = [k for k in DEDUP_KINDS if k in dedup]
    if not kinds:
        return
    t = Table(title="dedup clusters", title_justify="left")
    for col in ("kind", "clusters", "members", "removed", "largest", "sizes (size: clusters)", "details"):
        t.add_column(col, justify="right" if col in ("clusters", "members", "removed", "largest") else "left")
    for k in kinds:
        d = dedup[k]
        sizes = ", ".join(f"{size}: {n}" for size, n in list(d.get("size_histogram", {}).items())[:6])
        details = {"near": lambda: f"{d['candidate_pairs']:,} candidate pairs, {d['verified_pairs']:,} verified "
                                   f"({d['verify']}), {d['cc_rounds']} CC rounds",
                   "images": lambda: f"{d['images']:,} images, {d['distinct_images']:,} distinct, "
                                     f"{d['frequent_clusters']} frequent (> {d['max_docs_per_image']} docs): "
                                     f"{d['frequent_parts_dropped']} parts dropped",
                   "video": lambda: f"{d['videos']:,} videos, {d['verified_pairs']:,} matching pairs"}
        t.add_row(k, f"{d['clusters']:,}", f"{d['members']:,}", f"{d['removed']:,}", f"{d['largest']:,}",
                  sizes, details.get(k, lambda: "")())
    console.print(t)
    sh = dedup.get("shuffle")
    if sh:
        console.print(f"dedup shuffle: {_human(sh['shuffle_write_bytes'])} written, "
                      f"{_human(sh['shuffle_read_bytes'])} read, {sh['shuffle_write_records']:,} records, "
                      f"{sh['stages']} Spark stages")


def cmd_show(args) -> int:
    import io

    import numpy as np

    from pipelines import storage
    from pipelines.show import SampleNotFound, find_sample, render, write_images
    from tokenization import load_tokenizer

    try:
        shard, members = find_sample(args.path, key=args.key, index=None if args.key else args.index)
    except (SampleNotFound, FileNotFoundError) as e:
        return _err(str(e), 1)
    meta = json.loads(members["json"])
    tokens = np.load(io.BytesIO(members["tokens.npy"]), allow_pickle=False)
    manifest_path = storage.join(args.path, "manifest.json")
    manifest = json.loads(storage.read_bytes(manifest_path)) if storage.exists(manifest_path) else {}
    spec = manifest.get("tokenizer", {}).get("spec", "tiktoken:cl100k_base")
    text = render(meta, tokens, load_tokenizer(spec))
    files = write_images(meta, members, args.out, manifest.get("vision", {}).get("tile_size", 336)) if args.out else []
    if args.json:
        print(json.dumps({"shard": shard, "meta": meta, "text": text, "files": files}, indent=2, ensure_ascii=False))
        return 0
    score = f" ({meta['lang_score']:.2f})" if meta.get("lang_score") is not None else ""
    print(f"{shard}  {meta.get('id')}\nsource {meta.get('source')}  uri {meta.get('uri')}\n"
          f"lang {meta.get('lang')}{score}  {meta.get('n_tokens', 0):,} tokens "
          f"({meta.get('n_image_tokens', 0):,} image), {len(meta.get('images', []))} images\n")
    signals = meta.get("signals") or {}
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

    add_submit_parser(sub)
    return ap


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
