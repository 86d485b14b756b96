"""DeclineStep: replace the answer with "unknown" when the evidence it quotes is weak.

An offline reader always quotes something when it has passages, even when the question asks
what the passages never say (LoCoMo's adversarial category). This step measures the evidence
after any reader: the cosine similarity of the question and the best sentence the answer
cites (the bundled embedder, as the dense index uses). Below `below`, the answer becomes
"unknown" (the LLM reader's own way of declining) and the citations are kept, so the trace
still shows what was found. `below: 0` never declines and only records the evidence, which is
how a threshold is measured. The threshold belongs to one embedder: another model's cosines
sit on another scale.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from pipelines.state import QueryState
from pipelines.step import Step
from rag.trace_outputs import GenerateOutput

#: The answer a declined question gets.
DECLINED = "unknown"


class DeclineStep(Step):
    """Decline to answer when the cited evidence is less similar to the question than `below`."""

    type_name = "decline"
    answers = True

    below: float = Field(
        ge=-1.0,
        le=1.0,
        description="Cosine (question, best cited sentence) under which to decline.",
    )

    def _run(self, state: QueryState) -> QueryState:
        """Measure the cited evidence and decline when it is weak."""
        answer = state.answer
        if answer is None:
            return state
        quotes = [c.quote for c in answer.citations if c.quote.strip()]
        evidence = -1.0
        if quotes:
            vectors = state.resources.embedder.embed(quotes)
            query = np.asarray(state.query_vector, dtype=np.float32).ravel()
            evidence = float(np.max(vectors @ query))
        declined = bool(answer.text.strip()) and evidence < self.below
        if declined:
            state.answer = answer.model_copy(update={"text": DECLINED})
        state.record(
            inputs={"below": self.below, "answer_was": answer.text},
            outputs=GenerateOutput(
                answer=state.answer.text if state.answer else "",
                citations=[c.passage_id for c in answer.citations],
                evidence=round(evidence, 4),
                declined=declined,
            ),
        )
        return state
