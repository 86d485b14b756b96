"""A disk cache in front of any extractor, so a long extraction resumes where it stopped."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import diskcache
from pydantic import ValidationError
from tqdm.auto import tqdm

from rag.closing import Closing
from rag.operators.openie.base import Extractor
from rag.operators.openie.types import Extraction
from rag.types import Passage

logger = logging.getLogger(__name__)


class CachedExtractor(Extractor, Closing):
    """Keeps each passage's extraction under `<cache_dir>/openie`, keyed by (extractor, id).

    Only the passages not yet cached reach the inner extractor, in batches whose results are
    written as soon as each batch is done: an interrupted run loses one batch at most. A
    passage id is a hash of title and text, so an edited passage is a new entry. The key uses
    the inner extractor's `cache_key` when it has one (LLMOpenIE's covers its prompts and
    decoding parameters), else its name. An extraction marked failed (an unusable LLM reply)
    is returned but not stored, so the next run extracts that passage again.
    """

    def __init__(self, inner: Extractor, cache_dir: Path, *, batch_size: int = 64) -> None:
        """Open (or create) the cache folder in front of `inner`."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.inner = inner
        self.name = inner.name
        self.key = str(getattr(inner, "cache_key", inner.name))
        self.batch_size = batch_size
        self.directory = Path(cache_dir) / "openie"
        self._cache = diskcache.Cache(str(self.directory))

    def extract(
        self, passages: Sequence[Passage], *, show_progress: bool = False
    ) -> list[Extraction]:
        """Cached extractions where present; the misses are extracted and stored batch by batch."""
        results = [self._get(p) for p in passages]
        misses = [i for i, hit in enumerate(results) if hit is None]
        if misses:
            logger.info(
                "openie cache: %d hits, %d to extract with %s",
                len(passages) - len(misses),
                len(misses),
                self.name,
            )
        with tqdm(
            total=len(misses), desc="openie", unit="passage", disable=not show_progress
        ) as bar:
            for start in range(0, len(misses), self.batch_size):
                batch = misses[start : start + self.batch_size]
                extracted = self.inner.extract([passages[i] for i in batch])
                for i, extraction in zip(batch, extracted, strict=True):
                    if extraction.failure is None:
                        key = (self.key, passages[i].id)
                        self._cache.set(key, extraction.model_dump_json())
                    results[i] = extraction
                bar.update(len(batch))
        return [r for r in results if r is not None]

    def cached(self, passage: Passage) -> bool:
        """Whether a passage's extraction is stored."""
        return self._get(passage) is not None

    def put(self, passage: Passage, extraction: Extraction) -> None:
        """Store an extraction made elsewhere (a Ray actor); a failed one is not stored."""
        if extraction.failure is None:
            self._cache.set((self.key, passage.id), extraction.model_dump_json())

    def query_entities(self, text: str) -> list[str]:
        """Delegated uncached: a question costs one call and is rarely asked twice."""
        return self.inner.query_entities(text)

    def _get(self, passage: Passage) -> Extraction | None:
        """The stored extraction of a passage, or None when absent or unreadable."""
        stored = self._cache.get((self.key, passage.id))
        if stored is None:
            return None
        try:
            return Extraction.model_validate_json(stored)
        except ValidationError as exc:
            # An entry from an older format is a miss: the passage is simply extracted again.
            logger.warning("ignoring unreadable OpenIE cache entry for %s: %s", passage.id, exc)
            return None

    def close(self) -> None:
        """Release the cache's SQLite connections."""
        self._cache.close()
