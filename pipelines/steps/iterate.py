"""IterateStep (IRCoT): retrieve, write a thought, retrieve with it, until an answer or a limit."""

from __future__ import annotations

import logging
from typing import Any, Literal

from pydantic import Field

from pipelines.state import QueryState, Resources
from pipelines.step import Step
from pipelines.steps.retrieve import TRACE_HITS, keep_context, ranked_ids
from pipelines.steps.wrapped import WrappedRetrieval
from pipelines.trace import traced
from rag.operators.reasoning import Reasoner, Thought
from rag.operators.registry import resolve
from rag.operators.specs import ReasonerSpec, help_text
from rag.trace_outputs import IterateOutput, RoundOutput
from rag.types import Hit

logger = logging.getLogger(__name__)


def scaled_to_best(hits: list[Hit]) -> list[Hit]:
    """A round's hits with scores divided by its best score, so that rounds compare by how
    close each hit comes to its own round's best rather than by raw, query-shaped scale."""
    best = max((h.score for h in hits), default=0.0)
    if best <= 0:
        return hits
    return [h.model_copy(update={"score": h.score / best}) for h in hits]


def merge_by_max(merged: dict[str, Hit], hits: list[Hit]) -> None:
    """Fold `hits` into `merged`: each passage keeps its best score and the hit (and reason)
    that gave it; a tie keeps the earlier hit."""
    for hit in hits:
        held = merged.get(hit.passage_id)
        if held is None or hit.score > held.score:
            merged[hit.passage_id] = hit


def ranked(merged: dict[str, Hit]) -> list[Hit]:
    """Merged hits by score, best first; equal scores in the order they were first found."""
    order = {pid: n for n, pid in enumerate(merged)}
    return sorted(merged.values(), key=lambda h: (-h.score, order[h.passage_id]))


