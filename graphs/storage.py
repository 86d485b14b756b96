"""Saving and loading a KnowledgeGraph in open formats: JSON tables and NumPy CSR arrays."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from graphs.csr import CSRGraph
from graphs.knowledge_graph import KnowledgeGraph
from rag.errors import IndexFormatError
from rag.integrity import load_array

GRAPH_FILE = "graph.json"
CSR_FILES = ("csr_indptr.npy", "csr_indices.npy", "csr_weights.npy")
SYNONYMY_FILES = ("synonymy_pairs.npy", "synonymy_similarity.npy")


def save_graph(graph: KnowledgeGraph, directory: Path) -> None:
    """Write graph.json (nodes and facts), synonymy edges and the full graph's CSR arrays."""
    directory.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {
        "format": 1,
        "node_order": "entities then passages",
        "entities": graph.entities,
        "entity_labels": graph.entity_labels,
        "passages": graph.passages,
        "facts": [
            [s, r, o, text, sorted(ps)]
            for (s, r, o), text, ps in zip(
                graph.facts, graph.fact_texts, graph.fact_passages, strict=True
            )
        ],
    }
    (directory / GRAPH_FILE).write_text(json.dumps(data), encoding="utf-8")
    src, dst, sim = graph.synonymy_edges()
    np.save(directory / SYNONYMY_FILES[0], np.stack([src, dst], axis=1))
    np.save(directory / SYNONYMY_FILES[1], sim.astype(np.float32))
    csr = graph.csr()
    for name, array in zip(CSR_FILES, (csr.indptr, csr.indices, csr.weights), strict=True):
        np.save(directory / name, array)


def load_csr(directory: Path, n_nodes: int) -> CSRGraph:
    """Read back the saved full-graph CSR arrays, checking they fit a graph of `n_nodes`."""
    indptr, indices, weights = (load_array(directory / name, ndim=1) for name in CSR_FILES)
    problem = None
    if indptr.shape != (n_nodes + 1,):
        problem = f"{CSR_FILES[0]} has {indptr.shape[0]} entries for {n_nodes} nodes"
    elif int(indptr[0]) != 0 or bool((np.diff(indptr) < 0).any()):
        problem = f"{CSR_FILES[0]} is not a non-decreasing offset array from 0"
    elif indices.shape != weights.shape or indices.shape[0] != int(indptr[-1]):
        problem = f"{CSR_FILES[1]} and {CSR_FILES[2]} do not match {CSR_FILES[0]}"
    elif indices.size and (int(indices.min()) < 0 or int(indices.max()) >= n_nodes):
        problem = f"{CSR_FILES[1]} names nodes outside [0, {n_nodes})"
    elif not np.isfinite(weights).all() or (weights.size and float(weights.min()) < 0):
        problem = f"{CSR_FILES[2]} holds negative or non-finite weights"
    if problem:
        raise IndexFormatError(f"{directory}: {problem}")
    return CSRGraph(indptr=indptr, indices=indices, weights=weights)


def load_graph(directory: Path) -> KnowledgeGraph:
    """Read a graph written by save_graph."""
    pairs = load_array(directory / SYNONYMY_FILES[0], ndim=2)
    sims = load_array(directory / SYNONYMY_FILES[1], ndim=1)
    try:
        data = json.loads((directory / GRAPH_FILE).read_text(encoding="utf-8"))
        facts = [(int(s), str(r), int(o)) for s, r, o, _, _ in data["facts"]]
        fact_texts = [str(f[3]) for f in data["facts"]]
        fact_passages = [set(map(int, f[4])) for f in data["facts"]]
        entities, passages = list(data["entities"]), list(data["passages"])
        labels = list(data["entity_labels"])
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise IndexFormatError(f"{directory}: unreadable knowledge graph ({exc})") from exc
    _check_graph(directory, len(entities), len(passages), facts, fact_passages, pairs, sims)
    entity_passages: list[set[int]] = [set() for _ in entities]
    passage_facts: list[list[int]] = [[] for _ in passages]
    for frow, ((s, _, o), ps) in enumerate(zip(facts, fact_passages, strict=True)):
        for p in ps:
            passage_facts[p].append(frow)
        entity_passages[s] |= ps
        entity_passages[o] |= ps
    graph = KnowledgeGraph(
        entities=entities,
        entity_labels=labels,
        entity_passages=entity_passages,
        facts=facts,
        fact_texts=fact_texts,
        fact_passages=fact_passages,
        passages=passages,
        passage_facts=passage_facts,
    )
    graph.add_synonyms(pairs[:, 0], pairs[:, 1], sims)
    return graph


def _check_graph(
    directory: Path,
    n_entities: int,
    n_passages: int,
    facts: list[tuple[int, str, int]],
    fact_passages: list[set[int]],
    pairs: np.ndarray,
    sims: np.ndarray,
) -> None:
    """Raise unless every row a fact or synonymy edge names lies inside the saved graph."""
    problem = None
    if any(not (0 <= s < n_entities and 0 <= o < n_entities) for s, _, o in facts):
        problem = f"{GRAPH_FILE} has facts naming entities outside [0, {n_entities})"
    elif any(not 0 <= p < n_passages for ps in fact_passages for p in ps):
        problem = f"{GRAPH_FILE} has facts naming passages outside [0, {n_passages})"
    elif pairs.shape[1:] != (2,) or sims.shape != (pairs.shape[0],):
        problem = f"{SYNONYMY_FILES[0]} and {SYNONYMY_FILES[1]} do not match in shape"
    elif pairs.size and (int(pairs.min()) < 0 or int(pairs.max()) >= n_entities):
        problem = f"{SYNONYMY_FILES[0]} names entities outside [0, {n_entities})"
    elif not np.isfinite(sims).all():
        problem = f"{SYNONYMY_FILES[1]} holds non-finite similarities"
    if problem:
        raise IndexFormatError(f"{directory}: {problem}")
