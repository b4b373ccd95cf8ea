"""Real English text with an open vocabulary, available offline on any machine with this
project installed: the Python standard library's own documentation (the language reference
topics `pydoc` ships, the docstrings of the standard library's modules, classes, functions
and methods) and the descriptions (READMEs) of the packages installed beside earlyfuse, at
the versions constraints.txt pins.

Generated corpora repeat their words (a few hundred sentence templates), which flatters
anything that caches per word; this prose does not. It is technical writing with code
samples, lists and short lines, much as documentation pages on the web are.

`documents(n)` cuts the text into up to `n` documents of consecutive paragraphs (about 40 to
900 words each), each paragraph used once, the same for the same Python and packages.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import io
import random
import re
import sys
import warnings
from importlib import metadata

SKIP = ("antigravity", "this", "idlelib", "tkinter", "turtle", "turtledemo", "test", "lib2to3", "ensurepip", "pydoc")
_PARAS = re.compile(r"\n\s*\n")


def _docstrings() -> list[str]:
    texts, seen = [], set()

    def add(doc):
        if doc and len(doc) > 200 and doc not in seen:
            seen.add(doc)
            texts.append(doc)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecated modules still have docs
        for name in sorted(sys.stdlib_module_names):
            if name.startswith("_") or name in SKIP:
                continue
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    mod = importlib.import_module(name)
            except Exception:  # noqa: BLE001 - a module this platform cannot import has no docs here
                continue
            add(inspect.getdoc(mod))
            for key, obj in sorted(vars(mod).items()):
                if key.startswith("_") or not (inspect.isclass(obj) or inspect.isroutine(obj)):
                    continue
                add(inspect.getdoc(obj))
                if inspect.isclass(obj):
                    for k, member in sorted(vars(obj).items()):
                        if not k.startswith("_") and inspect.isroutine(member):
                            add(inspect.getdoc(member))
    return texts


def _package_descriptions() -> list[str]:
    out = []
    for dist in sorted(metadata.distributions(), key=lambda d: (d.metadata["Name"] or "").lower()):
        body = dist.metadata.get_payload() if hasattr(dist.metadata, "get_payload") else ""
        body = body or dist.metadata.get("Description", "") or ""
        if len(body.split()) > 50:
            out.append(body)
    return out


@functools.lru_cache(maxsize=1)
def paragraphs() -> tuple[str, ...]:
    """Every paragraph of the sources, in a fixed order, each once."""
    import pydoc_data.topics as topics

    texts = [topics.topics[k] for k in sorted(topics.topics)] + _docstrings() + _package_descriptions()
    out, known = [], set()
    for t in texts:
        for p in _PARAS.split(t):
            p = p.strip("\n")
            if p.strip() and p not in known:
                known.add(p)
                out.append(p)
    return tuple(out)


def documents(n: int, seed: int = 0) -> list[str]:
    """`n` documents of consecutive paragraphs; sizes drawn from a seeded generator."""
    paras = paragraphs()
    rng = random.Random(seed)
    docs, i = [], 0
    while len(docs) < n and i < len(paras):
        target = rng.choice((30, 60, 100, 150, 250, 400))
        words, chunk = 0, []
        while words < target and i < len(paras):
            chunk.append(paras[i])
            words += len(paras[i].split())
            i += 1
        docs.append("\n\n".join(chunk))
    return docs


def vocabulary_share(docs: list[str]) -> float:
    """Distinct whitespace chunks over all chunks: how open the vocabulary is (web text is
    around 0.1-0.2 over a few thousand pages; template text far below)."""
    chunks = [c for d in docs for c in d.split()]
    return len(set(chunks)) / max(len(chunks), 1)
