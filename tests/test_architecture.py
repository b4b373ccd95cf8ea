"""The layout's rules (docs/design.md, "Layout"), checked on the source: which package may
import which, no import cycles between modules, and files a head can hold.

Imports are read with `ast`, at module level and inside functions alike: an import inside a
function runs too, and a cycle through one is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pipelines", "filters", "tokenization", "vision_prep", "jobs")
# Plain Python over Python/NumPy/Arrow values: testable without a JVM.
SPARK_FREE = ("filters", "tokenization", "vision_prep", "pipelines.io")
MAX_LINES = 500
# Data that is data: tables a head reads as tables, not logic.
DATA_MODULES: set[str] = set()


def modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


MODULES = modules()


def _resolve(name: str) -> str | None:
    """The project module an import names (a module, or the package holding a name)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports(module: str) -> list[tuple[str, int]]:
    """(imported name, line) for every import statement of the module, nested ones too."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_pkg = path.name == "__init__.py"
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_pkg else anchor[:-1]
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            out.append((base, node.lineno))
            # `from pkg import module` imports the module too.
            out += [(f"{base}.{a.name}", node.lineno) for a in node.names if f"{base}.{a.name}" in MODULES]
    return out


def graph() -> dict[str, set[str]]:
    g: dict[str, set[str]] = {m: set() for m in MODULES}
    for m in MODULES:
        for name, _ in imports(m):
            target = _resolve(name)
            if target and target != m and not m.startswith(target + "."):
                g[m].add(target)
    return g


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(g[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    assert cycles(graph()) == []


def test_the_cycle_finder_finds_cycles():
    g = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(g) == [["a", "b", "c"]]


@pytest.mark.parametrize("package", SPARK_FREE)
def test_plain_packages_import_neither_spark_nor_the_pipeline(package):
    """filters/, tokenization/, vision_prep/ (and pipelines.io) are plain Python: never
    pyspark, never the Spark package, never the command line."""
    bad = []
    for m in MODULES:
        if m != package and not m.startswith(package + "."):
            continue
        for name, line in imports(m):
            top = name.split(".")[0]
            target = _resolve(name) or ""
            spark_side = target.startswith("pipelines") and not target.startswith("pipelines.io")
            if top == "pyspark" or top == "jobs" or (spark_side and not package.startswith("pipelines")) or (
                    package == "pipelines.io" and spark_side):
                bad.append(f"{MODULES[m].relative_to(ROOT)}:{line} imports {name}")
    assert bad == []


def test_pipelines_never_import_jobs():
    bad = [f"{MODULES[m].relative_to(ROOT)}:{line} imports {name}"
           for m in MODULES if m.startswith("pipelines")
           for name, line in imports(m) if name.split(".")[0] == "jobs"]
    assert bad == []


def test_the_boundary_check_sees_nested_imports(tmp_path):
    src = "def f():\n    from pyspark.sql import functions as F\n    return F\n"
    tree = ast.parse(src)
    found = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    assert found == ["pyspark.sql"]


def test_files_a_head_can_hold():
    """No module over MAX_LINES lines, except data that is data."""
    long = {m: n for m, p in MODULES.items()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES and m not in DATA_MODULES}
    assert long == {}


def test_spark_free_modules_load_without_pyspark():
    """What the layout says is plain Python imports without pyspark: every module of the
    plain packages, storage, the readers, the record and the shard writer (a fresh
    interpreter, so nothing else has loaded it)."""
    import subprocess
    import sys

    names = [m for m in MODULES if m.split(".")[0] in ("filters", "tokenization", "vision_prep")
             or m.startswith(("pipelines.io", "pipelines.readers"))
             or m in ("pipelines.schema", "pipelines.shards", "pipelines.stats", "pipelines.verify")]
    code = ("import importlib, sys\n"
            f"for n in {names!r}: importlib.import_module(n)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pyspark'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
