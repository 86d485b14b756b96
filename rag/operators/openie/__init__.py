"""OpenIE operators: named entities and (subject, relation, object) triples from passages.

`make_extractor` picks one by name: the offline pattern rules, an LLM in two stages, or a
HippoRAG OpenIE cache file, optionally behind a disk cache.
"""

from __future__ import annotations

from pathlib import Path

from rag.errors import ConfigError
from rag.llm.base import LLM
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
    "make_extractor",
]


def make_extractor(
    spec: str, *, llm: LLM | None = None, cache_dir: Path | None = None
) -> Extractor:
    """'offline'/'pattern' → PatternOpenIE; 'llm' → LLMOpenIE; 'cache:PATH' → HippoRAG cache.

    A cache file falls back to the pattern rules for passages it lacks. With cache_dir, the LLM
    extractor sits behind a CachedExtractor (the pattern rules are fast, a cache file is a
    cache already).
    """
    kind = spec.strip()
    extractor: Extractor
    if kind in ("offline", "pattern"):
        extractor = PatternOpenIE()
    elif kind == "llm":
        if llm is None:
            raise ConfigError("openie 'llm' needs an LLM: set llm.provider and llm.model")
        # The LLM's own cap decides how many calls run at once; more threads would only wait.
        extractor = LLMOpenIE(llm, max_workers=getattr(llm, "max_concurrency", 4))
    elif kind.startswith("cache:") and kind[len("cache:") :].strip():
        path = Path(kind[len("cache:") :].strip()).expanduser()
        return HippoRAGOpenIECache(path, fallback=PatternOpenIE())
    else:
        raise ConfigError(
            f"openie: unknown extractor {spec!r}; use 'offline', 'pattern', 'llm' or 'cache:PATH'"
        )
    if cache_dir is None or isinstance(extractor, PatternOpenIE):
        # The pattern rules take milliseconds; a cache would only serve results of old rules.
        return extractor
    return CachedExtractor(extractor, cache_dir)
