"""Ingestion: discover source files, read them into documents, chunk documents into passages."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.ingest.chunking import chunk_documents
    from rag.ingest.readers import read_source
    from rag.ingest.sources import SUPPORTED_SUFFIXES, SourceFile, discover_sources

# Lazy (PEP 562) because readers and chunking import llama-index, which takes about two
# seconds; discovering files should not pay for that.
_EXPORTS = {
    "SUPPORTED_SUFFIXES": "rag.ingest.sources",
    "SourceFile": "rag.ingest.sources",
    "discover_sources": "rag.ingest.sources",
    "read_source": "rag.ingest.readers",
    "chunk_documents": "rag.ingest.chunking",
}

__all__ = ["SUPPORTED_SUFFIXES", "SourceFile", "chunk_documents", "discover_sources", "read_source"]


def __getattr__(name: str) -> Any:
    """Import an exported name's module on first use."""
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
