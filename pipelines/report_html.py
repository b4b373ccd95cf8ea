"""`earlyfuse stats --html`: the summary as one self-contained HTML page of plots.

Figures are drawn with matplotlib's Agg backend and embedded as base64 PNG, so the file can
be mailed, attached to a ticket or opened from S3 without a server or a folder of images.
"""

from __future__ import annotations

import base64
import html
import io

import numpy as np

from pipelines.stats import human_bytes as _human

KEPT, REJECTED, TEXT, IMAGE, FRAME = "#4c78a8", "#e45756", "#4c78a8", "#f58518", "#54a24b"


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(w: float = 6.0, h: float = 3.2):
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(w, h))
    ax.spines[["top", "right"]].set_visible(False)
    return fig, ax


def hist_figure(title: str, h: dict, xlabel: str, log_x: bool, fmt=None) -> str | None:
    if not h or sum(h.get("counts", [])) == 0:
        return None
    fig, ax = _figure()
    edges, counts = np.asarray(h["edges"]), np.asarray(h["counts"])
    if h.get("discrete"):
        ax.bar(edges[:-1] + 0.5, counts, width=0.8, color=TEXT)
        ax.set_xticks(edges[:-1] + 0.5)
    else:
        ax.stairs(counts, edges, fill=True, color=TEXT, alpha=0.85)
        if log_x and edges[0] > 0:
            ax.set_xscale("log")
    if fmt:
        ax.xaxis.set_major_formatter(lambda v, _pos: fmt(v))
        ax.xaxis.set_minor_formatter(lambda v, _pos: fmt(v) if log_x and str(round(v))[0] in "25" else "")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("count")
    return _png(fig)


def bars_figure(title: str, labels: list[str], values: list[float], xlabel: str, color=TEXT) -> str | None:
    if not labels:
        return None
    fig, ax = _figure(6.0, max(1.6, 0.32 * len(labels) + 0.8))
    y = np.arange(len(labels))[::-1]
    ax.barh(y, values, color=color)
    ax.set_yticks(y, labels)
    for yi, v in zip(y, values):
        ax.text(v, yi, f" {v:,.0f}", va="center", fontsize=8)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.margins(x=0.15)
    return _png(fig)


def tokens_figure(tot: dict) -> str | None:
    frame = tot.get("frame_tokens", 0)
    parts = [("text", tot.get("text_tokens", 0), TEXT), ("image", tot.get("image_tokens", 0) - frame, IMAGE),
             ("video frame", frame, FRAME)]
    parts = [p for p in parts if p[1] > 0]
    if not parts:
        return None
    fig, ax = _figure(6.0, 1.6)
    left = 0
    total = sum(p[1] for p in parts)
    for name, v, color in parts:
        ax.barh([0], [v], left=left, color=color, label=f"{name} {v:,} ({100 * v / total:.1f}%)")
        left += v
    ax.set_yticks([])
    ax.set_xlabel("tokens")
    ax.set_title("tokens by modality")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.45), ncol=3, frameon=False, fontsize=8)
    return _png(fig)


def stages_figure(stages: list[dict]) -> str | None:
    if not stages:
        return None
    fig, ax = _figure(6.0, 0.4 * len(stages) + 1.0)
    names = [s["stage"] for s in stages]
    y = np.arange(len(stages))[::-1]
    kept = [s["kept"] for s in stages]
    rej = [s["rejected"] for s in stages]
    ax.barh(y, kept, color=KEPT, label="kept")
    ax.barh(y, rej, left=kept, color=REJECTED, label="rejected")
    ax.set_yticks(y, names)
    ax.set_xlabel("documents")
    ax.set_title("documents through each stage")
    ax.legend(frameon=False, fontsize=8)
    return _png(fig)


def mixture_figure(m: dict) -> str | None:
    """Per language, largest first: tokens available, planned and realized in the shards, on
    a log axis (200 languages span seven orders of magnitude)."""
    rows = sorted(m.get("languages") or [], key=lambda r: (-r["available_tokens"], r["name"]))
    if not rows:
        return None
    fig, ax = _figure(max(6.0, min(18.0, 0.09 * len(rows) + 4)), 3.6)
    x = np.arange(len(rows))
    ax.bar(x, [max(r["available_tokens"], 1) for r in rows], color="#d0d0d0", label="available")
    ax.plot(x, [max(r["target_tokens"], 1) for r in rows], "_", color=IMAGE, markersize=10, mew=2, label="target")
    ax.plot(x, [max(r["realized_tokens"], 1) for r in rows], ".", color=TEXT, label="realized")
    ax.set_yscale("log")
    if len(rows) <= 60:
        ax.set_xticks(x, [r["name"] for r in rows], rotation=90, fontsize=7)
    else:
        ax.set_xticks([])
        ax.set_xlabel(f"{len(rows)} languages, by tokens available")
    ax.set_ylabel("tokens")
    ax.set_title(f"mixture ({m['method']}): target and realized tokens per language")
    ax.legend(frameon=False, fontsize=8)
    return _png(fig)


