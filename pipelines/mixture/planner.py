"""The mixture planner: available tokens per bucket -> a target and a rate per bucket
(docs/stages/mixture.md, "Planning").

The method (`weights`, `temperature`, `unimax`) sets a share per group (a language, a source,
a source and language, or a bucket); one allocation turns the shares into token targets
under the budget, the epoch caps and the per-language minimum; every bucket of a group then
gets the group's rate, so the group's buckets keep their natural proportions.
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import asdict, dataclass, field

import numpy as np

from pipelines.config import ConfigError


class MixtureError(ConfigError):
    """A mixture that cannot be planned as configured; one line naming the bucket or group."""


@dataclass(frozen=True)
class BucketCount:
    name: str
    source: str
    lang: str
    band: str | None
    modality: str | None
    docs: int
    tokens: int


@dataclass
class BucketPlan:
    name: str
    source: str
    lang: str
    band: str | None
    modality: str | None
    group: str
    documents: int
    available_tokens: int
    target_tokens: float
    rate: float
    excluded: bool = False


@dataclass
class MixturePlan:
    method: str
    params: dict
    budget: float
    buckets: list[BucketPlan]
    shortfall: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"method": self.method, "params": self.params, "budget_tokens": self.budget,
                "planned_tokens": round(sum(b.target_tokens for b in self.buckets), 3),
                "shortfall_tokens": round(self.shortfall, 3), "notes": self.notes,
                "buckets": [asdict(b) for b in self.buckets]}


def group_of(b: BucketCount, over: str) -> str:
    return {"language": b.lang, "source": b.source, "source_language": f"{b.source}/{b.lang}",
            "bucket": b.name}[over]


def temperature_shares(sizes, alpha: float) -> np.ndarray:
    """q_i = p_i^alpha / sum_j p_j^alpha with p the natural shares (mT5's sampling)."""
    p = np.asarray(sizes, dtype=np.float64)
    p = p / p.sum()
    q = np.where(p > 0, p ** alpha, 0.0)
    return q / q.sum()


def allocate(budget: float, shares, caps, floors=None) -> np.ndarray:
    """Targets t_i = clip(lam * s_i, floor_i, cap_i) with sum t_i = budget (water-filling).

    With equal shares and caps of N epochs this is UniMax: the smallest groups take N epochs,
    the rest share what is left uniformly. When the caps cannot hold the budget every group
    gets its cap; when the floors exceed it, its floor.
    """
    s = np.asarray(shares, dtype=np.float64)
    caps = np.asarray(caps, dtype=np.float64)
    floors = np.zeros_like(s) if floors is None else np.minimum(np.asarray(floors, dtype=np.float64), caps)

    def total(lam: float) -> float:
        return float(np.clip(lam * s, floors, caps).sum())

    highest = np.where(s > 0, caps, floors)
    if highest.sum() <= budget:
        return highest
    if floors.sum() >= budget:
        return floors
    lo, hi = 0.0, 1.0
    while total(hi) < budget:
        hi *= 2.0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if total(mid) < budget else (lo, mid)
        if hi - lo <= 1e-15 * hi:
            break
    # The groups strictly between floor and cap share the rest exactly.
    t = np.clip(hi * s, floors, caps)
    free = (s > 0) & (hi * s > floors) & (hi * s < caps)
    if free.any():
        lam = (budget - t[~free].sum()) / s[free].sum()
        t[free] = np.clip(lam * s[free], floors[free], caps[free])
    return t


def _shares(method: str, groups: list[str], avail: np.ndarray, cfg) -> np.ndarray:
    if method == "unimax":
        return (avail > 0).astype(np.float64)
    if method == "temperature":
        return temperature_shares(avail, cfg.alpha)
    default = cfg.weights.get("*", 0.0)
    w = np.array([cfg.weights.get(g, default) for g in groups], dtype=np.float64)
    if w.sum() <= 0:
        raise MixtureError("mixture.weights: no group with documents has a weight > 0 "
                           f"(groups: {', '.join(groups[:8])}{'...' if len(groups) > 8 else ''})")
    return w / w.sum()


def plan_mixture(counts: list[BucketCount], cfg) -> MixturePlan:
    """Targets and rates per bucket; a MixtureError when the plan cannot hold as configured
    (`on_unmet = "error"`), else the closest plan with what it missed in `notes`."""
    strict = cfg.on_unmet == "error"
    excluded = {b.name for b in counts if any(fnmatch.fnmatchcase(b.name, p) for p in cfg.exclude)}
    active = [b for b in counts if b.name not in excluded and b.tokens > 0]
    groups = sorted({group_of(b, cfg.over) for b in active})
    index = {g: i for i, g in enumerate(groups)}
    avail = np.zeros(len(groups))
    for b in active:
        avail[index[group_of(b, cfg.over)]] += b.tokens
    notes: list[str] = []
    if cfg.method == "weights":
        missing = sorted(k for k, w in cfg.weights.items() if k != "*" and w > 0 and k not in index)
        if missing and strict:
            raise MixtureError(f"mixture.weights: {missing[0]!r} has a weight but no documents reach the mixture "
                               f"({len(missing)} such); remove it or set on_unmet = \"closest\"")
        notes += [f"{k}: weighted but without documents" for k in missing]
    budget = float(cfg.budget_tokens or avail.sum())
    if not groups:
        return MixturePlan(cfg.method, _params(cfg), budget, _bucket_plans(counts, excluded, {}, cfg),
                           shortfall=budget, notes=notes + ["no documents reach the mixture"])
    shares = _shares(cfg.method, groups, avail, cfg)
    caps = avail * cfg.max_epochs if cfg.max_epochs > 0 else np.full(len(groups), np.inf)
    floors = np.zeros(len(groups))
    if cfg.min_tokens_per_language:
        floors[:] = cfg.min_tokens_per_language
        short = [(g, a) for g, a, c in zip(groups, avail, caps) if c < cfg.min_tokens_per_language]
        if short and strict:
            g, a = short[0]
            raise MixtureError(f"mixture: language {g!r} has {int(a):,} tokens; {cfg.max_epochs:g} epochs cannot "
                               f"reach min_tokens_per_language = {cfg.min_tokens_per_language:,} ({len(short)} "
                               "such); set on_unmet = \"closest\" to take what the caps allow")
        notes += [f"{g}: below min_tokens_per_language at {cfg.max_epochs:g} epochs" for g, _ in short]
    if cfg.method != "unimax":
        over = (budget * shares) / np.maximum(caps, 1e-300)
        worst = int(np.argmax(over))
        if over[worst] > 1 + 1e-9 and strict:
            raise MixtureError(
                f"mixture: group {groups[worst]!r} needs {budget * shares[worst] / avail[worst]:.3g} epochs of its "
                f"{int(avail[worst]):,} tokens for its share ({shares[worst]:.4g} of {budget:,.0f}), over "
                f"max_epochs = {cfg.max_epochs:g}; lower the budget or its weight, or set on_unmet = \"closest\"")
        notes += [f"{groups[i]}: capped at {cfg.max_epochs:g} epochs" for i in np.flatnonzero(over > 1 + 1e-9)]
    highest = np.where(shares > 0, caps, np.minimum(floors, caps))
    if highest.sum() < budget * (1 - 1e-12):
        if strict:
            full = groups[int(np.argmax(np.where(shares > 0, avail, -1)))]
            raise MixtureError(f"mixture: budget {budget:,.0f} tokens exceeds the {highest.sum():,.0f} that "
                               f"max_epochs = {cfg.max_epochs:g} allows (every group at its cap, the largest "
                               f"{full!r}); lower budget_tokens, raise max_epochs, or set on_unmet = \"closest\"")
        notes.append(f"budget short by {budget - highest.sum():,.0f} tokens: every group at its cap")
    targets = allocate(budget, shares, caps, floors)
    rates = {g: (targets[i] / avail[i] if avail[i] else 0.0) for i, g in enumerate(groups)}
    return MixturePlan(cfg.method, _params(cfg), budget, _bucket_plans(counts, excluded, rates, cfg),
                       shortfall=max(0.0, budget - float(targets.sum())), notes=notes)


def _bucket_plans(counts, excluded, rates, cfg) -> list[BucketPlan]:
    out = []
    for b in sorted(counts, key=lambda b: b.name):
        rate = 0.0 if b.name in excluded else rates.get(group_of(b, cfg.over), 0.0)
        out.append(BucketPlan(b.name, b.source, b.lang, b.band, b.modality, group_of(b, cfg.over), b.docs,
                              b.tokens, rate * b.tokens, rate, b.name in excluded))
    return out


def _params(cfg) -> dict:
    p = {"over": cfg.over, "max_epochs": cfg.max_epochs, "budget_tokens": cfg.budget_tokens,
         "min_tokens_per_language": cfg.min_tokens_per_language, "exclude": list(cfg.exclude),
         "on_unmet": cfg.on_unmet, "seed": cfg.seed}
    if cfg.method == "temperature":
        p["alpha"] = cfg.alpha
    if cfg.method == "weights":
        p["weights"] = dict(sorted(cfg.weights.items()))
    return p


def copies_floor(rate: float) -> int:
    """Copies every document of a bucket gets; the extra copy goes to a hash-ordered prefix."""
    return int(math.floor(rate + 1e-12))
