"""RetrieveStep: ask one index for the top passages."""

from __future__ import annotations

from pydantic import Field

from indexers.vector import VectorIndex
from pipelines.state import QueryState
from pipelines.step import Step


class RetrieveStep(Step):
    """Search one index (`dense`, `bm25`, ...) and make its hits the current ranking."""

    type_name = "retrieve"

    index: str = Field("dense", description="Which index of the index dir to search.")
    k: int | None = Field(None, ge=1, description="Hits to keep; default retrieval.top_k.")

    @property
    def label(self) -> str:
        """E.g. 'retrieve:dense'."""
        return f"retrieve:{self.index}"

    def run(self, state: QueryState) -> QueryState:
        """Search and store the hits under the index name."""
        k = self.k or state.resources.settings.retrieval.top_k
        index = state.resources.index(self.index)
        if isinstance(index, VectorIndex):
            # Reuse the query vector so the query is embedded once per pipeline run.
            hits = index.search_vectors(state.query_vector[None, :], k)[0]
        else:
            hits = index.search(state.query, k)
        state.hit_lists[self.index] = hits
        state.hits = hits
        state.record(
            self.label,
            inputs={"query": state.query, "k": k},
            outputs={"hits": [[h.passage_id, round(h.score, 4)] for h in hits]},
        )
        return state
