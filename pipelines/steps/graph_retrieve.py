"""GraphRetrieveStep: HippoRAG 1 or 2 retrieval over the knowledge-graph index."""

from __future__ import annotations

from pydantic import Field

from indexers.graph import GraphIndex, GraphSearch, retrieve
from indexers.graph.retrievers import links_query_entities, query_phrases
from pipelines.state import QueryState
from pipelines.step import Step
from rag.errors import ConfigError


class GraphRetrieveStep(Step):
    """Seed the graph from the query, run Personalized PageRank, rank passages by their mass."""

    type_name = "graph_retrieve"

    index: str = Field("graph", description="Which index of the index dir to search.")
    k: int | None = Field(None, ge=1, description="Hits to keep; default retrieval.top_k.")
    search: GraphSearch = Field(default_factory=GraphSearch)

    @property
    def label(self) -> str:
        """E.g. 'graph_retrieve:hipporag2'."""
        return f"graph_retrieve:{self.search.method}"

    def run(self, state: QueryState) -> QueryState:
        """Retrieve, store the hits under the index name, and trace seeds and facts."""
        k = self.k or state.resources.settings.retrieval.top_k
        index = state.resources.index(self.index)
        if not isinstance(index, GraphIndex):
            raise ConfigError(f"index '{self.index}' is a {index.kind} index, not a graph index")
        llm = state.resources.llm
        phrase_vectors = None
        if links_query_entities(self.search):
            # One embedding batch for the query and its entity phrases saves a model call.
            phrase_vectors = state.embed_with_query(query_phrases(state.query, llm))
        result = retrieve(
            index, state.query, state.query_vector, k, self.search, llm, phrase_vectors
        )
        state.hit_lists[self.index] = result.hits
        state.hits = result.hits
        state.record(
            self.label,
            inputs={"query": state.query, "k": k, **self.search.model_dump()},
            outputs={
                "seeds": [[name, round(w, 5)] for name, w in result.seeds[:20]],
                "facts": [[text, round(s, 4)] for text, s in result.facts],
                "fallback": result.fallback,
                "hits": [[h.passage_id, round(h.score, 6)] for h in result.hits],
            },
        )
        return state
