"""The three ways to shape a summary tree: RAPTOR, MemWalker and MemTree.

A builder changes structure only, through a TreeEditor; the editor re-summarizes what was
touched afterwards, in batches. Each builder states what `insert` and `remove` cost.
"""

from __future__ import annotations

import logging
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
from tqdm.auto import tqdm

from indexers.tree.clustering import ClusteringProgress, ClusterParams, cluster
from indexers.tree.config import TreeSettings
from indexers.tree.editor import TreeEditor
from indexers.tree.model import SummaryTree, TreeNode

logger = logging.getLogger(__name__)


def position_key(node: TreeNode) -> tuple[object, ...]:
    """Where a passage stands in reading order: its document (record numbers compared as
    numbers, so file.json#10 follows file.json#9), then its offset there."""
    span = node.spans[0] if node.spans else None
    document = span.document if span else ""
    parts = tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", document))
    return (tuple((isinstance(p, int), p) for p in parts), span.start if span else 0, node.id)


def partition_nodes(tree: SummaryTree, partition: str) -> list[TreeNode]:
    """The nodes of one tree of the forest."""
    return [n for n in tree.nodes.values() if n.partition == partition]


class TreeBuilder(ABC):
    """Places new passages in a tree and takes deleted ones out."""

    name: ClassVar[str]

    def __init__(self, settings: TreeSettings) -> None:
        """A builder with the tree settings."""
        self.settings = settings

    @abstractmethod
    def insert(self, editor: TreeEditor, partition: str, leaves: Sequence[str]) -> None:
        """Place new leaves (already in the tree, without parents) into `partition`'s tree."""

    def remove(self, editor: TreeEditor, leaf: str) -> None:
        """Take a passage out; ancestors are re-summarized on the next refresh."""
        editor.remove_leaf(leaf)

    def rebuild(self, editor: TreeEditor, partition: str) -> None:
        """Drop a partition's summaries and build them again from its leaves."""
        tree = editor.tree
        for node in partition_nodes(tree, partition):
            if not node.is_leaf:
                tree.remove(node.id)
                editor.dirty.discard(node.id)
        leaves = [n.id for n in partition_nodes(tree, partition)]
        self.insert(editor, partition, leaves)


class RaptorBuilder(TreeBuilder):
    """RAPTOR (Sarthi et al., 2024): layers of summaries over soft Gaussian-mixture clusters.

    Costs: a first build clusters each layer (UMAP + mixtures by BIC) and summarizes every
    cluster once. `insert` into a built tree places each new leaf under the nearest first-layer
    summary (by embedding) and re-summarizes the ancestors touched, once each per batch; the
    clusters are not recomputed, so after many adds `rag index --rebuild` re-clusters from
    scratch. `remove` drops the leaf, empty summaries, and re-summarizes its ancestors.
    """

    name: ClassVar[str] = "raptor"

    def params(self) -> ClusterParams:
        """Clustering parameters from the settings."""
        s = self.settings
        return ClusterParams(
            dims=s.raptor_dims,
            threshold=s.raptor_threshold,
            max_clusters=s.raptor_max_clusters,
            max_tokens=s.raptor_max_cluster_tokens,
            seed=s.seed,
            bic_patience=s.raptor_bic_patience,
        )

    def insert(self, editor: TreeEditor, partition: str, leaves: Sequence[str]) -> None:
        """Cluster the partition from scratch when it has no summaries yet, else place leaves."""
        tree = editor.tree
        firsts = [n.id for n in partition_nodes(tree, partition) if n.level == 1]
        if not firsts:
            everything = [n.id for n in partition_nodes(tree, partition) if n.is_leaf]
            self._build(editor, partition, everything)
            return
        matrix = np.vstack([tree.vectors[f] for f in firsts])
        for leaf in leaves:
            best = firsts[int(np.argmax(matrix @ tree.vectors[leaf]))]
            editor.set_children(best, [*tree.nodes[best].children, leaf])

    def _build(self, editor: TreeEditor, partition: str, leaves: list[str]) -> None:
        """Cluster and summarize layer after layer until a layer is a single node."""
        tree, layer, params = editor.tree, list(leaves), self.params()
        for level in range(1, self.settings.raptor_max_layers + 1):
            if len(layer) <= 1:
                break
            vectors = np.vstack([tree.vectors[n] for n in layer])
            tokens = [max(1, tree.nodes[n].tokens) for n in layer]
            groups = self._cluster(vectors, tokens, params, level, editor.show_progress)
            if len(groups) >= len(layer):
                logger.debug("raptor: clustering no longer reduces %d nodes; stopping", len(layer))
                break
            logger.debug("raptor: %d nodes clustered into %d", len(layer), len(groups))
            layer = [editor.new_summary([layer[i] for i in g], partition) for g in groups]
            # The next layer clusters the embeddings of these summaries, so they are made now.
            editor.refresh()

    @staticmethod
    def _cluster(
        vectors: np.ndarray, tokens: list[int], params: ClusterParams, level: int, show: bool
    ) -> list[list[int]]:
        """One layer's clusters, with a bar of mixture searches (their number grows as found)."""
        # Small layers finish in a blink; a bar for them would only flicker.
        with tqdm(
            desc=f"raptor layer {level}: clusterings",
            unit="search",
            disable=not show or len(vectors) < 50,
        ) as bar:

            def update(done: int, expected: int) -> None:
                bar.total = expected
                bar.n = done
                bar.refresh()

            return cluster(vectors, tokens, params, ClusteringProgress(update))


