"""Opening an index dir for queries: manifest, passage store and every index it lists.

Opening never writes: nothing in the dir is renamed or deleted, the passage store is opened
read-only, and while a build swaps in a new version the previous complete one is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from indexers.base import Index
from indexers.context import BuildContext
from indexers.registry import check_settings, index_kind
from rag.atomic import readable_path
from rag.closing import Closing
from rag.embed import embedder_name, make_embedder
from rag.embed.base import Embedder
from rag.embed.lazy import LazyEmbedder
from rag.errors import ConfigError, EmbedderMismatchError, IndexFormatError
from rag.manifest import Manifest, read_manifest
from rag.settings import Settings
from rag.store import PassageStore


@dataclass
class IndexDir(Closing):
    """A loaded index dir: what the manifest says, the passages, and the indexes."""

    path: Path
    manifest: Manifest
    store: PassageStore
    indexes: dict[str, Index]
    context: BuildContext

    @property
    def embedder(self) -> Embedder:
        """The embedder the indexes were built with."""
        return self.context.embedder

    def close(self) -> None:
        """Release the passage store, the LLM and the embedder's cache."""
        self.store.close()
        self.context.close()
        close = getattr(self.embedder, "close", None)
        if callable(close):
            close()


def open_index_dir(path: str | Path, settings: Settings) -> IndexDir:
    """Load an index dir read-only, checking its format and that the embedder matches."""
    check_settings(settings)
    path = Path(path)
    where = readable_path(path)
    manifest = read_manifest(where)
    recorded = manifest.embedder
    configured = embedder_name(settings.embedder)
    if configured != recorded.name:
        raise EmbedderMismatchError(
            f"{path}: built with embedder {recorded.name} (dim {recorded.dim}), but {configured} "
            "is configured; use the same embedder or rebuild into a new directory"
        )
    # The model loads on the first query that needs it (or at RagIndex.warm_up()).
    embedder = LazyEmbedder(
        lambda: make_embedder(settings.embedder, settings.cache_dir), recorded.name, recorded.dim
    )
    store = PassageStore(where / PassageStore.FILENAME, read_only=True)
    context = BuildContext(embedder, settings)
    indexes: dict[str, Index] = {}
    try:
        for kind in manifest.indexes:
            try:
                cls = index_kind(kind)
            except ConfigError:
                raise IndexFormatError(f"{path}: unknown index kind {kind!r} in manifest") from None
            indexes[kind] = cls.load(where / kind, context)
    except BaseException:
        store.close()
        raise
    return IndexDir(path, manifest, store, indexes, context)
