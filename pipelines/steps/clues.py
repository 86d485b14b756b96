"""DraftCluesStep (MemoRAG): draft clues, search with each, and fuse them with the question's."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from pydantic import Field

from indexers.base import CorpusMemory, FactSource, SearchResult
from indexers.tree.search import summary_memory
from pipelines.state import QueryState, Resources
from pipelines.step import Step
from pipelines.steps.retrieve import ranked_ids
from pipelines.steps.wrapped import WrappedRetrieval
from rag.errors import ConfigError
from rag.fusion import reciprocal_rank_fusion
from rag.operators.clues import (
    CLUE_KINDS,
    Clue,
    ClueKind,
    FeedbackClueDrafter,
    GraphClueDrafter,
    LLMClueDrafter,
)
from rag.operators.registry import resolve
from rag.operators.specs import DrafterSpec, help_text
from rag.trace_outputs import CluesOutput, ClueTrace
from rag.types import Hit, Passage

logger = logging.getLogger(__name__)

#: How many first-round passages the offline drafters read.
FEEDBACK_PASSAGES = 3
#: The drafter name of a draft answer read out of the first-round passages.
READER_DRAFTER = "extractive-reader"


@dataclass
class _Drafted:
    """The clues drafted, the drafters that ran, and the memory the drafting read."""

    clues: list[Clue]
    drafters: list[str]
    memory: str
    memory_texts: int | None = None

    def add(self, drafter: str, clues: list[Clue]) -> None:
        """Count a drafter that ran, whatever it found, and keep its clues."""
        self.drafters.append(drafter)
        self.clues.extend(clues)


def corpus_memory(
    state: QueryState, memory_from: str | None, evidence: list[Passage], budget: int
) -> tuple[str, list[str]]:
    """What the LLM drafter reads: the summaries of the index `memory_from` names (its highest
    levels that fit `budget` tokens), else the first-round passages."""
    if memory_from is not None:
        index = state.resources.index(memory_from)
        memory = summary_memory(index.tree, budget) if isinstance(index, CorpusMemory) else []
        if memory:
            return f"{memory_from} summaries", memory
    return "retrieved passages", [p.text for p in evidence]


def _interleaved(clues: list[Clue], limit: int) -> list[str]:
    """Clue texts taken in turn from each (drafter, kind), so every source is heard, without
    repeats, up to `limit`."""
    queues: dict[tuple[str, str], list[str]] = {}
    for clue in clues:
        queues.setdefault((clue.drafter, clue.kind), []).append(clue.text)
    chosen: dict[str, None] = {}
    while len(chosen) < limit and any(queues.values()):
        for queue in queues.values():
            if queue and len(chosen) < limit:
                chosen.setdefault(queue.pop(0), None)
    return list(chosen)


class DraftCluesStep(Step):
    """Draft clues for the question, retrieve with each (one embedding batch), and fuse.

    The question is searched too; its hits and every clue's are fused by reciprocal rank
    (default) or, as MemoRAG does, unioned in order (question first, then each clue's). A draft
    answer is not searched: the reader gets it as a hint ("The answer might be ...").
    """

    type_name = "draft_clues"

    retrieve: WrappedRetrieval = Field(default_factory=WrappedRetrieval)
    kinds: list[ClueKind] = Field(default_factory=lambda: list(CLUE_KINDS))
    drafter: DrafterSpec = Field("auto", description=help_text("drafter", "What drafts the clues"))
    max_clues: int = Field(4, ge=1, description="Clues searched at most.")
    clue_k: int = Field(3, ge=1, description="Hits kept per clue (MemoRAG: 3).")
    fusion: Literal["rrf", "union"] = "rrf"
    memory_tokens: int = Field(3000, ge=100, description="LLM: budget of the corpus memory.")
    memory_from: str | None = Field(
        None,
        description="LLM: the index whose summaries are the corpus memory (a tree); "
        "default the first-round passages.",
    )
    facts_from: str | None = Field(
        None,
        description="Offline: the index whose facts nearest the question are span clues too "
        "(a graph); default none. Named here, so that what else the index dir holds never "
        "changes the clues.",
    )
    output: str = Field("clues", description="Name of the fused hit list.")

    @property
    def label(self) -> str:
        """E.g. 'draft_clues:dense'."""
        return f"draft_clues:{self.retrieve.label}"

    def writes(self) -> list[str]:
        """The fused hit list."""
        return [self.output]

    def index_names(self) -> set[str]:
        """The wrapped index, and the memory and fact indexes it names."""
        named = {self.retrieve.index, self.memory_from, self.facts_from}
        return {name for name in named if name is not None}

    def check_resources(self, resources: Resources) -> None:
        """The named indexes exist and can serve; drafter 'llm' needs an LLM."""
        super().check_resources(resources)
        for name, role, able in (
            (self.memory_from, "memory_from", CorpusMemory),
            (self.facts_from, "facts_from", FactSource),
        ):
            if name is not None and not isinstance(resources.index(name), able):
                raise ConfigError(
                    f"draft_clues: {role} names the '{name}' index, which is not a "
                    f"{able.__name__} (it cannot serve as one)"
                )
        resolve("drafter", self.drafter, llm_available=resources.llm is not None)

    def _clues(self, state: QueryState, evidence: list[Passage]) -> _Drafted:
        """Clues from the LLM over the corpus memory, or from the offline drafters."""
        res, kinds = state.resources, self.kinds
        drafter = res.context.operators.get("drafter", self.drafter, llm=res.llm)
        if isinstance(drafter, LLMClueDrafter):
            source, memory = corpus_memory(state, self.memory_from, evidence, self.memory_tokens)
            drafted = drafter.draft(state.query, memory, kinds, self.max_clues)
            return _Drafted(drafted, [LLMClueDrafter.name], source, len(memory))
        vector = state.query_vector
        found = _Drafted([], [], "none (offline)")
        if self.facts_from is not None and "span" in kinds:
            facts_index = res.index(self.facts_from)
            if isinstance(facts_index, FactSource):
                facts = facts_index.nearest_facts(vector, 3 * self.max_clues)
                found.add(
                    GraphClueDrafter.name,
                    drafter.graph.draft(state.query, facts, self.max_clues),
                )
        if not evidence:
            return found
        # One reading ranks the first-round sentences for feedback and drafts the answer.
        reading = drafter.reader.read(state.query, evidence, vector)
        ranked = [s["sentence"] for s in reading.details.get("sentences", [])]
        feedback = drafter.feedback.draft(state.query, ranked, kinds, self.max_clues)
        found.add(FeedbackClueDrafter.name, feedback)
        if "draft_answer" in kinds:
            answer = (
                [Clue(reading.answer, "draft_answer", READER_DRAFTER)] if reading.answer else []
            )
            found.add(READER_DRAFTER, answer)
        return found

    def _run(self, state: QueryState) -> QueryState:
        """Question first, then clues; fused hits become the current ranking."""
        k = self.retrieve.hits_per_text(state)
        first = self.retrieve.run(state, [state.query], k)[0]
        top = [h.passage_id for h in first.hits[:FEEDBACK_PASSAGES]]
        evidence = state.resources.store.get_many(top)
        drafted = self._clues(state, evidence)
        clues = drafted.clues
        searched = _interleaved([c for c in clues if c.kind != "draft_answer"], self.max_clues)
        found = self.retrieve.run(state, searched, self.clue_k) if searched else []
        hits = self._fuse(first, searched, found, k, state)
        state.clues = searched
        answers = [c.text for c in clues if c.kind == "draft_answer"]
        if answers:
            state.context.append(f"The answer might be {answers[0]}.")
        state.results[self.output] = hits
        state.hits = hits
        by_text = dict(zip(searched, found, strict=True))
        state.record(
            inputs={"index": self.retrieve.index, "kinds": self.kinds, "fusion": self.fusion},
            outputs=CluesOutput(
                memory=drafted.memory,
                memory_texts=drafted.memory_texts,
                drafters=drafted.drafters,
                clues=[
                    ClueTrace(
                        text=c.text,
                        kind=c.kind,
                        drafter=c.drafter,
                        hits=[h.passage_id for h in by_text[c.text].hits]
                        if c.text in by_text
                        else [],
                    )
                    for c in clues
                ],
                question_hits=[h.passage_id for h in first.hits[:10]],
                hits=ranked_ids(hits),
            ),
        )
        return state

    def _fuse(
        self,
        first: SearchResult,
        searched: list[str],
        found: list[SearchResult],
        k: int,
        state: QueryState,
    ) -> list[Hit]:
        """RRF over the question's list and each clue's, or their union in order."""
        if self.fusion == "union":
            seen: dict[str, Hit] = {}
            for result in [first, *found]:
                for hit in result.hits:
                    seen.setdefault(hit.passage_id, hit)
            union = list(seen.values())[:k]
            # Union order is the ranking; scores fall with rank so that it reads as one.
            return [h.model_copy(update={"score": 1.0 / (i + 1)}) for i, h in enumerate(union)]
        lists = {"question": first.hits}
        lists.update({text: r.hits for text, r in zip(searched, found, strict=True)})
        return reciprocal_rank_fusion(lists, k=state.resources.settings.retrieval.rrf_k, limit=k)
