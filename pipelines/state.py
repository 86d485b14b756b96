"""QueryState: what flows through a pipeline, and the resources steps read from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from indexers.base import Index
from rag.embed.base import Embedder
from rag.errors import ConfigError
from rag.llm.base import LLM
from rag.settings import Settings
from rag.store import PassageStore
from rag.types import Answer, Hit, TraceEvent


@dataclass
class Resources:
    """The loaded index a pipeline runs against: passages, indexes, models, settings."""

    store: PassageStore
    indexes: dict[str, Index]
    embedder: Embedder
    settings: Settings
    llm: LLM | None = None

    def index(self, kind: str) -> Index:
        """Return the index of `kind`, naming the ones available when it is missing."""
        if kind not in self.indexes:
            hint = " (build it with `rag index --graph`)" if kind == "graph" else ""
            held = ", ".join(sorted(self.indexes))
            raise ConfigError(f"this index dir has no '{kind}' index{hint}; it has: {held}")
        return self.indexes[kind]


@dataclass
class QueryState:
    """The query and everything steps have added so far; each step appends a TraceEvent."""

    query: str
    resources: Resources
    clues: list[str] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    hit_lists: dict[str, list[Hit]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    answer: Answer | None = None
    trace: list[TraceEvent] = field(default_factory=list)
    _query_vector: np.ndarray | None = field(default=None, repr=False)

    @property
    def query_vector(self) -> np.ndarray:
        """The query embedding, computed once and shared by every step that needs it."""
        if self._query_vector is None:
            self._query_vector = self.resources.embedder.embed_query(self.query)
        return self._query_vector

    def embed_with_query(self, texts: list[str]) -> np.ndarray:
        """Embed query-time texts, batched with the query itself when that is not embedded yet."""
        if self._query_vector is not None:
            return self.resources.embedder.embed_queries(texts)
        vectors = self.resources.embedder.embed_queries([self.query, *texts])
        self._query_vector = vectors[0]
        return vectors[1:]

    def record(self, step: str, inputs: dict[str, Any], outputs: dict[str, Any]) -> None:
        """Append a trace event; the pipeline fills in its time and LLM usage."""
        self.trace.append(TraceEvent(step=step, inputs=inputs, outputs=outputs))
