"""memrag: retrieval-augmented generation over memory-inspired indexes.

    import rag
    idx = rag.build(["./my-docs"], out="./my-index")   # or rag.load("./my-index")
    answer = idx.ask("Who founded X?", pipeline="dense")

Attributes are imported lazily (PEP 562) so that `import rag` stays fast and loads no torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rag.lazy import lazy_attributes

if TYPE_CHECKING:
    from pipelines.rag_index import RagIndex, build
    from rag.settings import Settings, load_settings
    from rag.types import Answer, Citation, Document, Hit, Passage, TraceEvent

__all__ = [
    "Answer",
    "Citation",
    "Document",
    "Hit",
    "Passage",
    "RagIndex",
    "Settings",
    "TraceEvent",
    "build",
    "load",
    "load_settings",
]

_LAZY = {
    "Answer": "rag.types",
    "Citation": "rag.types",
    "Document": "rag.types",
    "Hit": "rag.types",
    "Passage": "rag.types",
    "TraceEvent": "rag.types",
    "Settings": "rag.settings",
    "load_settings": "rag.settings",
    "RagIndex": "pipelines.rag_index",
    "build": "pipelines.rag_index",
}


def load(path: str, settings: Settings | None = None) -> RagIndex:
    """Open an index dir built with `rag index` or `rag.build`."""
    from pipelines.rag_index import RagIndex

    return RagIndex.open(path, settings)


__getattr__, __dir__ = lazy_attributes("rag", _LAZY, __all__)
