"""The summary-tree model: nodes over passages, their vectors, invariants, and open-format files.

A tree here is a forest of rooted DAGs: leaves (level 0) are passages, a summary node sits above
its children (level = 1 + the highest child level) and lists the passages under it. RAPTOR's
soft clustering lets a node have several parents; MemWalker and MemTree trees have one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import IndexFormatError

NODES_FILE = "nodes.jsonl"
VECTORS_FILE = "vectors.npy"


@dataclass
class Span:
    """The stretch of one document a node covers: its source and first/last position there."""

    document: str
    start: int
    end: int


@dataclass
class TreeNode:
    """One node: a passage (level 0) or a summary of its children."""

    id: str
    level: int
    text: str
    partition: str = ""
    children: list[str] = field(default_factory=list)
    leaves: list[str] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    tokens: int = 0

    @property
    def is_leaf(self) -> bool:
        """Whether this node is a passage."""
        return self.level == 0

    def to_json(self) -> str:
        """One JSONL line."""
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TreeNode:
        """A node from its JSON object."""
        spans = [Span(**s) for s in data.pop("spans", [])]
        return cls(**data, spans=spans)


def merged_spans(spans: Iterable[Span]) -> list[Span]:
    """One span per document: from the first start to the last end of the spans given."""
    merged: dict[str, Span] = {}
    for span in spans:
        have = merged.get(span.document)
        if have is None:
            merged[span.document] = Span(span.document, span.start, span.end)
        else:
            have.start, have.end = min(have.start, span.start), max(have.end, span.end)
    return list(merged.values())


class SummaryTree:
    """Nodes by id with one unit vector each; parents are derived, never stored."""

    def __init__(self, dim: int) -> None:
        """An empty forest for vectors of `dim`."""
        self.dim = dim
        self.nodes: dict[str, TreeNode] = {}
        self.vectors: dict[str, np.ndarray] = {}
        self.next_id = 0
        # Kept in step with every edit, so that inserts stay O(depth), not O(nodes).
        self._parents: dict[str, list[str]] = {}
        self._matrix: tuple[list[str], np.ndarray] | None = None

    # ---- structure -------------------------------------------------------------------------
    def __len__(self) -> int:
        """Number of nodes."""
        return len(self.nodes)

    def new_id(self) -> str:
        """A fresh summary-node id (`s` + a counter saved with the tree)."""
        self.next_id += 1
        return f"s{self.next_id}"

    def changed(self) -> None:
        """Forget the vector matrix after an edit."""
        self._matrix = None

    def _link(self, parent: str, children: list[str]) -> None:
        """Record `parent` as a parent of each child."""
        for child in children:
            self._parents.setdefault(child, []).append(parent)

    def _unlink(self, parent: str, children: list[str]) -> None:
        """Forget `parent` as a parent of each child."""
        for child in children:
            links = self._parents.get(child)
            if links and parent in links:
                links.remove(parent)
                if not links:
                    del self._parents[child]

    def put(self, node: TreeNode, vector: np.ndarray | None = None) -> None:
        """Add or replace a node (and its vector, when given)."""
        old = self.nodes.get(node.id)
        if old is not None:
            self._unlink(old.id, old.children)
        self.nodes[node.id] = node
        self._link(node.id, node.children)
        if vector is not None:
            self.vectors[node.id] = np.asarray(vector, dtype=np.float32)
        self.changed()

    def set_children(self, node_id: str, children: list[str]) -> None:
        """Replace a node's children."""
        node = self.nodes[node_id]
        self._unlink(node_id, node.children)
        node.children = list(children)
        self._link(node_id, node.children)

    def remove(self, node_id: str) -> None:
        """Drop a node and its vector (callers unlink it from its parents first)."""
        node = self.nodes.pop(node_id, None)
        if node is not None:
            self._unlink(node_id, node.children)
        self.vectors.pop(node_id, None)
        self.changed()

    def parents(self, node_id: str) -> list[str]:
        """The nodes that list `node_id` as a child."""
        return list(self._parents.get(node_id, []))

    def roots(self) -> list[str]:
        """Nodes without a parent, in insertion order."""
        return [nid for nid in self.nodes if nid not in self._parents]

    def ancestors(self, node_id: str) -> list[str]:
        """Every node above `node_id`, nearest first (each once)."""
        seen: dict[str, None] = {}
        todo = list(self.parents(node_id))
        while todo:
            nid = todo.pop(0)
            if nid not in seen:
                seen[nid] = None
                todo.extend(self.parents(nid))
        return list(seen)

    def path_to(self, node_id: str) -> list[str]:
        """Node ids from a root down to `node_id` (through the first parent at each step)."""
        path = [node_id]
        while parents := self.parents(path[0]):
            path.insert(0, parents[0])
        return path

    def leaf_nodes(self) -> Iterator[TreeNode]:
        """The passage nodes."""
        return (n for n in self.nodes.values() if n.is_leaf)

    def summary_nodes(self) -> Iterator[TreeNode]:
        """The summary nodes."""
        return (n for n in self.nodes.values() if not n.is_leaf)

    def refresh_derived(self, node_id: str) -> None:
        """Recompute a summary node's level, leaves and spans from its children."""
        node = self.nodes[node_id]
        kids = [self.nodes[c] for c in node.children]
        node.level = 1 + max(k.level for k in kids)
        node.leaves = list(dict.fromkeys(pid for k in kids for pid in k.leaves))
        node.spans = merged_spans(s for k in kids for s in k.spans)

    def matrix(self) -> tuple[list[str], np.ndarray]:
        """All node ids and their vectors as one matrix (rows in the same order)."""
        if self._matrix is None:
            ids = list(self.nodes)
            rows = [self.vectors[i] for i in ids]
            stacked = np.vstack(rows) if rows else np.zeros((0, self.dim), dtype=np.float32)
            self._matrix = (ids, stacked.astype(np.float32, copy=False))
        return self._matrix

    # ---- invariants ------------------------------------------------------------------------
    def check(self, where: str) -> None:
        """Raise IndexFormatError naming the first node that breaks an invariant."""
        for node in self.nodes.values():
            problem = self._node_problem(node)
            if problem:
                raise IndexFormatError(f"{where}: tree node {node.id!r} {problem}")

    def _node_problem(self, node: TreeNode) -> str | None:
        """What is wrong with one node, or None."""
        if node.id not in self.vectors:
            return "has no vector"
        if self.vectors[node.id].shape != (self.dim,):
            return f"has a vector of shape {self.vectors[node.id].shape}, expected ({self.dim},)"
        if node.is_leaf:
            if node.children:
                return "is a passage (level 0) but has children"
            return None if node.leaves == [node.id] else "is a passage but lists other leaves"
        if not node.children:
            return "is a summary without children"
        missing = [c for c in node.children if c not in self.nodes]
        if missing:
            return f"has missing children: {', '.join(missing[:5])}"
        kids = [self.nodes[c] for c in node.children]
        if any(k.level >= node.level for k in kids):
            return f"(level {node.level}) has a child at its own level or above"
        leaves = {pid for k in kids for pid in k.leaves}
        if leaves != set(node.leaves):
            return "lists leaves that differ from its children's"
        return None

    # ---- files -----------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        """Write nodes.jsonl and vectors.npy (rows in nodes.jsonl order)."""
        directory.mkdir(parents=True, exist_ok=True)
        ids, matrix = self.matrix()
        with (directory / NODES_FILE).open("w", encoding="utf-8") as out:
            for nid in ids:
                out.write(self.nodes[nid].to_json() + "\n")
        np.save(directory / VECTORS_FILE, matrix)

    @classmethod
    def load(cls, directory: Path, dim: int, next_id: int) -> SummaryTree:
        """Read a saved tree and check its invariants; a bad file is an IndexFormatError."""
        tree = cls(dim)
        tree.next_id = next_id
        try:
            lines = (directory / NODES_FILE).read_text(encoding="utf-8").splitlines()
            nodes = [TreeNode.from_dict(json.loads(line)) for line in lines if line]
            matrix = np.load(directory / VECTORS_FILE)
        except (OSError, ValueError, TypeError) as exc:
            raise IndexFormatError(f"{directory}: unreadable tree index ({exc})") from exc
        if len(matrix) != len(nodes):
            raise IndexFormatError(f"{directory}: {len(matrix)} vectors for {len(nodes)} nodes")
        for node, vector in zip(nodes, matrix, strict=True):
            if node.id in tree.nodes:
                raise IndexFormatError(f"{directory}: tree node {node.id!r} appears twice")
            tree.put(node, vector)
        tree.check(str(directory))
        return tree
