"""A tree at a glance (levels, sizes, sample summaries) and as JSON, read without any model."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

from indexers.tree.model import SummaryTree


def read_tree(directory: Path) -> tuple[SummaryTree, dict[str, Any]]:
    """A saved tree and its config, checked, without an embedder."""
    from indexers.tree.index import TreeIndex

    config = TreeIndex.read_config(directory)
    return SummaryTree.load(directory, config["dim"], config.get("next_id", 0)), config


def outline(tree: SummaryTree, config: dict[str, Any], samples: int = 3) -> dict[str, Any]:
    """Counts per level, fan-out, roots, and the first few summaries of each level."""
    levels = Counter(n.level for n in tree.nodes.values())
    summaries = list(tree.summary_nodes())
    fanouts = [len(n.children) for n in summaries]
    by_level: dict[int, list[dict[str, Any]]] = {}
    for node in sorted(summaries, key=lambda n: (-n.level, n.id)):
        shown = by_level.setdefault(node.level, [])
        if len(shown) < samples:
            shown.append(
                {
                    "node": node.id,
                    "children": len(node.children),
                    "passages": len(node.leaves),
                    "text": node.text,
                }
            )
    summarizers = Counter(n.provenance.get("summarizer", "?") for n in summaries)
    return {
        "builder": config.get("builder"),
        "scope": config.get("scope"),
        "summarizers": dict(summarizers),
        "nodes": len(tree),
        "passages": levels.get(0, 0),
        "levels": {str(level): levels[level] for level in sorted(levels)},
        "roots": len(tree.roots()),
        "mean_fanout": round(sum(fanouts) / len(fanouts), 2) if fanouts else 0,
        "max_fanout": max(fanouts, default=0),
        "samples": {str(level): nodes for level, nodes in sorted(by_level.items(), reverse=True)},
    }


def export(tree: SummaryTree, path: Path) -> None:
    """Write every node (without its vector) as one JSON document, roots listed first."""
    data = {
        "roots": tree.roots(),
        "nodes": [asdict(node) for node in tree.nodes.values()],
    }
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