class IterateStep(Step):
    """Interleave retrieval with reasoning (IRCoT): search with the question, then let a reasoner
    write one thought at a time from the top passages, search with each thought, and merge the
    passage scores by max, until the reasoner answers or has no new query, or `max_steps`.

    The default ceiling of 3 thoughts covers a 4-hop question with one search per hop (the
    question finds the first hop; the thought that would follow the last hop is the answer,
    which searches nothing); it is HippoRAG's MuSiQue setting (its "4 steps" count the
    question's search), and 2-hop questions stop early on their answer rather than needing a
    lower ceiling. Each iteration is a child trace event; the step's own event records the
    ranking after every round. Scores are merged raw, as IRCoT does: they must be comparable
    across queries (cosine is; PageRank mass, steep and query-shaped, much less so).
    """

    type_name = "iterate"

    retrieve: WrappedRetrieval = Field(default_factory=WrappedRetrieval)
    max_steps: int = Field(3, ge=1, le=20, description="Thoughts written at most.")
    reasoner: ReasonerSpec = Field(
        "auto", description=help_text("reasoner", "What writes each next thought")
    )
    passages: int = Field(5, ge=1, description="How many top passages the reasoner sees.")
    shots: int = Field(2, ge=0, description="LLM reasoner: bundled examples per prompt.")
    merge: Literal["max", "scaled_max"] = Field(
        "max",
        description="max: raw scores, as IRCoT merges; scaled_max: each round's scores divided "
        "by its best first (for retrievers whose scores differ in scale between queries).",
    )
    output: str = Field("iterate", description="Name of the merged hit list.")

    @property
    def label(self) -> str:
        """E.g. 'iterate:dense' or 'iterate:graph:hipporag2'."""
        return f"iterate:{self.retrieve.label}"

    def writes(self) -> list[str]:
        """The merged hit list."""
        return [self.output]

    def writes_texts(self) -> list[str]:
        """It appends thoughts (searchable by a later step as `query: thought`)."""
        return ["thought"]

    def index_names(self) -> set[str]:
        """The wrapped index."""
        return {self.retrieve.index}

    def check_resources(self, resources: Resources) -> None:
        """The wrapped index exists; reasoner 'llm' needs an LLM."""
        super().check_resources(resources)
        resolve("reasoner", self.reasoner, llm_available=resources.llm is not None)

    def _reasoner(self, state: QueryState) -> Reasoner:
        """The reasoner `reasoner` names, built once per opened index, for this question."""
        res = state.resources
        reasoner: Reasoner = res.context.operators.get(
            "reasoner", self.reasoner, llm=res.llm, shots=self.shots, max_passages=self.passages
        )
        return reasoner.for_question(state.query, state.query_vector)

    def _run(self, state: QueryState) -> QueryState:
        """Round 0 searches the question; each later round searches the thought just written."""
        k = self.retrieve.hits_per_text(state)
        reasoner = self._reasoner(state)
        merged: dict[str, Hit] = {}
        rounds: list[list[str]] = []
        with traced(state, "iteration:0"):
            found = self.retrieve.run(state, [state.query], k)[0]
            merge_by_max(merged, self._scores(found.hits))
            keep_context(state, found)
            rounds.append([h.passage_id for h in ranked(merged)[:TRACE_HITS]])
            state.record(
                inputs={"query": state.query},
                outputs=RoundOutput(round=0, query=state.query, top=rounds[-1]),
            )
        stop_reason, answer = "step limit", None
        for n in range(1, self.max_steps + 1):
            with traced(state, f"iteration:{n}"):
                thought, shown = self._think(state, reasoner, ranked(merged))
                seen = {"passages": shown, "thoughts": list(state.thoughts)}
                if thought.stop:
                    stop_reason, answer = thought.stop_reason or "no new query", thought.answer
                    state.record(seen, _round(n, thought, stop_reason=stop_reason))
                    break
                state.thoughts.append(thought.text)
                found = self.retrieve.run(state, [thought.text], k)[0]
                new = [h.passage_id for h in found.hits if h.passage_id not in merged]
                merge_by_max(merged, self._scores(found.hits))
                keep_context(state, found)
                rounds.append([h.passage_id for h in ranked(merged)[:TRACE_HITS]])
                state.record(seen, _round(n, thought, top=rounds[-1], new=new[:TRACE_HITS]))
        if answer:
            # The reasoner's answer reaches the reader as a hint, as a drafted answer does.
            state.context.append(f"The answer might be {answer}.")
        hits = ranked(merged)[:k]
        state.results[self.output] = hits
        state.hits = hits
        state.record(
            inputs={
                "index": self.retrieve.index,
                "k": k,
                "search": self.retrieve.search,
                "reasoner": reasoner.name,
                "max_steps": self.max_steps,
                "merge": self.merge,
            },
            outputs=IterateOutput(
                rounds=rounds,
                thoughts=list(state.thoughts),
                stop_reason=stop_reason,
                answer=answer,
                hits=ranked_ids(hits),
            ),
        )
        return state

    def _scores(self, hits: list[Hit]) -> list[Hit]:
        """A round's hits as the merge compares them."""
        return scaled_to_best(hits) if self.merge == "scaled_max" else hits

    def _think(
        self, state: QueryState, reasoner: Reasoner, hits: list[Hit]
    ) -> tuple[Thought, list[str]]:
        """Ask the reasoner for the next thought over the top passages, and which it saw."""
        shown = [h.passage_id for h in hits[: self.passages]]
        passages = state.resources.store.get_many(shown)
        thought = reasoner.next_thought(state.query, passages, list(state.thoughts))
        if thought.stop:
            logger.debug("iteration stops (%s): %r", thought.stop_reason, thought.text)
        return thought, shown


def _round(n: int, thought: Thought, **found: Any) -> RoundOutput:
    """A round's trace output: the thought searched (or the stop) and what it found."""
    return RoundOutput.model_validate(
        {
            # The reasoner's own details first, so that they never shadow the round's fields.
            **thought.details,
            "round": n,
            "query": None if thought.stop else thought.text,
            "thought": thought.text,
            "stop": thought.stop,
            "answer": thought.answer,
            "reasoner": thought.reasoner,
            **found,
        }
    )
