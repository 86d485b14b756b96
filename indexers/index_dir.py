"""Opening an index dir for queries: manifest, passage store and, on first use, each index.

Opening never writes: nothing in the dir is renamed or deleted, the passage store is opened
read-only, and while a build swaps in a new version the previous complete one is read; the
version found at open is held for good (rag/snapshot.py), so no read mixes two versions. Each
index kind loads when a query first needs it and checks its files against the sizes and
hashes the manifest records, so a damaged kind fails only the pipelines that use it, with a
message that names the file and says how to rebuild.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from indexers.base import Index
from indexers.context import BuildContext
from indexers.registry import check_settings, index_kind
from rag.closing import Closing
from rag.embed import embedder_name, make_embedder
from rag.embed.base import Embedder
from rag.embed.lazy import LazyEmbedder
from rag.errors import ConfigError, IndexFormatError
from rag.integrity import verify_files
from rag.manifest import Manifest, read_manifest
from rag.settings import Settings
from rag.snapshot import Snapshot, retry_swapped
from rag.store import PassageStore


def rebuild_hint(path: Path) -> str:
    """What to run when an index dir is damaged."""
    return f"rebuild it with `rag index --rebuild --out {path}` (cached embeddings are reused)"


class LazyIndexes(Mapping[str, Index]):
    """The kinds a manifest lists, each loaded (and checked) on first access."""

    def __init__(self, kinds: list[str], load: Callable[[str], Index]) -> None:
        """`load(kind)` opens one kind."""
        self._kinds = kinds
        self._load = load
        self._loaded: dict[str, Index] = {}
        self._lock = threading.Lock()

    def __getitem__(self, kind: str) -> Index:
        """The index of `kind`, loading it on first use."""
        if kind not in self._kinds:
            raise KeyError(kind)
        with self._lock:
            if kind not in self._loaded:
                self._loaded[kind] = self._load(kind)
            return self._loaded[kind]

    def __contains__(self, kind: object) -> bool:
        """Whether the dir holds `kind` (without loading it)."""
        return kind in self._kinds

    def __iter__(self) -> Iterator[str]:
        """The kinds the manifest lists."""
        return iter(self._kinds)

    def __len__(self) -> int:
        """How many kinds the dir holds."""
        return len(self._kinds)


@dataclass
class IndexDir(Closing):
    """A loaded index dir: what the manifest says, the passages, and the indexes."""

    path: Path
    manifest: Manifest
    store: PassageStore
    indexes: LazyIndexes
    context: BuildContext
    snapshot: Snapshot | None = None

    @property
    def embedder(self) -> Embedder:
        """The embedder the indexes were built with."""
        return self.context.embedder

    def close(self) -> None:
        """Release the passage store, the LLM, the embedder's cache and the held version."""
        self.store.close()
        self.context.close()
        if self.snapshot is not None:
            self.snapshot.close()
        close = getattr(self.embedder, "close", None)
        if callable(close):
            close()


def _kind_loader(
    path: Path, snapshot: Snapshot, manifest: Manifest, context: BuildContext
) -> Callable[[str], Index]:
    """Open one kind from the held version and check it holds the passages the manifest counts."""
    expected = manifest.counts.get("passages")

    def load(kind: str) -> Index:
        try:
            cls = index_kind(kind)
        except ConfigError:
            raise IndexFormatError(f"{path}: unknown index kind {kind!r} in manifest") from None
        root = snapshot.root  # raises if the dir was closed: nothing to rebuild then
        try:
            # Each kind checks its files against the manifest's checksums as it loads.
            index = cls.load(root / kind, context)
        except (IndexFormatError, OSError) as exc:
            if snapshot.replaced():
                raise snapshot.changed_error() from exc
            raise IndexFormatError(f"{snapshot.named(str(exc))}; {rebuild_hint(path)}") from exc
        if not snapshot.pinned and snapshot.replaced():
            # Read through the path, so the files may come from two versions.
            raise snapshot.changed_error()
        if expected is not None and len(index) != expected:
            raise IndexFormatError(
                f"{snapshot.shown / kind}: holds {len(index)} passages, the manifest {expected}; "
                f"{rebuild_hint(path)}"
            )
        return index

    return load


def open_store(snapshot: Snapshot, manifest: Manifest, path: Path) -> PassageStore:
    """Open the passage store of the held version read-only, checked against the manifest.

    Its size and hash are checked when the manifest records them, else SQLite's quick_check
    runs; `path` (the index dir as the user named it) goes into the rebuild hint.
    """
    name = PassageStore.FILENAME
    store_file, shown = snapshot.root / name, snapshot.shown / name
    try:
        if name in manifest.files:
            verify_files(snapshot.root, {name: manifest.files[name]})
            store = PassageStore(store_file, read_only=True, shown=shown)
        else:
            store = PassageStore(store_file, read_only=True, shown=shown)
            store.quick_check()
    except IndexFormatError as exc:
        raise IndexFormatError(f"{exc}; {rebuild_hint(path)}") from exc
    expected, held = manifest.counts.get("passages"), len(store)
    if expected is not None and held != expected:
        store.close()
        raise IndexFormatError(
            f"{shown}: holds {held} passages, the manifest {expected}; {rebuild_hint(path)}"
        )
    return store


def open_index_dir(path: str | Path, settings: Settings) -> IndexDir:
    """Open an index dir read-only, checking its format and that the embedder matches.

    The version found at open is held (see rag/snapshot.py): a build swapping in a new one
    meanwhile is never mixed in, and the open starts again if the swap removed it mid-way.
    """
    check_settings(settings)
    path = Path(path)

    def read(snapshot: Snapshot) -> tuple[Manifest, PassageStore]:
        manifest = read_manifest(snapshot.root)
        manifest.check_embedder(embedder_name(settings.embedder), None, path)
        return manifest, open_store(snapshot, manifest, path)

    snapshot, (manifest, store) = retry_swapped(path, read)
    recorded = manifest.embedder
    # The model loads on the first query that needs it (or at RagIndex.warm_up()).
    embedder = LazyEmbedder(
        lambda: make_embedder(settings.embedder, settings.cache_dir), recorded.name, recorded.dim
    )
    context = BuildContext(embedder, settings)
    indexes = LazyIndexes(list(manifest.indexes), _kind_loader(path, snapshot, manifest, context))
    return IndexDir(path, manifest, store, indexes, context, snapshot)
