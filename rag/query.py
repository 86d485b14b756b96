"""Query: a question as an index sees it, with its embedding computed once and shared."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from rag.fusion import DEFAULT_RRF_K

if TYPE_CHECKING:
    from rag.embed.base import Embedder
    from rag.llm.base import LLM


class Query:
    """Query text, its embedding (computed on first use), and the models an index may consult.

    Indexes reach the question only through a Query, so a pipeline embeds each text once:
    `embed_with` batches extra query-time texts (entity phrases, clues, sub-questions) with
    the query itself when the query is not embedded yet.
    """

    def __init__(
        self,
        text: str,
        *,
        embedder: Embedder | None = None,
        llm: LLM | None = None,
        vector: np.ndarray | None = None,
        rrf_k: int = DEFAULT_RRF_K,
    ) -> None:
        """A query over `text`; `vector` skips embedding when the caller already has it.

        `rrf_k` is the reciprocal-rank-fusion constant (`retrieval.rrf_k`) for retrievers
        that fuse rankings internally.
        """
        self.text = text
        self.embedder = embedder
        self.llm = llm
        self.rrf_k = rrf_k
        self._vector = vector
        self._lock = threading.Lock()

    def _embedder(self) -> Embedder:
        """The embedder, or a clear error when this query has none."""
        if self.embedder is None:
            raise ValueError(f"query {self.text!r} has no embedder to compute its vector")
        return self.embedder

    @property
    def vector(self) -> np.ndarray:
        """The query's unit embedding."""
        with self._lock:
            if self._vector is None:
                self._vector = self._embedder().embed_queries([self.text])[0]
            return self._vector

    def embed_with(self, texts: Sequence[str]) -> np.ndarray:
        """Embed `texts`, in the same model call as the query when it is not embedded yet."""
        texts = list(texts)
        with self._lock:
            if self._vector is not None:
                return self._embedder().embed_queries(texts)
            vectors = self._embedder().embed_queries([self.text, *texts])
            self._vector = vectors[0]
            return vectors[1:]

    def derive(self, texts: Sequence[str]) -> list[Query]:
        """Queries for other texts (clues, thoughts) sharing the models, embedded in one batch."""
        vectors = list(self.embed_with(texts)) if texts else []
        return [
            Query(t, embedder=self.embedder, llm=self.llm, vector=v, rrf_k=self.rrf_k)
            for t, v in zip(texts, vectors, strict=True)
        ]

    def __repr__(self) -> str:
        """Show the text, not the vector."""
        return f"Query({self.text!r})"
