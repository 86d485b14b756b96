"""OpenIE operators: named entities and (subject, relation, object) triples from passages.

The offline pattern rules, an LLM in two stages, or a HippoRAG OpenIE cache file (an LLM's
behind a disk cache); `rag.operators.registry` picks one by name (role "openie").
"""

from __future__ import annotations

from rag.operators.openie.base import Extractor
from rag.operators.openie.cached import CachedExtractor
from rag.operators.openie.hipporag_cache import HippoRAGOpenIECache
from rag.operators.openie.llm_openie import LLMOpenIE
from rag.operators.openie.patterns import PatternOpenIE
from rag.operators.openie.types import Extraction, Triple, clean_triples

__all__ = [
    "CachedExtractor",
    "Extraction",
    "Extractor",
    "HippoRAGOpenIECache",
    "LLMOpenIE",
    "PatternOpenIE",
    "Triple",
    "clean_triples",
]