def metaclip_figure(m: dict) -> str | None:
    """Entries by their number of pairs, before and after balancing, on log axes: the head
    pulled down to t, the tail untouched."""
    h = m.get("count_histogram") or {}
    if not h.get("edges"):
        return None
    fig, ax = _figure()
    edges = np.asarray(h["edges"], dtype=float)
    ax.stairs(np.maximum(h["before"], 0.8), edges, color=REJECTED, label="before", linewidth=1.5)
    ax.stairs(np.maximum(h["after"], 0.8), edges, color=KEPT, label="after", linewidth=1.5)
    ax.axvline(m["t"], color="#888", linestyle="--", linewidth=1, label=f"t = {m['t']:,}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("pairs per entry")
    ax.set_ylabel("entries")
    ax.set_title("MetaCLIP balancing: entries by pair count")
    ax.legend(frameon=False, fontsize=8)
    return _png(fig)


def _top(rows: list[dict], top: int) -> tuple[list[str], list[float]]:
    labels = [r["name"] for r in rows[:top]]
    values = [r["documents"] for r in rows[:top]]
    if len(rows) > top:
        labels.append(f"({len(rows) - top} more)")
        values.append(sum(r["documents"] for r in rows[top:]))
    return labels, values


def _table(header: list[str], rows: list[list], cls: str = "") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table class='{cls}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


CSS = """body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1320px}
h1{font-size:20px;margin:0 0 4px}.sub{color:#666;font-size:13px;margin-bottom:16px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin-bottom:18px}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:110px}
.card b{display:block;font-size:18px}.card span{color:#666;font-size:12px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:14px}
figure{margin:0;border:1px solid #eee;border-radius:6px;padding:6px}figure img{max-width:100%}
table{border-collapse:collapse;font-size:12px;margin:8px 0 18px}
td,th{border-bottom:1px solid #eee;padding:3px 10px;text-align:right}
td:first-child,th:first-child,.reasons td:last-child,.reasons th:last-child{text-align:left}
h2{font-size:16px;margin-top:22px}
.warn{color:#a15c00}"""


def render(s: dict, top: int = 15) -> str:
    """The whole page for one `summarize` result."""
    tot = s["totals"]
    cards = [("documents", f"{tot.get('documents', tot.get('samples', 0)):,}"), ("tokens", f"{tot.get('tokens', 0):,}"),
             ("images", f"{tot.get('images', 0):,}"), ("tiles", f"{tot.get('tiles', 0):,}"),
             ("videos", f"{tot.get('videos', 0):,}"), ("frames", f"{tot.get('frames', 0):,}"),
             ("shards", f"{tot.get('shards', 0):,}"), ("bytes", _human(tot.get("bytes", 0)))]
    hists = s.get("histograms", {})
    figures = [
        ("tokens by modality", tokens_figure(tot)),
        ("tokens per sample", hist_figure("tokens per sample", hists.get("tokens_per_sample"), "tokens", True,
                                          lambda v: f"{v:,.0f}")),
        ("languages", bars_figure(f"documents by language (top {top})", *_top(s["languages"], top), "documents")),
        ("sources", bars_figure("documents by source", *_top(s["sources"], top), "documents")),
        ("modalities", bars_figure("documents by modality", list(s["modalities"]), list(s["modalities"].values()),
                                   "documents", IMAGE)),
        ("images per document", hist_figure("images per document", hists.get("images_per_doc"), "images", False)),
        ("tiles per image", hist_figure("tiles per image", hists.get("tiles_per_image"), "tiles", False)),
        ("shard sizes", hist_figure("shard sizes", hists.get("shard_bytes"), "bytes", True, _human)),
        ("stages", stages_figure(s.get("stages", []))),
    ]
    if (s.get("dedup") or {}).get("metaclip"):
        figures.append(("metaclip", metaclip_figure(s["dedup"]["metaclip"])))
    mix = s.get("mixture") or {}
    if mix:
        figures.insert(1, ("mixture", mixture_figure(mix)))
    if (s.get("packing") or {}).get("shard_efficiency_hist"):
        figures.insert(1, ("packing efficiency", hist_figure(
            "packing efficiency per shard (non-pad share)", s["packing"]["shard_efficiency_hist"], "% of tokens",
            False, lambda v: f"{v:.1f}%")))
    rates = s.get("dedup_rates") or {}
    if rates:
        kinds = [k for k in rates if k != "total"]
        figures.append(("dedup", bars_figure("documents removed by dedup", kinds,
                                             [rates[k]["removed"] for k in kinds], "documents", REJECTED)))
    imgs = "".join(f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,{png}"></figure>'
                   for name, png in figures if png)
    reasons = [[st["stage"], f"{st['in']:,}", f"{st['kept']:,}", f"{st['rejected']:,}",
                ", ".join(f"{k} {v:,}" for k, v in sorted(st["reasons"].items(), key=lambda kv: -kv[1]))]
               for st in s.get("stages", [])]
    dists = [[name, *(f"{d[k]:,.1f}" for k in ("min", "p10", "p50", "p90", "p99", "max"))]
             for name, d in (("tokens/sample", s["tokens_per_sample"]), ("images/doc", s["images_per_doc"]),
                             ("tiles/image", s["tiles_per_image"]), ("samples/shard", s["shard_samples"]),
                             ("bytes/shard", s["shard_bytes"])) if d.get("count")]
    dedup = [[k, f"{r['in']:,}", f"{r['removed']:,}", f"{100 * r['rate']:.2f}%"] for k, r in rates.items()]
    parts = [[k, f"{v:,}"] for k, v in sorted((s.get("part_drops") or {}).items(), key=lambda kv: -kv[1])]
    fetched = s.get("fetched") or {}
    if fetched:
        cards.append(("fetched images", f"{fetched.get('images', 0):,}"))
    from pipelines.stats import curation_lines

    curation = "".join(f"<li{' class=warn' if line.startswith('WARNING') else ''}>{html.escape(line)}</li>"
                       for line in curation_lines(s.get("curation") or {}))
    packing = s.get("packing") or {}
    if packing:
        cards[1:1] = [("sequences", f"{packing['scanned']['sequences']:,}"),
                      ("packing efficiency", f"{100 * packing['scanned_efficiency']:.2f}%")]
    from pipelines.stats import packing_lines

    packed = "".join(f"<li>{html.escape(line.strip())}</li>" for line in packing_lines(packing))
    mixture = f"<h2>Packing</h2><ul>{packed}</ul>" if packed else ""
    if mix:
        from pipelines.mixture.report import headline

        rows = [[r["name"], f"{r['documents']:,}", f"{r['available_tokens']:,}", f"{r['target_tokens']:,.0f}",
                 f"{r['realized_tokens']:,}", f"{r['epochs']:.3g}",
                 f"{r['realized_vs_target']:.4f}" if r["realized_vs_target"] is not None else "-"]
                for r in mix["languages"][:top]]
        mixture += ("<h2>Mixture</h2><ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in headline(mix)) + "</ul>"
                   + _table(["language", "documents", "available", "target", "realized", "epochs",
                             "realized/target"], rows))
    warn = "" if s.get("has_manifest", True) else \
        '<p class="warn">No manifest.json: an unfinished or copied output; totals come from scanning the tars.</p>'
    title = html.escape(f"earlyfuse stats: {s.get('name') or s['path']}")
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>{CSS}</style></head><body>
<h1>{title}</h1><div class="sub">{html.escape(s['path'])} · code {html.escape(str(s.get('code_version')))} ·
tokenizer {html.escape(str(s['tokenizer'].get('spec')))}</div>{warn}
<div class="cards">{''.join(f'<div class="card"><b>{v}</b><span>{k}</span></div>' for k, v in cards)}</div>
<div class="grid">{imgs}</div>
<h2>Drops by stage</h2>{_table(["stage", "in", "kept", "rejected", "reasons"], reasons, "reasons")}
<h2>Distributions</h2>{_table(["", "min", "p10", "p50", "p90", "p99", "max"], dists)}
{f'<h2>Parts dropped inside kept documents</h2>{_table(["reason", "parts"], parts)}' if parts else ''}
{f'<h2>Dedup</h2>{_table(["kind", "in", "removed", "rate"], dedup)}' if dedup else ''}
{f'<h2>Text curation</h2><ul>{curation}</ul>' if curation else ''}
{mixture}
</body></html>"""
