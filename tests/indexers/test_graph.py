"""The knowledge-graph index: conformance, incremental linking, reasons, HippoRAG retrieval."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

import indexers.graph.index as graph_index_module
from indexers.context import BuildContext
from indexers.graph import GraphIndex, GraphSearch, retrieve
from rag.embed.base import Embedder
from rag.operators.openie import Extraction, Extractor, PatternOpenIE
from rag.query import Query
from rag.settings import Settings
from rag.types import GraphReason, Passage
from tests.indexers.conformance import IndexConformance


class FixedTriples(Extractor):
    """Test extractor: the triples written for each passage title; counts passages read."""

    name = "fixed"

    def __init__(self, triples: dict[str, list[tuple[str, str, str]]]) -> None:
        self.triples = triples
        self.read: list[str] = []

    def extract(
        self, passages: Sequence[Passage], *, show_progress: bool = False
    ) -> list[Extraction]:
        self.read.extend(p.id for p in passages)
        return [
            Extraction(passage_id=p.id, triples=self.triples.get(p.title or "", []))
            for p in passages
        ]

    def query_entities(self, text: str) -> list[str]:
        return PatternOpenIE().query_entities(text)


class TestGraphConformance(IndexConformance):
    def make_index(self, embedder: Embedder) -> GraphIndex:
        return GraphIndex(embedder, extractor=PatternOpenIE())

    def load_index(self, directory, embedder):  # type: ignore[no-untyped-def]
        index = GraphIndex.load(directory, BuildContext(embedder, Settings(show_progress=False)))
        index.use_extractor(PatternOpenIE())
        return index

    def search_configs(self):  # type: ignore[no-untyped-def]
        return [
            {"method": "hipporag"},
            {"method": "hipporag2", "fact_top_k": 5, "query_entity_weight": 0.0},
            {"damping": 0.85, "synonymy": False, "passage_nodes": False},
            {"dense_fusion": 0.0},
        ]


BRIDGE = {
    "Alice Varga": [("Alice Varga", "was born in", "Lindholm")],
    "Lindholm": [("Lindholm", "is a town in", "Northern Veldia")],
    "Veldia": [("Northern Veldia", "has capital", "Port Ember")],
    "Noise": [("Bob Kent", "plays", "chess")],
}
TEXTS = {
    "Alice Varga": "Alice Varga, the painter, was born in Lindholm in 1931.",
    "Lindholm": "Lindholm is a small fishing town in Northern Veldia.",
    "Veldia": "The capital of Northern Veldia is Port Ember.",
    "Noise": "Bob Kent plays chess on Sundays and paints landscapes.",
}


@pytest.fixture
def bridge() -> list[Passage]:
    return [Passage.from_text(text, title=title) for title, text in TEXTS.items()]


@pytest.fixture
def bridge_index(embedder: Embedder, bridge: list[Passage]) -> GraphIndex:
    """The bridge passages indexed with their hand-written triples."""
    index = GraphIndex(embedder, extractor=FixedTriples(BRIDGE))
    index.add(bridge)
    return index


def test_two_hop_question_reaches_the_bridge_passage(
    embedder: Embedder, bridge: list[Passage], bridge_index: GraphIndex
) -> None:
    index = bridge_index
    query = "Which region is the birthplace of Alice Varga in?"
    for method in ("hipporag", "hipporag2"):
        result = retrieve(index, Query(query, embedder=embedder), 2, GraphSearch(method=method))
        assert {h.passage_id for h in result.hits} == {bridge[0].id, bridge[1].id}, method


def test_hits_carry_seeds_facts_and_pagerank(
    embedder: Embedder, bridge: list[Passage], bridge_index: GraphIndex
) -> None:
    index = bridge_index
    query = "Where was Alice Varga born?"
    result = retrieve(index, Query(query, embedder=embedder), 3, GraphSearch())
    top = result.hits[0]
    assert top.passage_id == bridge[0].id and top.retriever == "graph"
    assert isinstance(top.reason, GraphReason)
    assert top.reason.pagerank == pytest.approx(top.score)
    assert "Alice Varga was born in Lindholm" in top.reason.facts
    assert any(name == "Alice Varga" for name, _ in top.reason.seeds)
    assert result.facts[0][0] == "Alice Varga was born in Lindholm"


def test_no_facts_falls_back_to_dense(embedder: Embedder, bridge: list[Passage]) -> None:
    index = GraphIndex(embedder, extractor=FixedTriples({}))
    index.add(bridge)
    hits = index.search("Port Ember capital", 2)
    assert hits[0].passage_id == bridge[2].id
    assert isinstance(hits[0].reason, GraphReason)
    assert hits[0].reason.fallback == "the graph has no facts"


def test_add_links_synonyms_only_for_new_entities(
    embedder: Embedder, bridge: list[Passage], monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[int] = []
    real = graph_index_module.synonymy_edges

    def spy(query_vectors, query_rows, base_vectors, **kw):  # type: ignore[no-untyped-def]
        asked.append(len(query_rows))
        return real(query_vectors, query_rows, base_vectors, **kw)

    monkeypatch.setattr(graph_index_module, "synonymy_edges", spy)
    triples = dict(BRIDGE) | {"Varga": [("Alice  Varga's", "was", "a painter")]}
    extractor = FixedTriples(triples)
    index = GraphIndex(embedder, extractor=extractor)
    index.add(bridge[:3])
    first = index.graph.n_entities
    later = Passage.from_text("Alice Varga was a painter.", title="Varga")
    index.add([later, bridge[0]])
    assert asked == [first, 2]  # "alice varga s" and "a painter" are new
    assert extractor.read.count(bridge[0].id) == 1  # not extracted twice
    new = index.graph.entity_row("Alice Varga's")
    old = index.graph.entity_row("Alice Varga")
    assert (min(new, old), max(new, old)) in index.graph.synonyms


def test_delete_keeps_shared_entities_and_their_vectors(
    embedder: Embedder, bridge: list[Passage], bridge_index: GraphIndex
) -> None:
    index = bridge_index
    index.delete([bridge[0].id])
    graph = index.graph
    assert graph.entity_row("Alice Varga") is None
    lindholm = graph.entity_row("Lindholm")
    assert lindholm is not None
    expected = embedder.embed(["lindholm"])[0]
    assert np.dot(index.entity_vectors[lindholm], expected) > 0.999
    assert len(index.entity_vectors) == graph.n_entities
    assert len(index.fact_vectors) == len(graph.facts) == 3


def test_ablation_settings_change_the_ranking_inputs(
    embedder: Embedder, bridge: list[Passage], bridge_index: GraphIndex
) -> None:
    index = bridge_index
    query = "Which region is the birthplace of Alice Varga in?"
    vector = embedder.embed_query(query)
    scores = {}
    for name, config in {
        "default": GraphSearch(),
        "no_passage_nodes": GraphSearch(passage_nodes=False),
        "no_specificity": GraphSearch(specificity=False),
        "damping_0.85": GraphSearch(damping=0.85),
    }.items():
        hits = retrieve(index, Query(query, embedder=embedder, vector=vector), 4, config).hits
        scores[name] = [round(h.score, 8) for h in hits]
    assert len({tuple(s) for s in scores.values()}) == len(scores)


def test_offline_pattern_graphs_fuse_with_dense_by_default(
    embedder: Embedder, passages: list[Passage], bridge: list[Passage], bridge_index: GraphIndex
) -> None:
    offline = GraphIndex(embedder, extractor=PatternOpenIE())
    offline.add(passages)
    assert offline.mostly_pattern_extracted()
    query = "Which telescope was launched from a space shuttle?"
    vector = embedder.embed_query(query)

    def scores(index: GraphIndex, fusion: float | str) -> list[float]:
        config = GraphSearch(dense_fusion=fusion)  # type: ignore[arg-type]
        return [
            h.score
            for h in retrieve(index, Query(query, embedder=embedder, vector=vector), 8, config).hits
        ]

    assert scores(offline, "auto") == scores(offline, 1.0) != scores(offline, 0.0)
    fused = retrieve(
        offline, Query(query, embedder=embedder, vector=vector), 1, GraphSearch()
    ).hits[0]
    assert isinstance(fused.reason, GraphReason)
    assert fused.reason.fused_with_dense == 1.0 and fused.reason.pagerank != fused.score
    curated = bridge_index
    assert not curated.mostly_pattern_extracted()
    query, vector = (
        "Where was Alice Varga born?",
        embedder.embed_query("Where was Alice Varga born?"),
    )
    assert scores(curated, "auto") == scores(curated, 0.0) != scores(curated, 1.0)
