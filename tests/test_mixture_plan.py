"""The mixture planner and the cut of extra copies: plain Python and NumPy, no Spark."""

import time

import numpy as np
import pyarrow as pa
import pytest

from pipelines.config import MixtureConfig, parse_config
from pipelines.config.load import ConfigError
from pipelines.mixture.planner import BucketCount, MixtureError, allocate, plan_mixture, temperature_shares
from pipelines.mixture.select import NONE, closest_prefix, cuts


def counts(sizes: dict[str, int], source: str = "web") -> list[BucketCount]:
    return [BucketCount(f"{source}/{lang}", source, lang, None, None, max(1, n // 10), n) for lang, n in sizes.items()]


def by_lang(plan) -> dict[str, float]:
    out: dict[str, float] = {}
    for b in plan.buckets:
        out[b.lang] = out.get(b.lang, 0.0) + b.target_tokens
    return out


def test_unimax_matches_the_paper_example():
    cfg = MixtureConfig(method="unimax", budget_tokens=3000, max_epochs=2)
    plan = plan_mixture(counts({"a": 100, "b": 1000, "c": 100_000}), cfg)
    t = by_lang(plan)
    assert t == pytest.approx({"a": 200, "b": 1400, "c": 1400})
    epochs = {b.lang: b.rate for b in plan.buckets}
    assert epochs == pytest.approx({"a": 2.0, "b": 1.4, "c": 0.014})
    assert plan.shortfall == pytest.approx(0.0)


def test_unimax_sequential_definition_on_random_sizes():
    """Languages by size, each min(remaining / left, N * its tokens), the rest carried on."""
    rng = np.random.default_rng(3)
    for _ in range(50):
        sizes = (rng.pareto(1.0, 40) * 1000 + 10).astype(int)
        budget, n_ep = int(sizes.sum() * rng.uniform(0.05, 0.9)), float(rng.uniform(1, 5))
        left, remaining, expect = len(sizes), float(budget), {}
        for i in np.argsort(sizes, kind="stable"):
            expect[f"l{i}"] = min(remaining / left, n_ep * sizes[i])
            remaining -= expect[f"l{i}"]
            left -= 1
        plan = plan_mixture(counts({f"l{i}": int(s) for i, s in enumerate(sizes)}),
                            MixtureConfig(method="unimax", budget_tokens=budget, max_epochs=n_ep))
        assert by_lang(plan) == pytest.approx(expect, rel=1e-9, abs=1e-6)


def test_temperature_shares():
    assert temperature_shares([100, 10_000], 0.5) == pytest.approx([1 / 11, 10 / 11])
    assert temperature_shares([100, 10_000], 1.0) == pytest.approx([100 / 10_100, 10_000 / 10_100])
    plan = plan_mixture(counts({"x": 100, "y": 10_000}), MixtureConfig(method="temperature", alpha=0.5))
    t = by_lang(plan)
    assert t["x"] / (t["x"] + t["y"]) == pytest.approx(1 / 11)
    assert t["x"] + t["y"] == pytest.approx(10_100)  # budget 0: the tokens available


def test_temperature_alpha_one_is_identity():
    plan = plan_mixture(counts({"x": 123, "y": 4567, "z": 89}), MixtureConfig(method="temperature", alpha=1.0))
    assert all(b.rate == pytest.approx(1.0) for b in plan.buckets)


def test_weights_by_source_keep_languages_natural_within_a_source():
    c = counts({"en": 9000, "fr": 1000}, "web") + counts({"en": 500, "de": 500}, "books")
    cfg = MixtureConfig(method="weights", over="source", weights={"web": 1, "books": 1}, budget_tokens=4000)
    plan = plan_mixture(c, cfg)
    t = {b.name: b.target_tokens for b in plan.buckets}
    assert t["web/en"] == pytest.approx(1800) and t["web/fr"] == pytest.approx(200)
    assert t["books/en"] == pytest.approx(1000) and t["books/de"] == pytest.approx(1000)


def test_weights_star_and_unlisted():
    c = counts({"en": 1000, "fr": 1000, "de": 1000})
    only = plan_mixture(c, MixtureConfig(method="weights", weights={"en": 1}))
    assert by_lang(only) == pytest.approx({"en": 3000, "fr": 0, "de": 0})
    star = plan_mixture(c, MixtureConfig(method="weights", weights={"en": 2, "*": 1}))
    assert by_lang(star) == pytest.approx({"en": 1500, "fr": 750, "de": 750})


def test_epoch_cap_is_an_error_naming_the_group_or_met_as_closely_as_it_allows():
    c = counts({"en": 10_000, "xh": 100})
    cfg = MixtureConfig(method="weights", weights={"en": 1, "xh": 1}, budget_tokens=2000, max_epochs=4)
    with pytest.raises(MixtureError, match="'xh' needs 10 epochs"):
        plan_mixture(c, cfg)
    cfg.on_unmet = "closest"
    plan = plan_mixture(c, cfg)
    assert by_lang(plan) == pytest.approx({"en": 1600, "xh": 400})
    assert any("xh" in n for n in plan.notes)


def test_budget_over_every_cap():
    c = counts({"a": 100, "b": 200})
    with pytest.raises(MixtureError, match="exceeds the 600"):
        plan_mixture(c, MixtureConfig(method="unimax", budget_tokens=1000, max_epochs=2))
    plan = plan_mixture(c, MixtureConfig(method="unimax", budget_tokens=1000, max_epochs=2, on_unmet="closest"))
    assert by_lang(plan) == pytest.approx({"a": 200, "b": 400}) and plan.shortfall == pytest.approx(400)


def test_min_tokens_per_language_and_exclusion():
    c = counts({"en": 100_000, "sw": 300, "yo": 50}) + [BucketCount("web/und", "web", "und", None, None, 5, 999)]
    cfg = MixtureConfig(method="temperature", alpha=1.0, budget_tokens=10_000, max_epochs=10,
                        min_tokens_per_language=400, exclude=["*/und"], on_unmet="closest")
    t = by_lang(plan_mixture(c, cfg))
    assert t["und"] == 0
    assert t["sw"] == pytest.approx(400) and t["yo"] == pytest.approx(400)  # yo: 8 epochs, under the cap
    assert sum(t.values()) == pytest.approx(10_000)
    cfg.max_epochs, cfg.on_unmet = 4, "error"
    with pytest.raises(MixtureError, match="'yo' has 50 tokens"):
        plan_mixture(c, cfg)


def test_allocate_water_filling():
    t = allocate(10.0, [1, 1, 1], [1, 100, 100], [0, 0, 6])
    assert t == pytest.approx([1, 3, 6])
    assert allocate(10.0, [1, 1], [2, 3]) == pytest.approx([2, 3])  # caps below the budget


def test_planner_200_languages_by_50_sources_is_quick():
    rng = np.random.default_rng(0)
    c = [BucketCount(f"s{s}/l{lang}", f"s{s}", f"l{lang}", None, None, 10, int(rng.integers(1, 10**9)))
         for s in range(50) for lang in range(200)]
    t0 = time.perf_counter()
    plan = plan_mixture(c, MixtureConfig(method="unimax", budget_tokens=10**11, max_epochs=4))
    assert len(plan.buckets) == 10_000 and time.perf_counter() - t0 < 30  # correctness here; speed: benchmark
    assert sum(b.target_tokens for b in plan.buckets) == pytest.approx(10**11)


def test_closest_prefix():
    tok = np.array([10, 10, 10, 10])
    assert [closest_prefix(tok, r) for r in (0, 4, 6, 15, 16, 25, 39, 100)] == [0, 0, 1, 1, 2, 2, 4, 4]


def test_cuts_pick_the_priority_prefix_closest_to_the_residual():
    rows = pa.table({"bucket": ["a"] * 4 + ["b"] * 2, "priority": [5, 1, 3, 3, 9, 2],
                     "id": ["w", "x", "z", "y", "p", "q"], "n_tokens": [10, 10, 10, 10, 7, 7]})
    got = cuts(rows, {"a": 21.0, "b": 1.0, "c": 5.0})
    assert (got["a"].priority, got["a"].id, got["a"].docs, got["a"].tokens) == (3, "y", 2, 20)
    assert got["b"] == NONE and got["c"] == NONE
    # Candidates of a narrowed range: documents before it are already counted.
    narrowed = cuts(rows.filter(pa.compute.equal(rows["bucket"], "a")), {"a": 41.0}, {"a": (2, 20, 1)})
    assert (narrowed["a"].priority, narrowed["a"].id, narrowed["a"].docs, narrowed["a"].tokens) == (3, "y", 4, 40)
    before_only = cuts(rows.slice(0, 0), {"a": 25.0}, {"a": (3, 24, 100)})
    assert (before_only["a"].priority, before_only["a"].id, before_only["a"].docs) == (99, None, 3)


def test_config_validation():
    base = {"inputs": [{"name": "web", "format": "jsonl", "path": "x.jsonl"}]}
    for mixture, msg in (({"method": "magic"}, "mixture.method must be one of"),
                         ({"method": "unimax", "budget_tokens": 10}, "unimax needs"),
                         ({"method": "weights", "weights": {"english": 1}}, "'english' is not a language code"),
                         ({"method": "weights", "over": "source", "weights": {"books": 1}}, "'books' is not an input"),
                         ({"method": "temperature", "alpha": 0}, "alpha must be in"),
                         ({"method": "temperature", "band_signal": "classifier.hq"}, "needs band_edges"),
                         ({"budget_tokens": 5}, "needs a method"),
                         ({"method": "temperature", "min_tokens_per_language": 5, "over": "source"},
                          "needs over = \"language\"")):
        with pytest.raises(ConfigError, match=msg):
            parse_config(dict(base, mixture=mixture))
    cfg = parse_config(dict(base, mixture={"method": "weights", "weights": {"eng_Latn": 2, "*": 1}}))
    assert cfg.mixture.weights == {"eng_Latn": 2.0, "*": 1.0}
