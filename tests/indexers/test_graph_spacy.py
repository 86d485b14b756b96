"""The knowledge-graph index built with spaCy triples: conformance, bridge retrieval, query NER."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexers.context import BuildContext
from indexers.graph import GraphIndex, GraphSearch, retrieve
from indexers.graph.retrievers import query_phrases
from rag.embed.base import Embedder
from rag.operators.openie import PatternOpenIE
from rag.operators.openie.spacy_extractor import SpacyOpenIE
from rag.query import Query
from rag.settings import Settings
from rag.types import Passage
from tests.indexers.conformance import IndexConformance
from tests.rag.openie.test_spacy_extractor import needs_spacy

pytestmark = needs_spacy
_SPACY = SpacyOpenIE()

TEXTS = {
    "Alice Varga": "Alice Varga, the painter, was born in Lindholm in 1931.",
    "Lindholm": "Lindholm is a small fishing town in Northern Veldia.",
    "Northern Veldia": "The capital of Northern Veldia is Port Ember.",
    "Bob Kent": "Bob Kent plays chess on Sundays and paints landscapes.",
}


class TestSpacyGraphConformance(IndexConformance):
    def make_index(self, embedder: Embedder) -> GraphIndex:
        return GraphIndex(embedder, extractor=_SPACY)

    def load_index(self, directory: Path, embedder: Embedder) -> GraphIndex:
        index = GraphIndex.load(directory, BuildContext(embedder, Settings(show_progress=False)))
        index.use_extractor(_SPACY)
        return index

    def search_configs(self) -> list[dict[str, object]]:
        return [
            {"method": "hipporag"},
            {"method": "hipporag2", "fact_top_k": 5, "query_entity_weight": 0.0},
            {"damping": 0.85, "synonymy": False, "passage_nodes": False},
            {"dense_fusion": 0.0},
        ]


@pytest.fixture
def bridge(embedder: Embedder) -> tuple[GraphIndex, list[Passage]]:
    """The two-hop bridge passages, read by spaCy."""
    passages = [Passage.from_text(text, title=title) for title, text in TEXTS.items()]
    index = GraphIndex(embedder, extractor=_SPACY)
    index.add(passages)
    return index, passages


def test_spacy_triples_join_the_bridge(bridge: tuple[GraphIndex, list[Passage]]) -> None:
    """The parse links each hop's passages through the entity they share."""
    index, _ = bridge
    facts = set(index.graph.fact_texts)
    assert "Alice Varga was born in Lindholm" in facts
    assert any(f.startswith("Lindholm is") and f.endswith("Northern Veldia") for f in facts)


def test_two_hop_question_reaches_the_bridge_passage(
    embedder: Embedder, bridge: tuple[GraphIndex, list[Passage]]
) -> None:
    """HippoRAG 1 and 2 reach the birthplace's passage from the person's."""
    index, passages = bridge
    query = "Which region is the birthplace of Alice Varga in?"
    for method in ("hipporag", "hipporag2"):
        result = retrieve(index, Query(query, embedder=embedder), 2, GraphSearch(method=method))
        assert {h.passage_id for h in result.hits} == {passages[0].id, passages[1].id}, method


def test_a_spacy_graph_reads_questions_with_spacy(
    embedder: Embedder, bridge: tuple[GraphIndex, list[Passage]]
) -> None:
    """Query seeds come from the passages' NER: spaCy's here, the pattern rules otherwise."""
    index, passages = bridge
    assert index.query_ner() is _SPACY
    assert query_phrases("Where was Alice Varga born?", None, index.query_ner()) == ["Alice Varga"]
    pattern = GraphIndex(embedder, extractor=PatternOpenIE())
    pattern.add(passages)
    assert isinstance(pattern.query_ner(), PatternOpenIE)


def test_spacy_graphs_fuse_half_weight_dense_by_default(
    embedder: Embedder, bridge: tuple[GraphIndex, list[Passage]]
) -> None:
    """`dense_fusion: auto` is 0.5 for spaCy triples, and the hits say they were fused."""
    index, _ = bridge
    assert index.auto_dense_fusion() == 0.5
    query = Query("Where was Alice Varga born?", embedder=embedder)
    hit = retrieve(index, query, 1, GraphSearch()).hits[0]
    assert hit.reason.fused_with_dense == 0.5  # type: ignore[union-attr]
    unfused = retrieve(index, query, 1, GraphSearch(dense_fusion=0.0)).hits[0]
    assert unfused.reason.fused_with_dense is None  # type: ignore[union-attr]
