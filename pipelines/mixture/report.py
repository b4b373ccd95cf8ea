"""The mixture as `earlyfuse stats` and the HTML page show it: per language, the tokens
available, planned and written (from the manifest) and realized (scanned from the shards)."""

from __future__ import annotations


def language_rows(block: dict, realized: dict[str, int]) -> list[dict]:
    """One row per language over all its buckets, the largest target first."""
    rows: dict[str, dict] = {}
    for b in block.get("buckets", []):
        r = rows.setdefault(b["lang"], {"name": b["lang"], "documents": 0, "available_tokens": 0,
                                        "target_tokens": 0.0, "written_tokens": 0})
        r["documents"] += b["documents"]
        r["available_tokens"] += b["available_tokens"]
        r["target_tokens"] += b["target_tokens"]
        r["written_tokens"] += b["written_tokens"]
    for r in rows.values():
        r["target_tokens"] = round(r["target_tokens"], 1)
        r["realized_tokens"] = int(realized.get(r["name"], 0))
        r["epochs"] = round(r["realized_tokens"] / r["available_tokens"], 4) if r["available_tokens"] else 0.0
        r["realized_vs_target"] = (round(r["realized_tokens"] / r["target_tokens"], 4)
                                   if r["target_tokens"] else None)
    return sorted(rows.values(), key=lambda r: (-r["target_tokens"], r["name"]))


def summary(block: dict, realized: dict[str, int]) -> dict:
    langs = language_rows(block, realized)
    off = [abs(r["realized_vs_target"] - 1) for r in langs if r["realized_vs_target"] is not None]
    return {"method": block["method"], "params": block["params"], "budget_tokens": block["budget_tokens"],
            "planned_tokens": block["planned_tokens"], "written_tokens": block["written_tokens"],
            "shortfall_tokens": block["shortfall_tokens"], "documents": block["documents"],
            "written_samples": block["written_samples"], "available_tokens": block["available_tokens"],
            "buckets": len(block.get("buckets", [])), "notes": block.get("notes", []),
            "band_edges": block.get("band_edges", []),
            "max_language_deviation": round(max(off), 6) if off else 0.0, "languages": langs}


def headline(m: dict) -> list[str]:
    p, d = m["params"], m["documents"]
    how = {"temperature": f"alpha {p.get('alpha')}", "unimax": f"max {p['max_epochs']:g} epochs",
           "weights": f"{len(p.get('weights', {}))} weights over {p['over']}"}[m["method"]]
    lines = [f"mixture: {m['method']} ({how}), budget {m['budget_tokens']:,.0f} tokens of {m['available_tokens']:,}"
             f" available; {m['written_tokens']:,} written in {m['written_samples']:,} samples over "
             f"{m['buckets']} buckets",
             f"mixture documents: {d['in']:,} in = {d['written']:,} written + {d['sampled_out']:,} sampled out + "
             f"{d['excluded']:,} excluded; largest language deviation from target "
             f"{100 * m['max_language_deviation']:.2f}%"]
    if m["shortfall_tokens"]:
        lines.append(f"mixture short of its budget by {m['shortfall_tokens']:,.0f} tokens (on_unmet = closest)")
    lines += [f"mixture note: {n}" for n in m["notes"][:10]]
    return lines
