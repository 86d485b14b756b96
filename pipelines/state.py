"""QueryState: what flows through a pipeline, and the resources steps read from."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from indexers.base import Index
from indexers.context import BuildContext
from rag.embed.base import Embedder
from rag.errors import ConfigError
from rag.llm.base import LLM
from rag.query import Query
from rag.settings import Settings
from rag.store import PassageStore
from rag.trace_outputs import StepOutput
from rag.types import Answer, Hit, TraceEvent

#: Query sources every pipeline has: the question, drafted clues, the latest thought.
BUILTIN_SOURCES = ("question", "clues", "thought")


@dataclass
class Resources:
    """The opened index a pipeline runs against: passages, indexes, models, settings.

    The LLM is created on first use, so opening an index for retrieval alone makes none.
    """

    store: PassageStore
    indexes: Mapping[str, Index]
    context: BuildContext
    #: Settings for this run only (a search's own k), leaving the opened index's untouched.
    overrides: Settings | None = None

    @property
    def embedder(self) -> Embedder:
        """The embedder the indexes were built with."""
        return self.context.embedder

    @property
    def settings(self) -> Settings:
        """The resolved settings (with this run's overrides)."""
        return self.overrides or self.context.settings

    def with_top_k(self, k: int) -> Resources:
        """The same resources, with retrieval.top_k set to `k` for one run."""
        settings = self.settings.with_section("retrieval", top_k=k)
        return dataclasses.replace(self, overrides=settings)

    @property
    def llm(self) -> LLM | None:
        """The configured LLM with its middleware, or None when offline."""
        return self.context.llm

    def index(self, kind: str) -> Index:
        """Return the index of `kind`, naming the ones available when it is missing."""
        if kind not in self.indexes:
            hint = f" (build it with `rag index --kinds {kind}`)"
            held = ", ".join(sorted(self.indexes))
            raise ConfigError(f"this index dir has no '{kind}' index{hint}; it has: {held}")
        return self.indexes[kind]


@dataclass
class QueryState:
    """The question and everything steps have added so far; each step appends a TraceEvent.

    `results` holds every hit list a step produced, under the step's output name, so one
    index can be searched several times (per clue, per thought); `hits` is the current ranking.
    `context` holds texts for the reader that are not passages (a tree's summaries).
    """

    question: Query
    resources: Resources
    clues: list[str] = field(default_factory=list)
    thoughts: list[str] = field(default_factory=list)
    texts: dict[str, list[str]] = field(default_factory=dict)
    results: dict[str, list[Hit]] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    context: list[str] = field(default_factory=list)
    answer: Answer | None = None
    trace: list[TraceEvent] = field(default_factory=list)
    retrieval_only: bool = False
    open_events: list[TraceEvent] = field(default_factory=list, repr=False)

    @property
    def query(self) -> str:
        """The question's text."""
        return self.question.text

    @property
    def query_vector(self) -> np.ndarray:
        """The question's embedding, computed once and shared by every step that needs it."""
        return self.question.vector

    def source_texts(self, source: str) -> list[str]:
        """The texts a step searches with: the question, the clues, the last thought, or a field."""
        if source == "question":
            return [self.query]
        if source == "clues":
            return list(self.clues)
        if source == "thought":
            return self.thoughts[-1:]
        return list(self.texts.get(source, []))

    def record(self, inputs: dict[str, Any], outputs: StepOutput) -> None:
        """Set what the running step saw and did on its trace event."""
        if not self.open_events:
            raise RuntimeError("record() called outside a running step")
        event = self.open_events[-1]
        event.inputs.update(inputs)
        event.outputs = outputs
