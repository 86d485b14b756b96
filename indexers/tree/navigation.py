"""MemWalker's navigation with an LLM: choose a child or go back, read a leaf, keep a memory.

Chen et al. (2023): from the root, the model sees the children's summaries and picks one (or
goes back to the parent); at a leaf it reads the segment, with the working memory of the nodes
on its path, and answers or goes back. Three invalid replies end the walk.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from indexers.tree.config import TreeSearch
from indexers.tree.model import SummaryTree
from indexers.tree.search import KIND, TreeSearchResult, navigate_by_embedding
from rag.operators.navigate import LLMNavigator
from rag.types import Hit, TreeReason

logger = logging.getLogger(__name__)


class _Walk:
    """The state of one LLM walk: position, working memory, what was tried and read."""

    def __init__(self, tree: SummaryTree) -> None:
        """Start above the roots."""
        self.tree = tree
        self.stack: list[str] = []
        self.tried: dict[str | None, set[str]] = {}
        self.read: list[str] = []
        self.answer: str | None = None
        self.answered_by: str | None = None
        self.steps: list[dict[str, Any]] = []
        self.invalid = 0

    @property
    def here(self) -> str | None:
        """The node the walk stands on (None: above the roots)."""
        return self.stack[-1] if self.stack else None

    def options(self) -> list[str]:
        """Children of the current node not yet tried from it."""
        kids = self.tree.roots() if self.here is None else self.tree.nodes[self.here].children
        tried = self.tried.setdefault(self.here, set())
        return [c for c in kids if c not in tried]

    def memory(self) -> list[str]:
        """Summaries of the nodes on the current path: the working memory."""
        return [self.tree.nodes[n].text for n in self.stack]

    def back(self) -> bool:
        """Go up one node; False when already above the roots."""
        if not self.stack:
            return False
        self.stack.pop()
        return True


def navigate_by_llm(
    tree: SummaryTree,
    vector: np.ndarray,
    question: str,
    k: int,
    config: TreeSearch,
    navigator: LLMNavigator,
) -> TreeSearchResult:
    """Walk the tree with the LLM; the passages it read rank first (the one it answered from at
    the top), then the embedding walk's passages fill the list to k."""
    walk = _Walk(tree)
    decisions = 0
    while decisions < config.max_steps and walk.invalid < config.max_invalid:
        options = walk.options()
        if not options:
            if not walk.back():
                break
            continue
        choice = navigator.choose(question, [tree.nodes[o].text for o in options], walk.memory())
        decisions += 1
        walk.steps.append(
            {
                "at": walk.here,
                "options": options,
                "action": choice.action,
                "child": choice.child,
                "reasoning": choice.reasoning,
            }
        )
        if choice.action == "invalid":
            walk.invalid += 1
            continue
        if choice.action == "back" or choice.child is None:
            if not walk.back():
                break
            continue
        child = options[choice.child]
        walk.tried.setdefault(walk.here, set()).add(child)
        if not tree.nodes[child].is_leaf:
            walk.stack.append(child)
            continue
        reading = navigator.read_leaf(question, tree.nodes[child].text, walk.memory())
        decisions += 1
        walk.read.append(child)
        walk.steps.append(
            {
                "at": child,
                "action": reading.action,
                "answer": reading.answer,
                "reasoning": reading.reasoning,
            }
        )
        if reading.action == "answer":
            walk.answer, walk.answered_by = reading.answer, child
            break
        if reading.action == "invalid":
            walk.invalid += 1
    if walk.invalid >= config.max_invalid:
        logger.warning("tree navigation stopped after %d invalid LLM replies", walk.invalid)
    return _ranked(tree, vector, k, config, walk)


def _ranked(
    tree: SummaryTree, vector: np.ndarray, k: int, config: TreeSearch, walk: _Walk
) -> TreeSearchResult:
    """The LLM's passages first, then the embedding walk's, scored by rank."""
    first = [walk.answered_by] if walk.answered_by else []
    order = list(dict.fromkeys([*first, *walk.read]))[:k]
    hits = [
        Hit(
            passage_id=p,
            score=1.0 / (i + 1),
            retriever=KIND,
            reason=TreeReason(path=tree.path_to(p), layer=0, navigator="llm"),
        )
        for i, p in enumerate(order)
    ]
    filler = navigate_by_embedding(tree, vector, k + len(hits), config)
    for hit in filler.hits:
        if len(hits) >= k:
            break
        if hit.passage_id in order:
            continue
        reason = hit.reason.model_copy(update={"navigator": "embedding"}) if hit.reason else None
        hits.append(hit.model_copy(update={"score": 1.0 / (len(hits) + 1), "reason": reason}))
    details = {
        "navigator": "llm",
        "answer": walk.answer,
        "answered_by": walk.answered_by,
        "invalid_replies": walk.invalid,
    }
    return TreeSearchResult(hits, walk=walk.steps, details=details)
