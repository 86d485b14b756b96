"""FuseStep: merge several rankings into one by reciprocal-rank fusion."""

from __future__ import annotations

from pydantic import Field

from pipelines.state import QueryState
from pipelines.step import Step
from rag.fusion import reciprocal_rank_fusion


class FuseStep(Step):
    """Combine the hit lists of earlier steps into the current ranking."""

    type_name = "fuse"

    inputs: list[str] = Field(min_length=1, description="Earlier hit lists, e.g. [dense, bm25].")
    method: str = Field("rrf", pattern="^rrf$")
    rrf_k: int | None = Field(None, ge=1, description="Default: retrieval.rrf_k.")
    weights: dict[str, float] = Field(default_factory=dict)
    k: int | None = Field(None, ge=1, description="Hits to keep; default retrieval.top_k.")
    output: str = Field("fused", description="Name of the fused hit list.")

    def reads(self) -> list[str]:
        """The hit lists it fuses."""
        return list(self.inputs)

    def writes(self) -> list[str]:
        """The fused list."""
        return [self.output]

    def _run(self, state: QueryState) -> QueryState:
        """Fuse the named hit lists."""
        settings = state.resources.settings.retrieval
        k = self.k or settings.top_k
        fused = reciprocal_rank_fusion(
            {name: state.results[name] for name in self.inputs},
            k=self.rrf_k or settings.rrf_k,
            weights=self.weights,
            limit=k,
        )
        state.results[self.output] = fused
        state.hits = fused
        state.record(
            inputs={"lists": self.inputs, "method": self.method},
            outputs={"hits": [[h.passage_id, round(h.score, 5)] for h in fused]},
        )
        return state
