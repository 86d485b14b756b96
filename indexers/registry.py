"""Index kinds by name, so index dirs and pipelines can refer to them in config."""

from __future__ import annotations

from indexers.base import Index
from indexers.bm25 import BM25Index
from indexers.vector import VectorIndex
from rag.embed.base import Embedder
from rag.settings import Settings

INDEX_KINDS: dict[str, type[Index]] = {VectorIndex.kind: VectorIndex, BM25Index.kind: BM25Index}
DEFAULT_KINDS = (VectorIndex.kind, BM25Index.kind)


def new_index(kind: str, embedder: Embedder, settings: Settings) -> Index:
    """Create an empty index of `kind`."""
    if kind == VectorIndex.kind:
        return VectorIndex(embedder, settings.vector)
    if kind in INDEX_KINDS:
        return INDEX_KINDS[kind]()
    raise ValueError(f"unknown index kind {kind!r} (known: {sorted(INDEX_KINDS)})")
