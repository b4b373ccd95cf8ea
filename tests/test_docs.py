"""The documentation the code cites is there: every `docs/<page>.md` a module names exists,
with the section it quotes; every relative link in README.md and docs/ resolves; the README
stays a front door."""

from __future__ import annotations

import re

from tests.conftest import ROOT

CITE = re.compile(r'docs/([\w/-]+\.md)(?:, "([^"]+)")?')
LINK = re.compile(r"\]\(([^)#\s]+)(?:#([\w-]+))?\)")


def _headings(page) -> set[str]:
    return {m.group(1).strip() for m in re.finditer(r"^#+ (.+)$", page.read_text(encoding="utf-8"), re.M)}


def _anchor(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def test_cited_docs_and_sections_exist():
    bad = []
    for pkg in ("pipelines", "filters", "tokenization", "vision_prep", "jobs", "tests", "benchmarks"):
        for path in (ROOT / pkg).rglob("*.py"):
            for m in CITE.finditer(path.read_text(encoding="utf-8")):
                page = ROOT / "docs" / m.group(1)
                if not page.is_file():
                    bad.append(f"{path.relative_to(ROOT)} cites missing docs/{m.group(1)}")
                elif m.group(2) and m.group(2) not in _headings(page):
                    bad.append(f"{path.relative_to(ROOT)} cites docs/{m.group(1)} section '{m.group(2)}', absent")
    assert bad == []


def test_relative_links_resolve():
    bad = []
    pages = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]
    for page in pages:
        for m in LINK.finditer(page.read_text(encoding="utf-8")):
            target, anchor = m.group(1), m.group(2)
            if "://" in target:
                continue
            dest = (page.parent / target).resolve()
            if not dest.exists():
                bad.append(f"{page.relative_to(ROOT)} -> {target}")
            elif anchor and dest.suffix == ".md" and anchor not in {_anchor(h) for h in _headings(dest)}:
                bad.append(f"{page.relative_to(ROOT)} -> {target}#{anchor}")
    assert bad == []


def test_readme_is_a_front_door():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    assert "make sample" in text and "make test" in text
    # A profiling diary belongs in docs/profiling-history.md, not on the front door.
    assert len(re.findall(r"\b[0-9a-f]{7}\b", text)) <= 2
