"""GenerateStep: read the answer out of the top passages, with citations."""

from __future__ import annotations

from pydantic import Field

from pipelines.state import QueryState, Resources
from pipelines.step import Step
from rag.operators.reader.reading import Reader
from rag.operators.registry import resolve
from rag.operators.specs import ReaderSpec, help_text
from rag.trace_outputs import GenerateOutput
from rag.types import Answer


class GenerateStep(Step):
    """Answer from the current hits: the LLM reader when an LLM is configured, else extractive."""

    type_name = "generate"
    answers = True

    reader: ReaderSpec = Field(
        "auto", description=help_text("reader", "What reads the answer out of the passages")
    )
    passages: int = Field(5, ge=1, description="How many top passages the reader sees.")
    source: str | None = Field(
        None, description="Hit list to read from; default the current ranking."
    )

    def reads(self) -> list[str]:
        """The hit list it reads, when one is named."""
        return [self.source] if self.source else []

    def check_resources(self, resources: Resources) -> None:
        """The reader resolves here (reader 'llm' needs a configured LLM)."""
        resolve("reader", self.reader, llm_available=resources.llm is not None)

    def _reader(self, state: QueryState) -> Reader:
        """The reader this step uses: the index dir's, built once per opened index."""
        res = state.resources
        reader: Reader = res.context.operators.get(
            "reader", self.reader, llm=res.llm, max_passages=self.passages
        )
        return reader

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
