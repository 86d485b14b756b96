"""The conformance suite every index kind must pass; subclass it and provide `make_index`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import pytest

from indexers.base import Index
from indexers.context import BuildContext
from rag.embed.base import Embedder
from rag.errors import ConfigError
from rag.query import Query
from rag.settings import Settings
from rag.types import Passage


class IndexConformance(ABC):
    """Behaviour users rely on from any index: add, search, delete, save and load."""

    @abstractmethod
    def make_index(self, embedder: Embedder) -> Index:
        """Return an empty index of the kind under test."""

    def search_configs(self) -> list[dict[str, Any]]:
        """Non-default search options of the kind, each of which must still find passages."""
        return []

    def load_index(self, directory: Path, embedder: Embedder) -> Index:
        """Load an index of the kind under test."""
        context = BuildContext(embedder, Settings(show_progress=False))
        return type(self.make_index(embedder)).load(directory, context)

    def test_every_search_config_finds_and_explains(
        self, embedder: Embedder, passages: list[Passage]
    ) -> None:
        index = self.make_index(embedder)
        index.add(passages)
        query = Query("Nobel Prize in Chemistry for discovering radium", embedder=embedder)
        for config in [{}, *self.search_configs()]:
            hits = index.search(query, 3, config)
            assert hits and hits[0].passage_id == passages[1].id, config
            assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
            assert all(h.reason is not None for h in hits), config

    def test_a_query_value_and_its_text_search_alike(
        self, embedder: Embedder, passages: list[Passage]
    ) -> None:
        index = self.make_index(embedder)
        index.add(passages)
        text = "Which river carries the most water?"
        by_text = index.search(text, 4)
        by_query = index.search(Query(text, embedder=embedder), 4)
        assert [h.passage_id for h in by_text] == [h.passage_id for h in by_query]

    def test_an_unknown_search_option_is_a_config_error(self, embedder: Embedder) -> None:
        index = self.make_index(embedder)
        with pytest.raises(ConfigError, match="colour"):
            index.search("anything", 3, {"colour": "red"})

    def test_empty_index_returns_no_hits(self, embedder: Embedder) -> None:
        index = self.make_index(embedder)
        assert index.search("anything at all", 5) == []
        assert len(index) == 0

    def test_finds_the_passage_a_query_is_about(
        self, embedder: Embedder, passages: list[Passage]
    ) -> None:
        index = self.make_index(embedder)
        index.add(passages)
        hits = index.search("When was Hubble Space Telescope launched Discovery?", 3)
        assert hits[0].passage_id == passages[4].id
        assert all(h.retriever == index.kind for h in hits)

    def test_hits_are_sorted_and_limited_to_k(
        self, embedder: Embedder, passages: list[Passage]
    ) -> None:
        index = self.make_index(embedder)
        index.add(passages)
        hits = index.search("Nobel Prize in Chemistry radium", 3)
        assert 1 <= len(hits) <= 3
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        assert len({h.passage_id for h in hits}) == len(hits)

    def test_add_is_idempotent(self, embedder: Embedder, passages: list[Passage]) -> None:
        index = self.make_index(embedder)
        index.add(passages)
        index.add(passages[:3])
        assert len(index) == len(passages)
        assert index.ids() == {p.id for p in passages}

    def test_delete_removes_only_what_is_named(
        self, embedder: Embedder, passages: list[Passage]
    ) -> None:
        index = self.make_index(embedder)
        index.add(passages)
        index.delete([passages[4].id, "ffffffffffffffff"])
        assert index.ids() == {p.id for p in passages} - {passages[4].id}
        hits = index.search("Hubble Space Telescope launched aboard Discovery", 8)
        assert passages[4].id not in {h.passage_id for h in hits}

    def test_delete_everything_then_add_again(
        self, embedder: Embedder, passages: list[Passage]
    ) -> None:
        index = self.make_index(embedder)
        index.add(passages)
        index.delete([p.id for p in passages])
        assert len(index) == 0 and index.search("Eiffel Tower Paris", 3) == []
        index.add(passages[:2])
        assert index.search("Eiffel Tower Paris", 1)[0].passage_id == passages[0].id

    def test_save_and_load_round_trip(
        self, tmp_path: Path, embedder: Embedder, passages: list[Passage]
    ) -> None:
        index = self.make_index(embedder)
        index.add(passages)
        index.save(tmp_path / "idx")
        loaded = self.load_index(tmp_path / "idx", embedder)
        query = "Which river carries the most water?"
        assert [h.passage_id for h in loaded.search(query, 4)] == [
            h.passage_id for h in index.search(query, 4)
        ]
        loaded.delete([passages[7].id])
        loaded.add([Passage.from_text("The Nile flows north through Egypt.", title="Nile")])
        assert len(loaded) == len(passages)

    def test_save_of_an_empty_index_loads(self, tmp_path: Path, embedder: Embedder) -> None:
        self.make_index(embedder).save(tmp_path / "empty")
        assert len(self.load_index(tmp_path / "empty", embedder)) == 0
