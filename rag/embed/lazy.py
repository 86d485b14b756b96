"""LazyEmbedder: an embedder whose model loads on first use, or at `warm_up()`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np

from rag.embed.base import Embedder
from rag.errors import EmbedderMismatchError


class LazyEmbedder(Embedder):
    """Stands in for an embedder known by name and dimension until a text must be embedded.

    Opening an index for BM25 queries, inspection or the app then loads no model. When the
    model loads, its dimension is checked against the one the index was built with.
    """

    def __init__(self, make: Callable[[], Embedder], name: str, dim: int) -> None:
        """`make` builds the real embedder; `name` and `dim` are what the index recorded."""
        self._make = make
        self.name = name
        self._dim = dim
        self._inner: Embedder | None = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        """Whether the model has been loaded."""
        return self._inner is not None

    def warm_up(self) -> Embedder:
        """Load the model now (once), checking that it is the one the index expects."""
        with self._lock:
            if self._inner is None:
                inner = self._make()
                if (inner.name, inner.dim) != (self.name, self._dim):
                    raise EmbedderMismatchError(
                        f"the index was built with {self.name} (dim {self._dim}) but the "
                        f"configured embedder is {inner.name} (dim {inner.dim})"
                    )
                self._inner = inner
            return self._inner

    @property
    def dim(self) -> int:  # type: ignore[override]
        """The vector dimension (known without loading)."""
        return self._dim

    @property
    def cache_key(self) -> str:
        """The loaded embedder's exact identity."""
        return self.warm_up().cache_key

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Embed with the real model, loading it first if needed."""
        return self.warm_up().embed(texts, show_progress=show_progress)

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one query."""
        return self.warm_up().embed_query(text)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed query-time texts in one batch."""
        return self.warm_up().embed_queries(texts)

    def close(self) -> None:
        """Close the real embedder's cache, if it was loaded and has one."""
        close = getattr(self._inner, "close", None)
        if callable(close):
            close()