class MemWalkerBuilder(TreeBuilder):
    """MemWalker (Chen et al., 2023): consecutive passages grouped and summarized up to a root.

    Positional, not semantic: leaves stay in reading order. Costs: a first build summarizes
    every group once. `insert` puts a leaf right after its predecessor in reading order and
    re-summarizes that group and its ancestors; a group past `memwalker_max_fanout` splits in
    two (as a B-tree node does), one extra summary. `remove` re-summarizes the affected group
    and its ancestors; an emptied group goes.
    """

    name: ClassVar[str] = "memwalker"

    def insert(self, editor: TreeEditor, partition: str, leaves: Sequence[str]) -> None:
        """Group from scratch when the partition has no summaries, else insert in order."""
        tree = editor.tree
        nodes = partition_nodes(tree, partition)
        if not any(not n.is_leaf for n in nodes):
            ordered = sorted((n for n in nodes if n.is_leaf), key=position_key)
            self._build(editor, partition, [n.id for n in ordered])
            return
        pending = set(leaves)
        for leaf in sorted(leaves, key=lambda n: position_key(tree.nodes[n])):
            pending.discard(leaf)
            self._insert_one(editor, partition, leaf, pending)

    def _build(self, editor: TreeEditor, partition: str, layer: list[str]) -> None:
        """Group `fanout` consecutive nodes per parent, layer by layer, to one root."""
        fanout = self.settings.memwalker_fanout
        while len(layer) > 1:
            layer = [
                editor.new_summary(layer[i : i + fanout], partition)
                for i in range(0, len(layer), fanout)
            ]

    def _insert_one(self, editor: TreeEditor, partition: str, leaf: str, pending: set[str]) -> None:
        """Put a leaf after its predecessor in reading order (before the first leaf if none);
        leaves of the same batch not yet placed are no anchors."""
        tree = editor.tree
        key = position_key(tree.nodes[leaf])
        others = sorted(
            (
                n
                for n in partition_nodes(tree, partition)
                if n.is_leaf and n.id != leaf and n.id not in pending
            ),
            key=position_key,
        )
        before = [n for n in others if position_key(n) < key]
        anchor = before[-1] if before else others[0]
        parents = tree.parents(anchor.id)
        if not parents:
            # The anchor is a lone root leaf: the two become the tree's first group.
            editor.new_summary([anchor.id, leaf] if before else [leaf, anchor.id], partition)
            return
        group = parents[0]
        kids = list(tree.nodes[group].children)
        at = kids.index(anchor.id) + (1 if before else 0)
        kids.insert(at, leaf)
        editor.set_children(group, kids)
        self._split_if_full(editor, partition, group)

    def _split_if_full(self, editor: TreeEditor, partition: str, group: str) -> None:
        """Split an overfull group in two halves, carrying the split upwards as needed."""
        tree = editor.tree
        kids = tree.nodes[group].children
        if len(kids) <= self.settings.memwalker_max_fanout:
            return
        half = len(kids) // 2
        editor.set_children(group, kids[:half])
        sibling = editor.new_summary(kids[half:], partition)
        parents = tree.parents(group)
        if not parents:
            editor.new_summary([group, sibling], partition)
            return
        parent = parents[0]
        above = list(tree.nodes[parent].children)
        above.insert(above.index(group) + 1, sibling)
        editor.set_children(parent, above)
        self._split_if_full(editor, partition, parent)


