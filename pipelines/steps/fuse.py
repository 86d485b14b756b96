"""FuseStep: merge several rankings into one by reciprocal-rank fusion."""

from __future__ import annotations

from collections import defaultdict

from pydantic import Field

from pipelines.state import QueryState
from pipelines.step import Step
from rag.types import Hit


def reciprocal_rank_fusion(
    rankings: dict[str, list[Hit]], k: int = 60, weights: dict[str, float] | None = None
) -> list[Hit]:
    """Fuse rankings by sum of weight / (k + rank); each hit's reason lists its source ranks."""
    scores: dict[str, float] = defaultdict(float)
    ranks: dict[str, dict[str, int]] = defaultdict(dict)
    for name, hits in rankings.items():
        weight = (weights or {}).get(name, 1.0)
        for rank, hit in enumerate(hits, start=1):
            if name in ranks[hit.passage_id]:
                continue  # a duplicate id in one ranking counts once, at its best rank
            scores[hit.passage_id] += weight / (k + rank)
            ranks[hit.passage_id][name] = rank
    order = sorted(scores, key=lambda pid: (-scores[pid], pid))
    return [
        Hit(passage_id=pid, score=scores[pid], retriever="rrf", reason={"ranks": ranks[pid]})
        for pid in order
    ]


class FuseStep(Step):
    """Combine the hit lists of earlier retrieve steps into the current ranking."""

    type_name = "fuse"

    inputs: list[str] = Field(description="Names of earlier hit lists, e.g. [dense, bm25].")
    method: str = Field("rrf", pattern="^rrf$")
    rrf_k: int | None = Field(None, ge=1, description="Default: retrieval.rrf_k.")
    weights: dict[str, float] = Field(default_factory=dict)
    k: int | None = Field(None, ge=1, description="Hits to keep; default retrieval.top_k.")

    def run(self, state: QueryState) -> QueryState:
        """Fuse the named hit lists."""
        missing = [name for name in self.inputs if name not in state.hit_lists]
        if missing:
            raise KeyError(f"fuse needs hit lists {missing}; run retrieve steps for them first")
        settings = state.resources.settings.retrieval
        k = self.k or settings.top_k
        fused = reciprocal_rank_fusion(
            {name: state.hit_lists[name] for name in self.inputs},
            k=self.rrf_k or settings.rrf_k,
            weights=self.weights,
        )[:k]
        state.hit_lists["fused"] = fused
        state.hits = fused
        state.record(
            self.type_name,
            inputs={"lists": self.inputs, "method": self.method},
            outputs={"hits": [[h.passage_id, round(h.score, 5)] for h in fused]},
        )
        return state
