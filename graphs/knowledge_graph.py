"""The knowledge graph of a HippoRAG-style memory: entities, facts, passages and their edges.

Rows are dense integer ids: entity rows index the entity embedding matrix, fact rows the fact
matrix, passage rows the passage matrix. In the graph, entity nodes come first (node = entity
row) and passage nodes follow (node = n_entities + passage row).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from graphs.csr import CSRGraph
from graphs.phrases import normalize_phrase

Triple = tuple[str, str, str]
FactKey = tuple[int, str, int]


@dataclass
class Removal:
    """Which rows survived a removal (boolean masks over the old rows), to subset vectors by."""

    entities: np.ndarray
    facts: np.ndarray
    passages: np.ndarray


@dataclass
class KnowledgeGraph:
    """Entities and facts extracted from passages, kept consistent under add and remove.

    Entity nodes are the normalized subjects and objects of triples. Fact edges join subject and
    object, weighted by how many passages assert a fact between them; passage-entity edges join
    a passage to every entity of its triples; synonymy edges join similar entities.
    """

    entities: list[str] = field(default_factory=list)
    entity_labels: list[str] = field(default_factory=list)
    entity_passages: list[set[int]] = field(default_factory=list)
    facts: list[FactKey] = field(default_factory=list)
    fact_texts: list[str] = field(default_factory=list)
    fact_passages: list[set[int]] = field(default_factory=list)
    passages: list[str] = field(default_factory=list)
    passage_facts: list[list[int]] = field(default_factory=list)
    synonyms: dict[tuple[int, int], float] = field(default_factory=dict)
    _entity_row: dict[str, int] = field(default_factory=dict, repr=False)
    _fact_row: dict[FactKey, int] = field(default_factory=dict, repr=False)
    _passage_row: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        """Index the row lists (when constructed from saved data)."""
        self._reindex()

    def _reindex(self) -> None:
        """Rebuild the lookups from the row lists."""
        self._entity_row = {e: i for i, e in enumerate(self.entities)}
        self._fact_row = {f: i for i, f in enumerate(self.facts)}
        self._passage_row = {p: i for i, p in enumerate(self.passages)}

    @property
    def n_entities(self) -> int:
        """Number of entity nodes."""
        return len(self.entities)

    @property
    def n_passages(self) -> int:
        """Number of passage nodes."""
        return len(self.passages)

    def passage_row(self, passage_id: str) -> int | None:
        """The row of a passage, or None if it is not in the graph."""
        return self._passage_row.get(passage_id)

    def entity_row(self, phrase: str) -> int | None:
        """The row of an entity by its (un-normalized) phrase, or None."""
        return self._entity_row.get(normalize_phrase(phrase))

    def _entity(self, label: str) -> int:
        """The row of an entity phrase, creating the node if new."""
        key = normalize_phrase(label)
        row = self._entity_row.get(key)
        if row is None:
            row = self._entity_row[key] = len(self.entities)
            self.entities.append(key)
            self.entity_labels.append(label.strip())
            self.entity_passages.append(set())
        return row

    def passage_entities(self, prow: int) -> set[int]:
        """Entity rows mentioned by the facts of one passage."""
        facts = [self.facts[f] for f in self.passage_facts[prow]]
        return {s for s, _, _ in facts} | {o for _, _, o in facts}

    def add_passage(self, passage_id: str, triples: Sequence[Triple]) -> None:
        """Add a passage node and its facts; a passage already present is left as it is."""
        if passage_id in self._passage_row:
            return
        prow = self._passage_row[passage_id] = len(self.passages)
        self.passages.append(passage_id)
        rows: list[int] = []
        for subject, relation, obj in triples:
            if not normalize_phrase(subject) or not normalize_phrase(obj):
                continue
            s, o = self._entity(subject), self._entity(obj)
            key = (s, " ".join(relation.lower().split()), o)
            frow = self._fact_row.get(key)
            if frow is None:
                frow = self._fact_row[key] = len(self.facts)
                self.facts.append(key)
                self.fact_texts.append(f"{subject.strip()} {relation.strip()} {obj.strip()}")
                self.fact_passages.append(set())
            if prow not in self.fact_passages[frow]:
                self.fact_passages[frow].add(prow)
                rows.append(frow)
            self.entity_passages[s].add(prow)
            self.entity_passages[o].add(prow)
        self.passage_facts.append(rows)

    def add_synonyms(self, src: np.ndarray, dst: np.ndarray, similarity: np.ndarray) -> None:
        """Record synonymy edges between entity rows (unordered pairs; the higher score wins)."""
        for a, b, sim in zip(src.tolist(), dst.tolist(), similarity.tolist(), strict=True):
            if a == b:
                continue
            key = (min(a, b), max(a, b))
            self.synonyms[key] = max(sim, self.synonyms.get(key, 0.0))

    def remove_passages(self, passage_ids: Iterable[str]) -> Removal:
        """Remove passages; facts and entities that no remaining passage asserts go with them."""
        gone = {r for pid in passage_ids if (r := self._passage_row.get(pid)) is not None}
        keep_p = np.ones(self.n_passages, dtype=bool)
        keep_p[list(gone)] = False
        for prow in gone:
            for frow in self.passage_facts[prow]:
                self.fact_passages[frow].discard(prow)
            for entity in self.passage_entities(prow):
                self.entity_passages[entity].discard(prow)
        keep_f = np.array([bool(ps) for ps in self.fact_passages], dtype=bool)
        keep_e = np.array([bool(ps) for ps in self.entity_passages], dtype=bool)
        self._compact(keep_e, keep_f, keep_p)
        return Removal(entities=keep_e, facts=keep_f, passages=keep_p)

    def _compact(self, keep_e: np.ndarray, keep_f: np.ndarray, keep_p: np.ndarray) -> None:
        """Drop rows not kept and renumber every reference to the survivors."""
        new_e = np.cumsum(keep_e) - 1
        new_f = np.cumsum(keep_f) - 1
        new_p = np.cumsum(keep_p) - 1
        self.entities = [e for e, k in zip(self.entities, keep_e, strict=True) if k]
        self.entity_labels = [e for e, k in zip(self.entity_labels, keep_e, strict=True) if k]
        self.entity_passages = [
            {int(new_p[p]) for p in ps}
            for ps, k in zip(self.entity_passages, keep_e, strict=True)
            if k
        ]
        self.facts = [
            (int(new_e[s]), r, int(new_e[o]))
            for (s, r, o), k in zip(self.facts, keep_f, strict=True)
            if k
        ]
        self.fact_texts = [t for t, k in zip(self.fact_texts, keep_f, strict=True) if k]
        self.fact_passages = [
            {int(new_p[p]) for p in ps}
            for ps, k in zip(self.fact_passages, keep_f, strict=True)
            if k
        ]
        self.passage_facts = [
            [int(new_f[f]) for f in fs if keep_f[f]]
            for fs, k in zip(self.passage_facts, keep_p, strict=True)
            if k
        ]
        self.passages = [p for p, k in zip(self.passages, keep_p, strict=True) if k]
        self.synonyms = {
            (int(new_e[a]), int(new_e[b])): s
            for (a, b), s in self.synonyms.items()
            if keep_e[a] and keep_e[b]
        }
        self._reindex()

    def specificity(self) -> np.ndarray:
        """1 / number of passages mentioning each entity (HippoRAG's node specificity)."""
        counts = np.array([len(ps) for ps in self.entity_passages], dtype=np.float64)
        return 1.0 / np.maximum(counts, 1.0)

    def fact_edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Subject-object edges weighted by the number of passages asserting them."""
        triples = [(s, o, len(self.fact_passages[i])) for i, (s, _, o) in enumerate(self.facts)]
        arr = np.array([t for t in triples if t[0] != t[1]], dtype=np.int64).reshape(-1, 3)
        return arr[:, 0], arr[:, 1], arr[:, 2].astype(np.float64)

    def synonymy_edges(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Synonymy edges weighted by embedding similarity."""
        pairs = np.array(list(self.synonyms), dtype=np.int64).reshape(-1, 2)
        return pairs[:, 0], pairs[:, 1], np.array(list(self.synonyms.values()), dtype=np.float64)

    def passage_entity_matrix(self) -> sparse.csr_array:
        """Passages x entities incidence matrix (1 where the passage mentions the entity)."""
        rows: list[int] = []
        cols: list[int] = []
        for e, ps in enumerate(self.entity_passages):
            rows.extend(ps)
            cols.extend([e] * len(ps))
        data = np.ones(len(rows), dtype=np.float64)
        shape = (self.n_passages, self.n_entities)
        return sparse.csr_array((data, (np.array(rows, dtype=np.int64), cols)), shape=shape)

    def csr(self, *, synonymy: bool = True, passage_nodes: bool = True) -> CSRGraph:
        """The undirected graph for PageRank: entity nodes, then passage nodes if asked."""
        parts = [self.fact_edges()]
        if synonymy:
            parts.append(self.synonymy_edges())
        n = self.n_entities
        if passage_nodes:
            incidence = self.passage_entity_matrix().tocoo()
            parts.append(
                (incidence.col.astype(np.int64), incidence.row.astype(np.int64) + n, incidence.data)
            )
            n += self.n_passages
        src = np.concatenate([p[0] for p in parts])
        dst = np.concatenate([p[1] for p in parts])
        weights = np.concatenate([p[2] for p in parts])
        return CSRGraph.from_edges(n, src, dst, weights)
