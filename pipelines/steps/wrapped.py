"""The retrieval a wrapping step (clue drafting, iteration) runs for each text it searches."""

from __future__ import annotations

from indexers.base import SearchResult
from pipelines.state import QueryState
from pipelines.steps.retrieve import search_texts
from pipelines.steps.search_options import SearchOptions


class WrappedRetrieval(SearchOptions):
    """The retrieval a wrapping step runs for the question and each text it derives."""

    @property
    def label(self) -> str:
        """E.g. 'dense' or 'graph:hipporag2'."""
        return self.target

    def hits_per_text(self, state: QueryState) -> int:
        """k, or the settings' top_k."""
        return self.k or state.resources.settings.retrieval.top_k

    def run(self, state: QueryState, texts: list[str], k: int | None = None) -> list[SearchResult]:
        """Search with each text (one embedding batch for all but the question)."""
        if not texts:
            return []
        return search_texts(state, self.index, texts, k or self.hits_per_text(state), self.config)
