"""Opening an index dir: manifest, passage store and every index it lists."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from indexers.base import Index
from indexers.registry import INDEX_KINDS
from rag.atomic import recover
from rag.embed import make_embedder
from rag.embed.base import Embedder
from rag.errors import IndexFormatError
from rag.manifest import Manifest, read_manifest
from rag.settings import Settings
from rag.store import PassageStore


@dataclass
class IndexDir:
    """A loaded index dir: what the manifest says, the passages, and the indexes."""

    path: Path
    manifest: Manifest
    store: PassageStore
    indexes: dict[str, Index]
    embedder: Embedder

    def close(self) -> None:
        """Release the passage store."""
        self.store.close()


def open_index_dir(path: str | Path, settings: Settings) -> IndexDir:
    """Load an index dir, checking its format and that the configured embedder matches."""
    path = Path(path)
    recover(path)
    manifest = read_manifest(path)
    embedder = make_embedder(settings.embedder, settings.cache_dir)
    manifest.check_embedder(embedder.name, embedder.dim, path)
    store = PassageStore(path / PassageStore.FILENAME, read_only=True)
    indexes: dict[str, Index] = {}
    for kind in manifest.indexes:
        if kind not in INDEX_KINDS:
            raise IndexFormatError(f"{path}: unknown index kind {kind!r} in manifest")
        indexes[kind] = INDEX_KINDS[kind].load(path / kind, embedder)
    return IndexDir(path, manifest, store, indexes, embedder)
