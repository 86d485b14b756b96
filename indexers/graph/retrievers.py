"""HippoRAG 1 and HippoRAG 2 retrieval over a GraphIndex: seeds, PageRank, ranked passages."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from indexers.graph.config import GraphSearch
from rag.compute import single_threaded_blas
from rag.fusion import ranks_of, rrf_contribution
from rag.llm.base import LLM
from rag.operators.openie import Extractor, LLMOpenIE, PatternOpenIE
from rag.query import Query
from rag.types import GraphReason, Hit

if TYPE_CHECKING:
    from indexers.graph.index import GraphIndex

logger = logging.getLogger(__name__)
_REASON_ITEMS = 5


@dataclass
class GraphResult:
    """Ranked hits and what produced them: seed entities, matched facts, or the fallback used."""

    hits: list[Hit]
    seeds: list[tuple[str, float]] = field(default_factory=list)
    facts: list[tuple[str, float]] = field(default_factory=list)
    fallback: str | None = None


def min_max(values: np.ndarray) -> np.ndarray:
    """Scale to [0, 1]; a constant vector becomes all ones."""
    if values.size == 0:
        return values
    low, span = values.min(), values.max() - values.min()
    return (values - low) / span if span > 0 else np.ones_like(values)


def links_query_entities(config: GraphSearch) -> bool:
    """Whether the retriever links the query's named entities to entity nodes."""
    return config.method == "hipporag" or config.query_entity_weight > 0


def query_phrases(query: str, llm: LLM | None, offline: Extractor | None = None) -> list[str]:
    """The query's named entities (LLM, else `offline` NER, else pattern rules), or the query
    itself when it names none."""
    ner = LLMOpenIE(llm) if llm is not None else offline or PatternOpenIE()
    return ner.query_entities(query) or [query]


def retrieve(index: GraphIndex, query: Query, k: int, config: GraphSearch) -> GraphResult:
    """Run the retriever `config.method` names.

    The query's entity phrases, when needed, are embedded in the same batch as the query.
    """
    if index.graph.n_passages == 0:
        return GraphResult(hits=[])
    phrase_vectors = None
    if links_query_entities(config):
        phrase_vectors = query.embed_with(query_phrases(query.text, query.llm, index.query_ner()))
    with single_threaded_blas():
        dense = index.passage_vectors @ query.vector.astype(np.float32)
        if config.method == "hipporag":
            assert phrase_vectors is not None
            return _hipporag1(index, phrase_vectors, dense, k, config, query.rrf_k)
        return _hipporag2(index, query, dense, k, config, phrase_vectors)


def _dense_fallback(
    index: GraphIndex, dense: np.ndarray, k: int, why: str, method: str
) -> GraphResult:
    """Rank by dense similarity alone, saying why the graph was not used."""
    order = np.argsort(-dense, kind="stable")[:k]
    hits = [
        Hit(
            passage_id=index.graph.passages[p],
            score=float(dense[p]),
            retriever=index.kind,
            reason=GraphReason(method=method, fallback=why, dense=round(float(dense[p]), 4)),
        )
        for p in order
    ]
    return GraphResult(hits=hits, fallback=why)


def _hipporag2(
    index: GraphIndex,
    query: Query,
    dense: np.ndarray,
    k: int,
    config: GraphSearch,
    phrase_vectors: np.ndarray | None,
) -> GraphResult:
    """Facts matched to the query seed their entities; passages are seeded by dense scores."""
    graph, llm = index.graph, query.llm
    if not graph.facts:
        return _dense_fallback(index, dense, k, "the graph has no facts", config.method)
    fact_sims = index.fact_vectors @ query.vector.astype(np.float32)
    top = _top(fact_sims, config.fact_top_k)
    top = top[fact_sims[top] >= config.min_fact_similarity]
    if len(top):
        recognition = index.fact_filter(config.recognition, llm)
        top = top[recognition.keep(query.text, [graph.fact_texts[f] for f in top])]
    if not len(top):
        return _dense_fallback(index, dense, k, "no fact matched the query", config.method)
    fact_scores = min_max(fact_sims)
    specificity = index.specificity() if config.specificity else np.ones(graph.n_entities)
    totals: dict[int, float] = {}
    counts: dict[int, int] = {}
    for f in top:
        subject, _, obj = graph.facts[f]
        for e in {subject, obj}:
            totals[e] = totals.get(e, 0.0) + float(fact_scores[f]) * specificity[e]
            counts[e] = counts.get(e, 0) + 1
    seeds = {e: totals[e] / counts[e] for e in totals}
    if phrase_vectors is not None and config.query_entity_weight > 0:
        for e, w in _linked_entities(index, phrase_vectors, config, specificity).items():
            seeds[e] = seeds.get(e, 0.0) + config.query_entity_weight * w
    n_e = graph.n_entities
    if config.passage_nodes:
        reset = np.zeros(n_e + graph.n_passages)
        reset[n_e:] = min_max(dense) * config.passage_node_weight
    else:
        reset = np.zeros(n_e)
    for e, w in seeds.items():
        reset[e] = w
    operator = index.operator(synonymy=config.synonymy, passage_nodes=config.passage_nodes)
    rank = operator.run(reset, config.damping)
    scores = rank[n_e:] if config.passage_nodes else index.incidence() @ rank[:n_e]
    matched = [(graph.fact_texts[f], float(fact_sims[f])) for f in top]
    found = set(top.tolist())
    return _ranked(index, scores, dense, k, seeds, found, matched, config, query.rrf_k)


