"""Searching a summary tree: collapsed, traversal, and MemWalker-style navigation.

Every search ranks passages (the leaves): a summary that matches brings in the passages under
it, and each hit's reason carries the path of node ids from a root to the node that found it.
"""

from __future__ import annotations

import heapq
import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from indexers.tree.config import TreeSearch
from indexers.tree.model import SummaryTree
from rag.types import Hit, TreeReason

logger = logging.getLogger(__name__)

KIND = "tree"


@dataclass
class TreeSearchResult:
    """Passages found, the summaries handed to the reader as context, and the walk taken."""

    hits: list[Hit]
    context: list[dict[str, Any]] = field(default_factory=list)
    walk: list[dict[str, Any]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


def similarities(tree: SummaryTree, vector: np.ndarray) -> dict[str, float]:
    """Cosine similarity of the query with every node."""
    ids, matrix = tree.matrix()
    scores = matrix @ vector.astype(np.float32) if len(ids) else np.zeros(0)
    return dict(zip(ids, scores.tolist(), strict=True))


def _hit(
    tree: SummaryTree, leaf: str, score: float, via: str, path: list[str], sims: dict[str, float]
) -> Hit:
    """A passage hit whose reason names the node that found it and the path to that node."""
    return Hit(
        passage_id=leaf,
        score=score,
        retriever=KIND,
        reason=TreeReason(
            path=path if via == leaf else [*path, leaf],
            layer=tree.nodes[via].level,
            similarity=round(sims[leaf], 6),
        ),
    )


def _summary_context(
    tree: SummaryTree, ranked: list[str], sims: dict[str, float], budget: int
) -> list[dict[str, Any]]:
    """Summary nodes in similarity order while their text fits the token budget."""
    context, used = [], 0
    for nid in ranked:
        node = tree.nodes[nid]
        if node.is_leaf:
            continue
        if used + node.tokens > budget:
            break
        used += node.tokens
        context.append(_context_item(tree, nid, sims))
    return context


def _context_item(tree: SummaryTree, nid: str, sims: dict[str, float]) -> dict[str, Any]:
    """A summary handed to the reader, with where it sits and how close it is to the query."""
    node = tree.nodes[nid]
    return {"node": nid, "level": node.level, "similarity": round(sims[nid], 4), "text": node.text}


def collapsed(
    tree: SummaryTree, vector: np.ndarray, k: int, config: TreeSearch
) -> TreeSearchResult:
    """RAPTOR's collapsed tree: all nodes of all layers ranked by similarity to the query.

    Walking that ranking, a passage comes in with its own node or with the first summary above
    it that ranks higher, scored by that node's similarity; a summary's passages come in order
    of their own similarity. The summaries that fit the token budget are the reader's context.
    """
    sims = similarities(tree, vector)
    ranked = sorted(sims, key=lambda n: (-sims[n], n))
    hits: list[Hit] = []
    seen: set[str] = set()
    for nid in ranked:
        if len(hits) >= k:
            break
        node = tree.nodes[nid]
        fresh = sorted((p for p in node.leaves if p not in seen), key=lambda p: -sims[p])
        path = tree.path_to(nid)
        for leaf in fresh[: k - len(hits)]:
            seen.add(leaf)
            hits.append(_hit(tree, leaf, sims[nid], nid, path, sims))
    return TreeSearchResult(hits, context=_summary_context(tree, ranked, sims, config.token_budget))


def traverse(tree: SummaryTree, vector: np.ndarray, k: int, config: TreeSearch) -> TreeSearchResult:
    """RAPTOR's tree traversal: from the roots down, keep the `beam` best nodes of each level.

    Passages met on the way (a root passage, the children of kept summaries) are ranked by
    their own similarity; fewer than k come back when the beam reaches fewer.
    """
    sims = similarities(tree, vector)
    frontier = tree.roots()
    paths: dict[str, list[str]] = {n: [n] for n in frontier}
    reached: dict[str, list[str]] = {}
    kept: list[str] = []
    while frontier:
        leaves = [n for n in frontier if tree.nodes[n].is_leaf]
        for leaf in leaves:
            reached.setdefault(leaf, paths[leaf])
        summaries = sorted(
            (n for n in frontier if not tree.nodes[n].is_leaf), key=lambda n: (-sims[n], n)
        )[: config.beam]
        kept.extend(summaries)
        frontier = []
        for nid in summaries:
            for child in tree.nodes[nid].children:
                if child not in paths:
                    paths[child] = [*paths[nid], child]
                    frontier.append(child)
    best = sorted(reached, key=lambda p: (-sims[p], p))[:k]
    hits = [
        Hit(
            passage_id=p,
            score=sims[p],
            retriever=KIND,
            reason=TreeReason(path=reached[p], layer=0, similarity=round(sims[p], 6)),
        )
        for p in best
    ]
    context = [_context_item(tree, n, sims) for n in kept]
    return TreeSearchResult(hits, context=context)


def navigate_by_embedding(
    tree: SummaryTree, vector: np.ndarray, k: int, config: TreeSearch
) -> TreeSearchResult:
    """MemWalker's walk with embeddings in place of the LLM: best first from the roots.

    The walk always opens the most similar node on its frontier, so when every child of the
    current node scores below a node left behind, it backtracks there. Passages are ranked in
    the order the walk reaches them; at most `max_steps` summaries are opened.
    """
    sims = similarities(tree, vector)
    heap: list[tuple[float, str, tuple[str, ...]]] = [(-sims[r], r, (r,)) for r in tree.roots()]
    heapq.heapify(heap)
    hits: list[Hit] = []
    walk: list[dict[str, Any]] = []
    opened: set[str] = set()
    seen: set[str] = set()
    while heap and len(hits) < k:
        neg, nid, path = heapq.heappop(heap)
        node = tree.nodes[nid]
        if node.is_leaf:
            if nid not in seen:
                seen.add(nid)
                walk.append({"node": nid, "action": "read", "similarity": round(-neg, 4)})
                # Walk order is the ranking; the score falls with each passage read.
                hits.append(
                    Hit(
                        passage_id=nid,
                        score=1.0 / (len(hits) + 1),
                        retriever=KIND,
                        reason=TreeReason(path=list(path), layer=0, similarity=round(-neg, 6)),
                    )
                )
            continue
        if nid in opened or len(opened) >= config.max_steps:
            continue
        opened.add(nid)
        walk.append({"node": nid, "action": "open", "similarity": round(-neg, 4)})
        for child in node.children:
            heapq.heappush(heap, (-sims[child], child, (*path, child)))
    return TreeSearchResult(hits, walk=walk, details={"navigator": "embedding"})


def summary_memory(tree: SummaryTree, budget: int) -> list[str]:
    """The tree's highest summaries, level by level, while their text fits `budget` tokens:
    the compressed view of the corpus a clue drafter reads."""
    summaries = sorted(tree.summary_nodes(), key=lambda n: (-n.level, n.id))
    memory, used = [], 0
    for node in summaries:
        if used + node.tokens > budget:
            break
        memory.append(node.text)
        used += node.tokens
    return memory
