"""What the command line prints for people: the run summary, `stats` tables and terminal
histograms, the dedup clusters. `--json` prints the same facts for machines instead."""

from __future__ import annotations

import sys

from pipelines.stats import human_bytes as _human


def print_run_summary(result) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    t = Table(title="earlyfuse run", title_justify="left")
    for col in ("stage", "in", "kept", "rejected", "seconds", "top reasons"):
        t.add_column(col, justify="right" if col in ("in", "kept", "rejected", "seconds") else "left")
    seconds = getattr(result, "stage_seconds", {}) or {}
    for s in result.stages:
        top = ", ".join(f"{k} {v}" for k, v in sorted(s["reasons"].items(), key=lambda kv: -kv[1])[:3])
        secs = seconds.get(s["stage"])
        t.add_row(s["stage"], f"{s['in']:,}", f"{s['kept']:,}", f"{s['rejected']:,}",
                  "" if secs is None else f"{secs:.1f}", top)
    console.print(t)
    if result.part_drops:
        console.print("parts dropped inside kept documents: "
                      + ", ".join(f"{k} {v}" for k, v in result.part_drops.items()))
    print_skipped(console, getattr(result, "skipped_files", {}) or {})
    from pipelines.stats import curation_lines

    for line in curation_lines(getattr(result, "curation", {}) or {}):
        console.print(f"[bold red]{line}[/bold red]" if line.startswith("WARNING") else line, soft_wrap=True,
                      markup=line.startswith("WARNING"))
    mix = result.manifest.get("mixture")
    if mix:
        from pipelines.mixture.report import headline, summary

        by_lang: dict[str, int] = {}
        for b in mix["buckets"]:
            by_lang[b["lang"]] = by_lang.get(b["lang"], 0) + b["written_tokens"]
        for line in headline(summary(mix, by_lang)):
            console.print(line, soft_wrap=True)
    tot = result.manifest["totals"]
    secs = result.timings.get("total", 0.0)
    for note in getattr(result, "notes", []) or []:
        console.print(note, soft_wrap=True)
    if result.resumed:
        console.print("reused from an earlier run: " + ", ".join(result.resumed) + " taken from its checkpoints")
    from pipelines.stats import packing_lines

    for line in packing_lines(result.manifest.get("packing") or {}):
        console.print(line, soft_wrap=True)
    console.print(f"{tot['samples']:,} samples, {tot['tokens']:,} tokens in {tot['shards']} shards "
                  f"({_human(tot['bytes'])}) in {secs:.1f}s -> {result.output}", soft_wrap=True)


def print_mixture(console, m: dict, top: int) -> None:
    """Target against realized per language, the largest targets first."""
    if not m:
        return
    from rich.table import Table

    from pipelines.mixture.report import headline

    for line in headline(m):
        console.print(line, soft_wrap=True)
    t = Table(title="mixture by language", title_justify="left")
    for col in ("language", "available", "target", "realized", "epochs", "realized/target"):
        t.add_column(col, justify="left" if col == "language" else "right")
    for r in m["languages"][:top]:
        ratio = f"{r['realized_vs_target']:.4f}" if r["realized_vs_target"] is not None else "-"
        t.add_row(r["name"], f"{r['available_tokens']:,}", f"{r['target_tokens']:,.0f}", f"{r['realized_tokens']:,}",
                  f"{r['epochs']:.3g}", ratio)
    if len(m["languages"]) > top:
        t.add_row(f"({len(m['languages']) - top} more)", "", "", "", "", "")
    console.print(t)


def print_fetched(console, fetched: dict) -> None:
    """Images fetched by URL; their failures are the `fetch_*` part drops and rejections."""
    if fetched:
        rate = fetched.get("images_per_task_s")
        console.print(f"images fetched by URL: {fetched['images']:,} ({_human(fetched['bytes'])})"
                      + (f", {rate:,.1f} per task-second" if rate else ""))


def print_skipped(console, skipped: dict) -> None:
    """Files under the inputs' paths that no reader took, per source and reason."""
    if skipped:
        console.print("files not read: " + "; ".join(
            f"{src}: " + ", ".join(f"{reason} {n}" for reason, n in reasons.items())
            for src, reasons in sorted(skipped.items())))


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
        console.print("[yellow]no manifest.json: an unfinished or copied output; "
                      "totals come from scanning the tars[/yellow]")
    console.print(f"{tot['documents']:,} documents, {tot['tokens']:,} tokens "
                  f"({tot['text_tokens']:,} text, {tot['image_tokens']:,} image), {tot['images']:,} images, "
                  f"{tot['tiles']:,} tiles, {tot['shards']} shards, {_human(tot['bytes'])}")
    from pipelines.stats import packing_lines

    for line in packing_lines(s.get("packing") or {}):
        console.print(line, soft_wrap=True)
    if tot.get("videos"):
        console.print(f"{tot['videos']:,} videos, {tot['frames']:,} frames, {tot['frame_tokens']:,} frame tokens "
                      f"(frames count among images and image tokens)")
    if s["modalities"]:
        console.print("modalities: " + ", ".join(f"{k} {v:,}" for k, v in s["modalities"].items()))
    if s["bytes_by_member"]:
        v = s.get("vision") or {}
        stored = f"  (tiles stored as {v.get('layout')}/{v.get('tile_format')}, {v.get('mode')} mode)" if v else ""
        console.print("bytes by member: " + ", ".join(f"{k} {_human(n)}" for k, n in s["bytes_by_member"].items())
                      + stored)
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
    print_fetched(console, s.get("fetched") or {})
    from pipelines.stats import curation_lines

    for line in curation_lines(s.get("curation") or {}):
        console.print(line, soft_wrap=True)
    print_skipped(console, s.get("skipped_files") or {})
    print_mixture(console, s.get("mixture") or {}, top)
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


def _dedup_details(kind: str, d: dict) -> str:
    if kind == "near":
        return (f"{d['candidate_pairs']:,} candidate pairs, {d['verified_pairs']:,} verified ({d['verify']}), "
                f"{d['cc_rounds']} CC rounds")
    if kind == "images":
        return (f"{d['images']:,} images, {d['distinct_images']:,} distinct, {d['frequent_clusters']} frequent "
                f"(> {d['max_docs_per_image']} docs): {d['frequent_parts_dropped']} parts dropped")
    if kind == "video":
        return f"{d['videos']:,} videos, {d['verified_pairs']:,} matching pairs"
    if kind == "metaclip":
        head = d["top_entries"][0] if d.get("top_entries") else None
        return (f"{d['pairs']:,} pairs, {d['entries_matched']:,} of {d['entries']:,} entries matched "
                f"({100 * d['share_entries_under_t']:.1f}% under t = {d['t']:,}), {d['pairs_no_entry']:,} without "
                f"an entry, {d['pairs_kept']:,} kept"
                + (f"; top entry '{head['entry']}' {head['before']:,} -> {head['after']:,} pairs" if head else ""))
    return ""


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
        t.add_row(k, f"{d['clusters']:,}", f"{d['members']:,}", f"{d['removed']:,}", f"{d['largest']:,}",
                  sizes, _dedup_details(k, d))
    console.print(t)
    sh = dedup.get("shuffle")
    if sh:
        console.print(f"dedup shuffle: {_human(sh['shuffle_write_bytes'])} written, "
                      f"{_human(sh['shuffle_read_bytes'])} read, {sh['shuffle_write_records']:,} records, "
                      f"{sh['stages']} Spark stages")


