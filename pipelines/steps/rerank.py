"""RerankStep: score the top hits of any earlier ranking for relevance and reorder them.

The scorer is an operator-registry entry (`reranker`): `llm` reads P(yes) for "does this
passage help answer the question?" from the model's next-token log-probabilities;
`best_sentence` (the offline default) is the extractive reader's best-sentence score. The top
`top_n` hits are scored and sorted by score (ties keep their earlier order); the hits below
them follow in their earlier order with scores below every scored hit. Each hit's reason
becomes a RerankReason holding its score, its rank before and after, and its earlier reason.
"""

from __future__ import annotations

from pydantic import Field

from pipelines.state import QueryState, Resources
from pipelines.steps.rescore import RescoringStep
from rag.operators.registry import resolve
from rag.operators.rerank import RelevanceScorer
from rag.operators.specs import RerankerSpec, help_text
from rag.trace_outputs import RerankMove, RerankOutput
from rag.types import Hit, RerankReason


class RerankStep(RescoringStep):
    """Rescore the top `top_n` hits of `input` by relevance to the question."""

    type_name = "rerank"

    scorer: RerankerSpec = Field(
        "auto", description=help_text("reranker", "What scores each hit's relevance")
    )
    top_n: int = Field(10, ge=1, description="How many of the top hits are scored.")
    output: str = Field("reranked", description="Name of the reranked hit list.")

    def check_resources(self, resources: Resources) -> None:
        """The scorer resolves here (scorer 'llm' needs a configured LLM)."""
        resolve("reranker", self.scorer, llm_available=resources.llm is not None)

    def _scorer(self, state: QueryState) -> RelevanceScorer:
        """The scorer, built once per opened index."""
        res = state.resources
        scorer: RelevanceScorer = res.context.operators.get("reranker", self.scorer, llm=res.llm)
        return scorer

    def _run(self, state: QueryState) -> QueryState:
        """Score the top hits, reorder them, and record every move."""
        hits = state.results[self.input]
        head, tail = hits[: self.top_n], hits[self.top_n :]
        scorer = self._scorer(state)
        passages = state.resources.store.get_many([h.passage_id for h in head])
        scored = scorer.score(state.query, passages, query_vector=state.query_vector)
        order = sorted(range(len(head)), key=lambda i: (-scored[i].score, i))
        reranked: list[Hit] = []
        moves: list[RerankMove] = []
        for after, i in enumerate(order, start=1):
            hit, relevance = head[i], scored[i]
            reason = RerankReason(
                scorer=scorer.name,
                relevance=relevance.score,
                before=i + 1,
                after=after,
                details=relevance.details,
                source=hit.reason,
            )
            reranked.append(hit.model_copy(update={"score": relevance.score, "reason": reason}))
            moves.append(
                RerankMove(
                    passage_id=hit.passage_id, score=relevance.score, before=i + 1, after=after
                )
            )
        floor = min((r.score for r in scored), default=0.0)
        for j, hit in enumerate(tail, start=len(head) + 1):
            # Below every scored hit, in the earlier order: they were not judged at all.
            reason = RerankReason(scorer=scorer.name, before=j, after=j, source=hit.reason)
            reranked.append(
                hit.model_copy(update={"score": floor - 1.0 - (j - len(head)), "reason": reason})
            )
        state.results[self.output] = reranked
        state.hits = reranked
        state.record(
            inputs={"list": self.input, "scorer": scorer.name, "top_n": self.top_n},
            outputs=RerankOutput(
                scorer=scorer.name,
                top_n=self.top_n,
                hits=[(h.passage_id, round(h.score, 5)) for h in reranked[:50]],
                moves=moves,
            ),
        )
        return state
