"""FuseStep: merge several rankings into one by reciprocal-rank fusion."""

from __future__ import annotations

import math

from pydantic import Field, model_validator

from pipelines.state import QueryState
from pipelines.step import Step
from rag.fusion import reciprocal_rank_fusion
from rag.trace_outputs import FuseOutput


class FuseStep(Step):
    """Combine the hit lists of earlier steps into the current ranking."""

    type_name = "fuse"

    inputs: list[str] = Field(min_length=1, description="Earlier hit lists, e.g. [dense, bm25].")
    method: str = Field("rrf", pattern="^rrf$")
    rrf_k: int | None = Field(None, ge=1, description="Default: retrieval.rrf_k.")
    weights: dict[str, float] = Field(default_factory=dict)
    k: int | None = Field(None, ge=1, description="Hits to keep; default retrieval.top_k.")
    output: str = Field("fused", description="Name of the fused hit list.")

    @model_validator(mode="after")
    def _weights_name_inputs(self) -> FuseStep:
        """A weight for a list not fused, or a negative one, is a typo that would pass silently."""
        unknown = sorted(set(self.weights) - set(self.inputs))
        if unknown:
            raise ValueError(
                f"weights name {', '.join(unknown)}, which are not among the inputs "
                f"({', '.join(self.inputs)})"
            )
        bad = {name: w for name, w in self.weights.items() if not (math.isfinite(w) and w >= 0)}
        if bad:
            listed = ", ".join(f"{name}: {w}" for name, w in bad.items())
            raise ValueError(f"weights must be finite and not negative (got {listed})")
        return self

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
            outputs=FuseOutput(hits=[(h.passage_id, round(h.score, 5)) for h in fused]),
        )
        return state
