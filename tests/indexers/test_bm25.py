"""The BM25 index: conformance plus lexical behaviour."""

from __future__ import annotations

from indexers.base import Index
from indexers.bm25 import BM25Index
from rag.embed.base import Embedder
from rag.types import Passage
from tests.indexers.conformance import IndexConformance


class TestBM25(IndexConformance):
    def make_index(self, embedder: Embedder) -> Index:
        return BM25Index()


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
