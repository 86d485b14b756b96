"""TreeEditor: structural edits of a summary tree, with summaries recomputed lazily in batches.

Builders only change structure (which node has which children) and mark what they touched;
`refresh` then re-summarizes every touched summary node once, children before parents, one
summarizer batch and one embedding batch per wave. So adding 100 passages costs one summary per
distinct touched node, not 100 x depth.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable

import numpy as np
from tqdm.auto import tqdm

from indexers.tree.model import SummaryTree, TreeNode
from rag.embed.base import Embedder
from rag.llm.usage import usage_scope
from rag.operators.summarize import Summarizer


def unit(vector: np.ndarray) -> np.ndarray:
    """The vector scaled to length 1 (zero stays zero)."""
    norm = float(np.linalg.norm(vector))
    return (vector / norm if norm > 0 else vector).astype(np.float32)


class TreeEditor:
    """Edits one tree and remembers the summary nodes whose text is out of date."""

    def __init__(
        self,
        tree: SummaryTree,
        summarizer: Summarizer,
        embedder: Embedder,
        show_progress: bool = False,
    ) -> None:
        """Edit `tree`; `refresh` summarizes with `summarizer` and embeds with `embedder`."""
        self.tree = tree
        self.summarizer = summarizer
        self.embedder = embedder
        self.show_progress = show_progress
        self.dirty: set[str] = set()
        self.stats: dict[str, float] = defaultdict(float)

    # ---- structure -------------------------------------------------------------------------
    def new_summary(self, children: list[str], partition: str) -> str:
        """A summary node over `children`, to be summarized on the next refresh."""
        tree = self.tree
        node = TreeNode(id=tree.new_id(), level=1, text="", partition=partition)
        node.children = list(children)
        tree.put(node, self.provisional_vector(children))
        tree.refresh_derived(node.id)
        self.dirty.add(node.id)
        return node.id

    def provisional_vector(self, children: Iterable[str]) -> np.ndarray:
        """The mean of the children's vectors: where a node sits until it is summarized."""
        return unit(np.mean([self.tree.vectors[c] for c in children], axis=0))

    def touch(self, node_id: str) -> None:
        """Mark a node (if a summary) and every node above it as out of date."""
        tree = self.tree
        for nid in [node_id, *tree.ancestors(node_id)]:
            if nid in tree.nodes and not tree.nodes[nid].is_leaf:
                self.dirty.add(nid)

    def set_children(self, node_id: str, children: list[str]) -> None:
        """Replace a summary node's children and mark it and its ancestors out of date."""
        self.tree.set_children(node_id, children)
        self.touch(node_id)

    def remove_leaf(self, leaf_id: str, collapse_single: bool = False) -> None:
        """Take a passage out; summaries left empty go too (and, if asked, those left with one
        child are replaced by that child)."""
        tree = self.tree
        parents = list(tree.parents(leaf_id))
        tree.remove(leaf_id)
        for parent in parents:
            self._unlink(parent, leaf_id, collapse_single)

    def _unlink(self, parent: str, child: str, collapse_single: bool) -> None:
        """Drop `child` from `parent`; a parent left empty goes, and (if asked) one left with a
        single child is replaced by it."""
        tree = self.tree
        node = tree.nodes.get(parent)
        if node is None:
            return
        tree.set_children(parent, [c for c in node.children if c != child])
        if node.children and not (collapse_single and len(node.children) == 1):
            self.touch(parent)
            return
        survivor = node.children[0] if node.children else None
        grand = list(tree.parents(parent))
        tree.remove(parent)
        self.dirty.discard(parent)
        for g in grand:
            if survivor is None:
                self._unlink(g, parent, collapse_single)
                continue
            kids = [survivor if c == parent else c for c in tree.nodes[g].children]
            tree.set_children(g, list(dict.fromkeys(kids)))
            self.touch(g)

    # ---- summaries -------------------------------------------------------------------------
    def _waves(self) -> list[list[str]]:
        """Dirty nodes grouped so that every node comes after its dirty descendants."""
        tree = self.tree
        dirty = {n for n in self.dirty if n in tree.nodes}
        rank: dict[str, int] = {}

        def rank_of(nid: str) -> int:
            if nid not in rank:
                kids = [c for c in tree.nodes[nid].children if c in dirty]
                rank[nid] = 1 + max((rank_of(c) for c in kids), default=-1)
            return rank[nid]

        waves: dict[int, list[str]] = defaultdict(list)
        for nid in sorted(dirty, key=lambda n: (tree.nodes[n].level, n)):
            waves[rank_of(nid)].append(nid)
        return [waves[r] for r in sorted(waves)]

    def refresh(self) -> int:
        """Summarize and embed every out-of-date node, children first; the number summarized."""
        from rag.tokens import count_tokens

        tree, done = self.tree, 0
        waves = self._waves()
        total = sum(len(w) for w in waves)
        # Only long refreshes (a first build, an LLM summarizer) are worth a bar.
        bar = tqdm(
            total=total, desc="summaries", unit="node", disable=not self.show_progress or total < 20
        )
        with usage_scope() as usage, bar:
            for wave in waves:
                for nid in wave:
                    tree.refresh_derived(nid)
                groups = [[tree.nodes[c].text for c in tree.nodes[nid].children] for nid in wave]
                start = time.perf_counter()
                summaries = self.summarizer.summarize(groups)
                self.stats["summarize_s"] += time.perf_counter() - start
                start = time.perf_counter()
                vectors = self.embedder.embed([s.text for s in summaries])
                self.stats["embed_s"] += time.perf_counter() - start
                for nid, summary, vector in zip(wave, summaries, vectors, strict=True):
                    node = tree.nodes[nid]
                    node.text, node.tokens = summary.text, count_tokens(summary.text)
                    node.provenance = {
                        k: v
                        for k, v in {
                            "summarizer": summary.summarizer,
                            "model": summary.model,
                            "prompt_version": summary.prompt_version,
                            "fallback": summary.fallback,
                        }.items()
                        if v is not None
                    }
                    tree.vectors[nid] = unit(np.asarray(vector))
                done += len(wave)
                bar.update(len(wave))
        tree.changed()
        self.dirty.clear()
        self.stats["summaries"] += done
        self.stats["llm_calls"] += usage.calls
        return done
