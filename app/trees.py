"""A summary tree as rows: for the sunburst picture, the outline, and a hit's path."""

from __future__ import annotations

from typing import Any

from app.explain import shorten
from indexers.tree.model import SummaryTree, TreeNode

#: Above this many nodes the picture leaves out the passages (level 0).
PICTURE_NODES = 2000


def node_label(node: TreeNode) -> str:
    """A node's name in the outline: id, level, size."""
    if node.is_leaf:
        return f"passage {node.id}"
    size = f"{len(node.children)} children, {len(node.leaves)} passages"
    return f"{node.id} · level {node.level} · {size}"


#: Characters of a summary that name its node in the picture.
LABEL_CHARS = 32


def summary_label(node: TreeNode) -> str:
    """A summary node's name in the picture: the start of its summary, else its id."""
    return shorten(node.text, LABEL_CHARS) if node.text.strip() else node.id


def counts_line(counts: dict[str, int], names: dict[str, str] | None = None) -> str:
    """Counts as readable text ("passages 962 · level 1 191"), not a printed dict."""
    names = names or {}
    return " · ".join(f"{names.get(key, key)} {value:,}" for key, value in counts.items())


def level_names(levels: dict[str, int]) -> dict[str, str]:
    """What each level key is called: level 0 holds the passages."""
    return {key: "passages" if key == "0" else f"level {key}" for key in levels}


def sunburst_rows(tree: SummaryTree, titles: dict[str, str]) -> list[dict[str, Any]]:
    """One row per node under its first parent (RAPTOR's extra parents are named on hover)."""
    leaves = len(tree) <= PICTURE_NODES
    rows = []
    for node in tree.nodes.values():
        if node.is_leaf and not leaves:
            continue
        parents = tree.parents(node.id)
        also = f"<br>also under {', '.join(parents[1:])}" if len(parents) > 1 else ""
        # A summary is named by its opening words: ids such as "s229" say nothing in a picture.
        label = titles.get(node.id, node.id) if node.is_leaf else summary_label(node)
        rows.append(
            {
                "id": node.id,
                "parent": parents[0] if parents else "",
                "label": label,
                "hover": f"{node_label(node)}{also}<br>{shorten(node.text, 200)}",
            }
        )
    return rows


def path_rows(tree: SummaryTree, path: list[str]) -> list[dict[str, Any]]:
    """A hit's path from the root, each node with its level and the start of its summary."""
    rows = []
    for depth, node_id in enumerate(path):
        node = tree.nodes.get(node_id)
        rows.append(
            {
                "depth": depth,
                "node": node_id,
                "level": node.level if node else None,
                "text": shorten(node.text, 300) if node else "(not in the saved tree)",
            }
        )
    return rows


def children_of(tree: SummaryTree, node_id: str | None) -> list[TreeNode]:
    """The roots (for None) or a node's children, highest level first."""
    ids = tree.roots() if node_id is None else tree.nodes[node_id].children
    nodes = [tree.nodes[i] for i in ids if i in tree.nodes]
    return sorted(nodes, key=lambda n: (-n.level, n.id))
