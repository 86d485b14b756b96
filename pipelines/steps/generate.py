"""GenerateStep: read the answer out of the top passages, with citations."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from pipelines.state import QueryState, Resources
from pipelines.step import Step
from rag.errors import ConfigError
from rag.operators.reader.extractive import ExtractiveReader
from rag.operators.reader.llm import LLMReader
from rag.operators.reader.reading import Reader
from rag.trace_outputs import GenerateOutput
from rag.types import Answer


class GenerateStep(Step):
    """Answer from the current hits: the LLM reader when an LLM is configured, else extractive."""

    type_name = "generate"
    answers = True

    reader: Literal["auto", "extractive", "llm"] = Field(
        "auto", description="auto = llm when one is configured, else extractive."
    )
    passages: int = Field(5, ge=1, description="How many top passages the reader sees.")
    source: str | None = Field(
        None, description="Hit list to read from; default the current ranking."
    )

    def reads(self) -> list[str]:
        """The hit list it reads, when one is named."""
        return [self.source] if self.source else []

    def check_resources(self, resources: Resources) -> None:
        """Reader 'llm' needs a configured LLM."""
        if self.reader == "llm" and resources.llm is None:
            raise ConfigError(
                "generate: reader 'llm' needs an LLM; set llm.provider and llm.model "
                "(or use reader: auto)"
            )

    def _reader(self, state: QueryState) -> Reader:
        """Pick the reader this step should use."""
        llm = state.resources.llm
        if llm is not None and self.reader != "extractive":
            return LLMReader(llm, max_passages=self.passages)
        return ExtractiveReader(state.resources.embedder, max_passages=self.passages)

    def _run(self, state: QueryState) -> QueryState:
        """Read the answer from the top passages and attach it with citations."""
        hits = state.results[self.source] if self.source else state.hits
        top = [h.passage_id for h in hits[: self.passages]]
        passages = state.resources.store.get_many(top)
        reading = self._reader(state).read(
            state.query, passages, query_vector=state.query_vector, context=state.context
        )
        state.answer = Answer(
            question=state.query,
            text=reading.answer,
            citations=reading.citations,
            reader=reading.reader,
        )
        state.record(
            inputs={"passages": top, "reader": reading.reader, "context": len(state.context)},
            outputs=GenerateOutput(
                answer=reading.answer,
                citations=[c.passage_id for c in reading.citations],
                **reading.details,
            ),
        )
        return state
