"""An on-disk embedding cache that lets an interrupted indexing run resume."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.embed.base import Embedder

logger = logging.getLogger(__name__)

#: At most this many texts, or this many seconds of embedding, between two commits: a kill
#: loses a few seconds of work, whatever the CPU's speed.
DEFAULT_CHUNK = 512
DEFAULT_COMMIT_S = 5.0
#: Texts per model call; all missing texts are sorted by length first, so calls stay uniform.
_STEP = 64


def text_key(cache_key: str, text: str) -> str:
    """Cache key of one text's vector under one embedder identity."""
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{cache_key}:{digest}"


class CachedEmbedder(Embedder):
    """Wraps an embedder; only texts absent from the disk cache reach it."""

    def __init__(
        self,
        inner: Embedder,
        directory: Path,
        *,
        chunk_size: int = DEFAULT_CHUNK,
        commit_s: float = DEFAULT_COMMIT_S,
    ) -> None:
        """Open (or create) the cache in `directory`; vectors are committed every `chunk_size`
        texts or `commit_s` seconds, whichever comes first."""
        import diskcache

        self.inner = inner
        self.name = inner.name
        self.chunk_size = chunk_size
        self.commit_s = commit_s
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
        """Embed in length-sorted steps, committing by count or time, whichever comes first."""
        import time

        from tqdm.auto import tqdm

        items = _longest_first(missing)
        pending: list[tuple[str, np.ndarray]] = []
        last_commit, size = time.monotonic(), self.step
        with tqdm(total=len(items), desc="embed", unit="text", disable=not show_progress) as bar:
            for start in range(0, len(items), size):
                step = items[start : start + size]
                vectors = self.inner.embed([text for _, text in step])
                pending.extend(zip([key for key, _ in step], vectors, strict=True))
                bar.update(len(step))
                due = time.monotonic() - last_commit >= self.commit_s
                if len(pending) >= self.chunk_size or due or start + size >= len(items):
                    self._commit(pending, found)
                    pending, last_commit = [], time.monotonic()

    def _commit(self, pending: list[tuple[str, np.ndarray]], found: dict[str, np.ndarray]) -> None:
        """Write vectors to the cache in one transaction and make them available."""
        with self._cache.transact():
            for key, vector in pending:
                self._cache.set(key, np.asarray(vector, dtype=np.float32).tobytes())
        found.update(pending)

    @property
    def step(self) -> int:
        """Texts per model call when embedding the misses."""
        return min(_STEP, self.chunk_size)

    def missing_steps(
        self, texts: Sequence[str], planned: set[str] | None = None
    ) -> list[list[tuple[str, str]]]:
        """The (key, text) model calls `embed(texts)` would make, leaving out keys in `planned`.

        Another process (a Ray actor) can run exactly these calls and `put` the vectors back:
        the same texts in the same calls give the same vectors as embedding here.
        """
        planned = set() if planned is None else planned
        missing: dict[str, str] = {}
        for text in texts:
            key = text_key(self.inner.cache_key, text)
            if key not in missing and key not in planned and key not in self._cache:
                missing[key] = text
        items = _longest_first(missing)
        return [items[i : i + self.step] for i in range(0, len(items), self.step)]

    def put(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        """Store vectors computed elsewhere under their keys (from `missing_steps`)."""
        self._commit(list(zip(keys, vectors, strict=True)), {})

    def close(self) -> None:
        """Close the cache's database connection."""
        self._cache.close()


def _longest_first(missing: dict[str, str]) -> list[tuple[str, str]]:
    """Texts longest first, so each model call holds texts of similar length (little padding)."""
    return sorted(missing.items(), key=lambda kv: -len(kv[1]))