def _hipporag1(
    index: GraphIndex,
    phrase_vectors: np.ndarray,
    dense: np.ndarray,
    k: int,
    config: GraphSearch,
    rrf_k: int,
) -> GraphResult:
    """Query entities linked to their nearest entity nodes seed PageRank over the entity graph."""
    graph = index.graph
    if graph.n_entities == 0:
        return _dense_fallback(index, dense, k, "the graph has no entities", config.method)
    specificity = index.specificity() if config.specificity else np.ones(graph.n_entities)
    seeds = _linked_entities(index, phrase_vectors, config, specificity)
    reset = np.zeros(graph.n_entities)
    for e, w in seeds.items():
        reset[e] = w
    operator = index.operator(synonymy=config.synonymy, passage_nodes=False)
    rank = operator.run(reset, config.damping)
    scores = index.incidence() @ rank
    return _ranked(index, scores, dense, k, seeds, set(), [], config, rrf_k)


def _linked_entities(
    index: GraphIndex, phrase_vectors: np.ndarray, config: GraphSearch, specificity: np.ndarray
) -> dict[int, float]:
    """Entity nodes nearest to each query phrase, weighted by specificity."""
    seeds: dict[int, float] = {}
    for vector in np.asarray(phrase_vectors, dtype=np.float32):
        # One mat-vec per phrase: OpenBLAS is several times slower on the skinny mat-mat.
        row = index.entity_vectors @ vector
        for e in _top(row, config.link_top_k):
            seeds[int(e)] = max(seeds.get(int(e), 0.0), float(specificity[e]))
    return seeds


def _rrf(graph_scores: np.ndarray, dense: np.ndarray, dense_weight: float, k: int) -> np.ndarray:
    """Reciprocal-rank fusion of the PageRank ranking with the dense ranking."""
    graph_ranks = ranks_of(graph_scores, tie_break=dense)
    return rrf_contribution(graph_ranks, k) + rrf_contribution(ranks_of(dense), k, dense_weight)


def _top(values: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest values, largest first."""
    k = min(k, len(values))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-values, k - 1)[:k]
    return part[np.argsort(-values[part], kind="stable")]


def _ranked(
    index: GraphIndex,
    scores: np.ndarray,
    dense: np.ndarray,
    k: int,
    seeds: dict[int, float],
    facts: set[int],
    matched: list[tuple[str, float]],
    config: GraphSearch,
    rrf_k: int,
) -> GraphResult:
    """Hits by PageRank score (ties broken by dense similarity), each with its reason."""
    graph = index.graph
    pagerank = scores
    fusion: float | Literal["auto"] = config.dense_fusion
    if fusion == "auto":
        fusion = index.auto_dense_fusion()
    if fusion > 0:
        scores = _rrf(pagerank, dense, fusion, rrf_k)
    order = np.lexsort((-dense, -scores))[:k]
    ranked_seeds = sorted(seeds.items(), key=lambda x: -x[1])
    hits = []
    for p in order:
        passage_facts = [f for f in graph.passage_facts[p] if f in facts]
        entities = graph.passage_entities(p)
        reason = GraphReason(
            method=config.method,
            pagerank=float(pagerank[p]),
            dense=round(float(dense[p]), 4),
            seeds=[(graph.entity_labels[e], round(w, 5)) for e, w in ranked_seeds if e in entities][
                :_REASON_ITEMS
            ],
            facts=[graph.fact_texts[f] for f in passage_facts][:_REASON_ITEMS],
            fused_with_dense=fusion if fusion > 0 else None,
        )
        hits.append(
            Hit(
                passage_id=graph.passages[p],
                score=float(scores[p]),
                retriever=index.kind,
                reason=reason,
            )
        )
    seed_list = sorted(((graph.entity_labels[e], w) for e, w in seeds.items()), key=lambda x: -x[1])
    return GraphResult(hits=hits, seeds=seed_list, facts=matched)
