"""An on-disk embedding cache that lets an interrupted indexing run resume."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.embed.base import Embedder

logger = logging.getLogger(__name__)

#: Texts embedded between two commits: large enough for good length-sorted batches,
#: small enough that a kill loses only a few seconds of work.
DEFAULT_CHUNK = 512


def text_key(cache_key: str, text: str) -> str:
    """Cache key of one text's vector under one embedder identity."""
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{cache_key}:{digest}"


class CachedEmbedder(Embedder):
    """Wraps an embedder; only texts absent from the disk cache reach it."""

    def __init__(self, inner: Embedder, directory: Path, *, chunk_size: int = DEFAULT_CHUNK):
        """Open (or create) the cache in `directory`; chunk_size texts are committed at a time."""
        import diskcache

        self.inner = inner
        self.name = inner.name
        self.chunk_size = chunk_size
        directory.mkdir(parents=True, exist_ok=True)
        # No eviction: silently dropping vectors of a million-passage build would defeat
        # the point of resuming; delete the folder to reclaim the space.
        self._cache = diskcache.Cache(str(directory), eviction_policy="none")
        self.hits = 0
        self.misses = 0

    # A property, not a copy: an endpoint's dimension is known only after its first reply.
    @property
    def dim(self) -> int:  # type: ignore[override]
        """The wrapped embedder's dimension."""
        return self.inner.dim

    @property
    def cache_key(self) -> str:
        """The wrapped embedder's identity; vectors are shared with any cache of it."""
        return self.inner.cache_key

    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Embed texts, reading cached vectors and embedding and storing only the rest."""
        prefix = self.inner.cache_key
        keys = [text_key(prefix, t) for t in texts]
        found: dict[str, np.ndarray] = {}
        missing: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key in found or key in missing:
                continue
            blob = self._cache.get(key)
            if blob is None:
                missing[key] = text
            else:
                found[key] = np.frombuffer(blob, dtype=np.float32)
        self.hits += len(found)
        self.misses += len(missing)
        if missing:
            logger.info("embedding %d texts (%d found in cache)", len(missing), len(found))
            self._embed_missing(missing, found, show_progress)
        if not keys:
            return np.empty((0, self.dim), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)

    def embed_query(self, text: str) -> np.ndarray:
        """Embed a query directly: queries rarely repeat, so a disk write per query only costs."""
        return self.inner.embed_query(text)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed query-time texts directly, in one batch."""
        return self.inner.embed_queries(texts)

    def _embed_missing(
        self, missing: dict[str, str], found: dict[str, np.ndarray], show_progress: bool
    ) -> None:
        """Embed chunk by chunk, committing each chunk's vectors before the next starts."""
        from tqdm.auto import tqdm

        items = list(missing.items())
        with tqdm(total=len(items), desc="embed", unit="text", disable=not show_progress) as bar:
            for start in range(0, len(items), self.chunk_size):
                chunk = items[start : start + self.chunk_size]
                vectors = self.inner.embed([text for _, text in chunk])
                with self._cache.transact():
                    for (key, _), vector in zip(chunk, vectors, strict=True):
                        self._cache.set(key, np.asarray(vector, dtype=np.float32).tobytes())
                for (key, _), vector in zip(chunk, vectors, strict=True):
                    found[key] = vector
                bar.update(len(chunk))

    def close(self) -> None:
        """Close the cache's database connection."""
        self._cache.close()
