"""The milvus index kind: passage vectors in a Milvus collection, through the Index contract.

Needs `pip install 'memrag[milvus]'` (pymilvus and milvus-lite). See connection.py for how the
Lite folder is kept so that index dirs stay write-beside-then-rename.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from indexers.base import Index, KindConfig, SearchResult
from indexers.context import BuildContext
from indexers.milvus.collection import ID_FIELD, VECTOR_FIELD, create_collection, row_count
from indexers.milvus.connection import LITE_FOLDER, MilvusConnection
from indexers.milvus.settings import MilvusSearch, MilvusSettings
from rag.embed.base import Embedder
from rag.errors import ConfigError, IndexFormatError
from rag.manifest import verify_saved
from rag.query import Query
from rag.types import DenseReason, Hit, Passage

logger = logging.getLogger(__name__)

#: Rows per insert or delete call: keeps each gRPC message and filter expression small.
BATCH = 1000
#: The most hits Milvus returns per query (its `topk` limit).
MAX_TOP_K = 16_384


class MilvusIndex(Index[MilvusSearch]):
    """Passage embeddings in a Milvus collection (primary key: the passage id), inner product.

    Costs: `add` inserts only new passages, in batches; `delete` is a delete by primary key
    (Milvus marks rows deleted; compaction reclaims them later). With Milvus Lite, `load`
    copies the saved Lite folder and `save` copies it back: O(index size) each.
    """

    kind: ClassVar[str] = "milvus"
    settings_section: ClassVar[str | None] = "milvus"
    build_config: ClassVar[type[KindConfig]] = MilvusSettings
    search_config = MilvusSearch
    uses_passage_vectors: ClassVar[bool] = True
    rebuilt_when_settings_change: ClassVar[bool] = True

    def __init__(
        self,
        embedder: Embedder,
        settings: MilvusSettings | None = None,
        *,
        seed: Path | None = None,
        ids: Iterable[str] = (),
    ) -> None:
        """An index over `seed` (a saved Lite folder) or, without one, a new collection."""
        self.embedder = embedder
        self.settings = settings or MilvusSettings()
        token = os.environ.get(self.settings.token_env, "") if self.settings.token_env else ""
        self._conn = MilvusConnection(self.settings.uri, token, seed)
        self._ids: dict[str, None] = dict.fromkeys(ids)
        self._ready = False

    @classmethod
    def create(cls, context: BuildContext) -> Self:
        """An empty index with the `[milvus]` settings of the context."""
        from indexers.registry import kind_settings

        settings = kind_settings(cls, context.settings)
        assert isinstance(settings, MilvusSettings)
        self = cls(context.embedder, settings)
        if settings.uri is not None:
            self._new_server_collection()
        return self

    @property
    def _name(self) -> str:
        """The collection name."""
        return self.settings.collection

    def _new_server_collection(self) -> None:
        """Make the server collection, replacing one only when `drop_existing` allows."""
        client = self._conn.client
        if client.has_collection(self._name):
            if not self.settings.drop_existing:
                raise ConfigError(
                    f"{self.settings.uri}: collection {self._name!r} already exists; name "
                    "another [milvus] collection or set drop_existing = true to replace it"
                )
            logger.info("%s: dropping collection %s for a new build", self.settings.uri, self._name)
            client.drop_collection(self._name)
        self._ensure_collection()

    def _ensure_collection(self) -> Any:
        """The client, with the collection created (if missing) and loaded for search."""
        client = self._conn.client
        if not self._ready:
            if not client.has_collection(self._name):
                create_collection(client, self._name, self.embedder.dim, self.settings)
            client.load_collection(self._name)
            self._ready = True
        return client

    def add(self, passages: Sequence[Passage], vectors: np.ndarray | None = None) -> None:
        """Insert the passages not yet held, embedding them unless `vectors` are given."""
        fresh = {p.id: i for i, p in enumerate(passages) if p.id not in self._ids}
        if not fresh:
            return
        if vectors is None:
            batch = self.embedder.embed([passages[i].embedding_text for i in fresh.values()])
        else:
            batch = np.asarray(vectors)[list(fresh.values())]
        self.add_vectors(list(fresh), batch)

    def add_vectors(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Insert precomputed unit vectors for passage ids."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(ids), self.embedder.dim):
            raise ValueError(f"expected {len(ids)} vectors of dim {self.embedder.dim}")
        client = self._ensure_collection()
        for start in range(0, len(ids), BATCH):
            chunk = zip(ids[start : start + BATCH], vectors[start : start + BATCH], strict=True)
            rows = [{ID_FIELD: pid, VECTOR_FIELD: vec} for pid, vec in chunk]
            client.insert(self._name, rows)
        self._ids.update(dict.fromkeys(ids))

    def delete(self, ids: Iterable[str]) -> None:
        """Remove passages by id."""
        gone = [pid for pid in dict.fromkeys(ids) if pid in self._ids]
        if not gone:
            return
        client = self._ensure_collection()
        for start in range(0, len(gone), BATCH):
            client.delete(self._name, ids=gone[start : start + BATCH])
        for pid in gone:
            del self._ids[pid]

    def search_vectors(
        self, queries: np.ndarray, k: int, config: MilvusSearch | None = None
    ) -> list[list[Hit]]:
        """Search with precomputed unit query vectors, one hit list per query."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if not self._ids:
            return [[] for _ in range(len(queries))]
        found = self._ensure_collection().search(
            self._name,
            data=list(queries),
            limit=min(k, len(self._ids), MAX_TOP_K),
            anns_field=VECTOR_FIELD,
            search_params=(config or MilvusSearch()).params(self.settings.metric),
            output_fields=[ID_FIELD],
        )
        return [
            [
                Hit(
                    passage_id=str(hit[ID_FIELD]),
                    score=float(hit["distance"]),
                    retriever=self.kind,
                    reason=DenseReason(similarity=float(hit["distance"])),
                )
                for hit in row
            ]
            for row in found
        ]

    def _search(self, query: Query, k: int, config: MilvusSearch) -> SearchResult:
        """The k passages nearest to the query's embedding."""
        return SearchResult(self.search_vectors(query.vector[None, :], k, config)[0])

    def ids(self) -> set[str]:
        """The passage ids held."""
        return set(self._ids)

    def save(self, directory: Path) -> None:
        """Write config.json, passage_ids.json and (Lite) the closed Lite folder."""
        directory.mkdir(parents=True, exist_ok=True)
        self._ensure_collection()
        if self._conn.is_lite:
            self._conn.copy_lite_to(directory / LITE_FOLDER)
            self._ready = False  # the engine was closed; the next use reopens it
        else:
            self._conn.client.flush(self._name)
        (directory / "passage_ids.json").write_text(json.dumps(list(self._ids)))
        config = {"dim": self.embedder.dim, **self.settings.model_dump()}
        (directory / "config.json").write_text(json.dumps(config, indent=2))

    @classmethod
    def saved_build_config(cls, directory: Path) -> KindConfig | None:
        """The `[milvus]` settings a saved index was built with."""
        try:
            config = json.loads((directory / "config.json").read_text())
        except (OSError, ValueError):
            return None
        config.pop("dim", None)
        return MilvusSettings(**config)

    @classmethod
    def load(cls, directory: Path, context: BuildContext) -> Self:
        """Open a saved index; a server collection must hold the rows the folder lists."""
        verify_saved(directory)
        try:
            config = json.loads((directory / "config.json").read_text())
            ids = json.loads((directory / "passage_ids.json").read_text())
            dim = config.pop("dim")
            settings = MilvusSettings.model_validate(config)
        except (OSError, ValueError, KeyError, AttributeError) as exc:
            # ValueError covers JSON and pydantic errors; KeyError and AttributeError a config
            # that is not the mapping save wrote.
            raise IndexFormatError(f"{directory}: unreadable milvus index ({exc})") from exc
        if dim != context.embedder.dim:
            raise IndexFormatError(
                f"{directory}: vectors have dim {dim}, embedder {context.embedder.dim}"
            )
        lite = directory / LITE_FOLDER
        if settings.uri is None and not lite.is_dir():
            raise IndexFormatError(f"{lite}: the Milvus Lite folder is missing")
        seed = lite if settings.uri is None else None
        self = cls(context.embedder, settings, seed=seed, ids=ids)
        held = row_count(self._conn.client, settings.collection)
        if held != len(ids):
            where = settings.uri or str(lite)
            raise IndexFormatError(
                f"{where}: collection {settings.collection!r} holds {held} rows, "
                f"{directory / 'passage_ids.json'} lists {len(ids)}"
            )
        return self

    def close(self) -> None:
        """Close the connection (and drop the private Lite copy)."""
        self._conn.close()
