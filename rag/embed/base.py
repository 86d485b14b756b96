"""The embedder contract: texts in, L2-normalized float32 vectors out."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Literal

import numpy as np

#: How a local model runs; auto lets the backend choose for this CPU.
Precision = Literal["auto", "fp32", "bf16", "int8"]


class Embedder(ABC):
    """Turns texts into unit-length vectors; implementations say how (local model, endpoint)."""

    #: Model identity recorded in the index manifest; loading with another name is an error.
    name: str
    #: Vector dimension.
    dim: int

    @property
    def cache_key(self) -> str:
        """Identity of the exact numbers produced (model plus backend and precision)."""
        return self.name

    def warm_up(self) -> Embedder:
        """Load what the first embedding would load (a no-op for embedders that load eagerly)."""
        return self

    @abstractmethod
    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Embed texts as a (len(texts), dim) float32 array of unit vectors, in input order."""

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one query as a (dim,) unit vector."""
        return self.embed([text])[0]

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed query-time texts in one batch (like embed_query, never through a cache)."""
        return self.embed(texts)