class MemTreeBuilder(TreeBuilder):
    """MemTree (Rezazadeh et al., 2024): each passage walks down to where it is most similar.

    From the roots, a new passage descends into the most similar child while the similarity
    passes theta(d) = memtree_threshold * exp(memtree_threshold_rate * d / D) (d: depth of the
    node, D: depth of the tree); where it stops it becomes a new child, and a leaf it would
    descend into becomes a new summary over the two. Costs: `insert` compares with the children
    along one path (O(depth x fanout) dot products) and re-summarizes that path once per batch
    (nodes created in a batch are routed by the mean of their children until summarized).
    `remove` takes the leaf out, replaces a summary left with one child by that child, and
    re-summarizes the ancestors.
    """

    name: ClassVar[str] = "memtree"

    def threshold(self, depth: int, tree_depth: int) -> float:
        """The similarity needed to descend into a node at `depth` (roots are depth 0)."""
        s = self.settings
        return s.memtree_threshold * math.exp(s.memtree_threshold_rate * depth / max(1, tree_depth))

    def insert(self, editor: TreeEditor, partition: str, leaves: Sequence[str]) -> None:
        """Route each new leaf down the tree, in the order given."""
        pending = set(leaves)
        for leaf in leaves:
            pending.discard(leaf)
            self._insert_one(editor, partition, leaf, pending)

    def _insert_one(self, editor: TreeEditor, partition: str, leaf: str, pending: set[str]) -> None:
        """Descend from the roots while similar enough; attach where the walk stops. Leaves of
        the same batch not yet placed are not part of the tree yet."""
        tree = editor.tree
        vector = tree.vectors[leaf]
        roots = [
            n
            for n in tree.roots()
            if tree.nodes[n].partition == partition and n != leaf and n not in pending
        ]
        tree_depth = max((tree.nodes[r].level for r in roots), default=0)
        parent: str | None = None
        options, depth = roots, 0
        while options:
            sims = np.vstack([tree.vectors[o] for o in options]) @ vector
            best = int(np.argmax(sims))
            if sims[best] < self.threshold(depth, tree_depth):
                break
            chosen = options[best]
            if tree.nodes[chosen].is_leaf:
                self._pair(editor, partition, parent, chosen, leaf)
                return
            parent, options, depth = chosen, list(tree.nodes[chosen].children), depth + 1
        if parent is not None:
            editor.set_children(parent, [*tree.nodes[parent].children, leaf])

    def _pair(
        self, editor: TreeEditor, partition: str, parent: str | None, old: str, new: str
    ) -> None:
        """Replace leaf `old` (under `parent`, or a root) by a new summary over old and new."""
        tree = editor.tree
        pair = editor.new_summary([old, new], partition)
        if parent is not None:
            kids = [pair if c == old else c for c in tree.nodes[parent].children]
            editor.set_children(parent, kids)

    def remove(self, editor: TreeEditor, leaf: str) -> None:
        """Take the leaf out; a summary left with one child is replaced by that child."""
        editor.remove_leaf(leaf, collapse_single=True)


BUILDERS: dict[str, type[TreeBuilder]] = {
    b.name: b for b in (RaptorBuilder, MemWalkerBuilder, MemTreeBuilder)
}
