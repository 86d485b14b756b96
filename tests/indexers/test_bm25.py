"""The BM25 index: conformance plus lexical behaviour."""

from __future__ import annotations

from typing import Any

from indexers.base import Index
from indexers.bm25 import BM25Index
from rag.embed.base import Embedder
from rag.types import BM25Reason, Passage
from tests.indexers.conformance import IndexConformance


class TestBM25(IndexConformance):
    def make_index(self, embedder: Embedder) -> Index:
        return BM25Index()

    def search_configs(self) -> list[dict[str, Any]]:
        return [{"min_score": 0.5}]


def test_hits_name_the_query_terms_they_contain(passages: list[Passage]) -> None:
    index = BM25Index()
    index.add(passages)
    hit = index.search("Who discovered radium and won the Nobel Prize?", 1)[0]
    assert isinstance(hit.reason, BM25Reason)
    assert hit.reason.terms == ["discov", "nobel", "prize", "radium", "won"]


def test_min_score_drops_weak_matches(passages: list[Passage]) -> None:
    index = BM25Index()
    index.add(passages)
    query = "the Nobel Prize in 1990"
    weakest = index.search(query, 8)[-1].score
    strict = index.search(query, 8, {"min_score": weakest})
    assert strict and all(h.score > weakest for h in strict)


def test_stemming_matches_inflected_forms(passages: list[Passage]) -> None:
    index = BM25Index()
    index.add(passages)
    # "discovered" and "discovering" share the stem "discov"; "Discovery" (the shuttle) does not.
    assert [h.passage_id for h in index.search("discovered", 5)] == [passages[1].id]


def test_query_with_no_known_term_or_only_stopwords_returns_nothing(
    passages: list[Passage],
) -> None:
    index = BM25Index()
    index.add(passages)
    assert index.search("zyzzyva quokka", 5) == []
    assert index.search("the of and", 5) == []


def test_passages_without_a_shared_term_are_not_returned(passages: list[Passage]) -> None:
    index = BM25Index()
    index.add(passages)
    assert [h.passage_id for h in index.search("Everest", 5)] == [passages[6].id]
