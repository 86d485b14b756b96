"""Index kinds by name, so index dirs and pipelines can refer to them in config."""

from __future__ import annotations

from indexers.base import Index
from indexers.bm25 import BM25Index
from indexers.graph import GraphIndex
from indexers.vector import VectorIndex
from rag.embed.base import Embedder
from rag.llm import make_llm
from rag.operators.openie import Extractor, make_extractor
from rag.settings import Settings

INDEX_KINDS: dict[str, type[Index]] = {
    VectorIndex.kind: VectorIndex,
    BM25Index.kind: BM25Index,
    GraphIndex.kind: GraphIndex,
}
DEFAULT_KINDS = (VectorIndex.kind, BM25Index.kind)


def extractor_spec(settings: Settings) -> str:
    """The extractor the graph settings select, with 'auto' resolved."""
    spec = settings.graph.extractor
    if spec == "auto":
        return "llm" if settings.llm.provider != "none" else "offline"
    return spec


def graph_extractor(settings: Settings) -> Extractor:
    """The OpenIE extractor for building a graph index under these settings."""
    llm = make_llm(settings.llm, settings.cache_dir)
    return make_extractor(extractor_spec(settings), llm=llm, cache_dir=settings.cache_dir)


def new_index(kind: str, embedder: Embedder, settings: Settings) -> Index:
    """Create an empty index of `kind`."""
    if kind == VectorIndex.kind:
        return VectorIndex(embedder, settings.vector)
    if kind == GraphIndex.kind:
        return GraphIndex(embedder, settings.graph, show_progress=settings.show_progress)
    if kind in INDEX_KINDS:
        return INDEX_KINDS[kind]()
    raise ValueError(f"unknown index kind {kind!r} (known: {sorted(INDEX_KINDS)})")
