"""Connected components of a small edge list in one process (union-find).

Each component's root is its smallest node, the same labels Spark's large-star/small-star
rounds produce (pipelines/clusters.py), so which path ran never changes a result.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable


def components(edges: Iterable[tuple[Hashable, Hashable]]) -> dict:
    """Edges (a, b) -> {node: root} for every node with an edge; root = component minimum."""
    parent: dict = {}

    def find(x):
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    for a, b in edges:
        if a == b:
            continue
        parent.setdefault(a, a)
        parent.setdefault(b, b)
        ra, rb = find(a), find(b)
        if ra != rb:
            # The smaller root wins, so each root is its component's minimum.
            if rb < ra:
                ra, rb = rb, ra
            parent[rb] = ra
    return {x: find(x) for x in parent}
