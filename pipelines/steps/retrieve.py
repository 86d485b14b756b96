"""RetrieveStep: search one index of any kind with the question, clues or a thought."""

from __future__ import annotations

from functools import cached_property

from pydantic import Field

from indexers.base import KindConfig, SearchResult
from pipelines.state import QueryState
from pipelines.step import Step
from pipelines.steps.search_options import SearchOptions
from rag.fusion import reciprocal_rank_fusion
from rag.search_details import TreeSearchDetails
from rag.trace_outputs import Ranked, RetrieveOutput
from rag.types import Hit

#: How many ranked ids a trace event keeps per hit list.
TRACE_HITS = 20


def search_texts(
    state: QueryState, index_name: str, texts: list[str], k: int, config: KindConfig
) -> list[SearchResult]:
    """Search one index with each text; the question reuses its embedding, other texts are
    embedded together in one batch. Hits of a text other than the question name it."""
    index = state.resources.index(index_name)
    queries = [state.question] if texts == [state.query] else state.question.derive(texts)
    results = [index.search_with_details(q, k, config) for q in queries]
    for text, result in zip(texts, results, strict=True):
        if text != state.query:
            result.hits = _with_query(result.hits, text)
    return results


def keep_context(state: QueryState, found: SearchResult) -> None:
    """A search's background texts (a tree's summaries) reach the reader, once each."""
    if not isinstance(found.search, TreeSearchDetails):
        return
    for item in found.search.context:
        if item.text not in state.context:
            state.context.append(item.text)


def ranked_ids(hits: list[Hit], digits: int = 6) -> Ranked:
    """The top of a ranking as a trace keeps it: (passage id, rounded score) pairs."""
    return [(h.passage_id, round(h.score, digits)) for h in hits[:TRACE_HITS]]


def _with_query(hits: list[Hit], text: str) -> list[Hit]:
    """Hits whose reasons say which text found them."""
    return [
        h.model_copy(update={"reason": h.reason.model_copy(update={"query": text})})
        if h.reason is not None
        else h
        for h in hits
    ]


class RetrieveStep(SearchOptions, Step):
    """Search one index (`dense`, `bm25`, `graph`, ...) and make its hits the current ranking.

    With several query texts (one per clue, say) each text is searched and the lists are fused
    by reciprocal rank; every hit's reason names the text that found it.
    """

    type_name = "retrieve"

    query: str = Field(
        "question", description="What to search with: question, clues, thought, or a text field."
    )
    output: str | None = Field(None, description="Name of the hit list; default the index name.")

    @cached_property
    def label(self) -> str:
        """E.g. 'retrieve:dense' or 'retrieve:graph:hipporag2'."""
        return f"retrieve:{self.target}"

    @property
    def output_name(self) -> str:
        """The name this step's hit list is stored under."""
        return self.output or self.index

    def writes(self) -> list[str]:
        """The hit list this step produces."""
        return [self.output_name]

    def reads_texts(self) -> list[str]:
        """The query source it searches with."""
        return [self.query]

    def index_names(self) -> set[str]:
        """The one index it searches."""
        return {self.index}

    def _run(self, state: QueryState) -> QueryState:
        """Search with each query text and store the (fused) hits under the output name."""
        settings = state.resources.settings.retrieval
        k = self.k or settings.top_k
        texts = state.source_texts(self.query)
        results = search_texts(state, self.index, texts, k, self.config) if texts else []
        if not texts:
            hits = []
        elif len(texts) == 1:
            hits = results[0].hits
        else:
            lists = {t: r.hits for t, r in zip(texts, results, strict=True)}
            hits = reciprocal_rank_fusion(lists, k=settings.rrf_k, limit=k)
        state.results[self.output_name] = hits
        state.hits = hits
        for found in results:
            keep_context(state, found)
        state.record(
            inputs={"index": self.index, "query": texts, "k": k, "search": self.search},
            outputs=RetrieveOutput(
                hits=ranked_ids(hits),
                # One text's details describe the ranking; several texts' are fused away.
                search=results[0].search if len(results) == 1 else None,
            ),
        )
        return state
