"""Dense retrieval: FAISS inner product over unit vectors (flat, HNSW or IVF), CPU or GPU."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

import faiss
import numpy as np
from pydantic import Field

from indexers.base import Index, KindConfig, SearchResult
from indexers.context import BuildContext
from rag.embed.base import Embedder
from rag.errors import IndexFormatError, MemragError, MissingExtraError
from rag.manifest import verify_saved
from rag.query import Query
from rag.types import DenseReason, Hit, Passage

logger = logging.getLogger(__name__)


def faiss_id(pid: str) -> int:
    """Map a 16-hex passage id to a positive int64 FAISS id."""
    return int(pid, 16) & 0x7FFF_FFFF_FFFF_FFFF


def _gpu_count() -> int:
    """Number of GPUs faiss can use (0 for the faiss-cpu build)."""
    get = getattr(faiss, "get_num_gpus", None)
    return int(get()) if get else 0


class VectorSettings(KindConfig):
    """The FAISS index behind dense retrieval (settings section `[vector]`)."""

    kind: Literal["flat", "hnsw", "ivf"] = "flat"
    hnsw_m: int = 32
    hnsw_ef_search: int = 128
    hnsw_ef_construction: int = Field(
        40, description="Higher builds slower and finds more (FAISS default 40)."
    )
    ivf_nlist: int = 1024
    ivf_nprobe: int = 32
    device: Literal["auto", "cpu", "gpu"] = Field("auto", description="gpu needs memrag[gpu].")


class DenseSearch(KindConfig):
    """Per-query FAISS options; None keeps the value the index was built with."""

    ef_search: int | None = Field(None, ge=1, description="HNSW: candidates explored per query.")
    nprobe: int | None = Field(None, ge=1, description="IVF: inverted lists visited per query.")


class VectorIndex(Index[DenseSearch]):
    """FAISS index of passage embeddings, searched by inner product on normalized vectors.

    Costs: `add` embeds only the new passages and appends them (IVF trains once, on the first
    add). `delete` is O(n) for flat and IVF (FAISS remove_ids); HNSW cannot remove, so a
    delete rebuilds the graph from the stored vectors.
    """

    kind: ClassVar[str] = "dense"
    settings_section: ClassVar[str | None] = "vector"
    build_config: ClassVar[type[KindConfig]] = VectorSettings
    search_config = DenseSearch
    uses_passage_vectors: ClassVar[bool] = True

    def __init__(self, embedder: Embedder, settings: VectorSettings | None = None) -> None:
        """Create an empty index for vectors of `embedder.dim`."""
        self.embedder = embedder
        self.settings = settings or VectorSettings()
        self._index: faiss.Index | None = None
        self._pids: dict[int, str] = {}
        self._gpu_index: faiss.Index | None = None
        self._use_gpu = self._want_gpu()

    @classmethod
    def create(cls, context: BuildContext) -> Self:
        """An empty index with the `[vector]` settings of the context."""
        from indexers.registry import kind_settings

        settings = kind_settings(cls, context.settings)
        assert isinstance(settings, VectorSettings)
        return cls(context.embedder, settings)

    def _want_gpu(self) -> bool:
        """Decide CPU or GPU search from settings and what faiss can see."""
        if self.settings.device == "cpu":
            return False
        if self.settings.device == "gpu" and _gpu_count() == 0:
            if not hasattr(faiss, "StandardGpuResources"):
                raise MissingExtraError("faiss-gpu", "gpu")
            raise MemragError("vector.device is 'gpu' but faiss sees no GPU")
        return _gpu_count() > 0

    def _new_faiss_index(self, train: np.ndarray) -> faiss.Index:
        """Build an empty FAISS index of the configured kind (training IVF on `train`)."""
        dim, s = self.embedder.dim, self.settings
        if s.kind == "hnsw":
            hnsw = faiss.IndexHNSWFlat(dim, s.hnsw_m, faiss.METRIC_INNER_PRODUCT)
            hnsw.hnsw.efSearch = s.hnsw_ef_search
            hnsw.hnsw.efConstruction = s.hnsw_ef_construction
            return faiss.IndexIDMap2(hnsw)
        if s.kind == "ivf":
            # FAISS wants ~39 training points per list; shrink nlist for small corpora.
            nlist = max(1, min(s.ivf_nlist, len(train) // 39))
            ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
            ivf.train(train)
            ivf.nprobe = min(s.ivf_nprobe, nlist)
            return ivf
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))

    def add(self, passages: Sequence[Passage], vectors: np.ndarray | None = None) -> None:
        """Add the passages not yet indexed, embedding them unless `vectors` are given."""
        fresh = {p.id: i for i, p in enumerate(passages) if faiss_id(p.id) not in self._pids}
        if not fresh:
            return
        if vectors is None:
            batch = self.embedder.embed([passages[i].embedding_text for i in fresh.values()])
        else:
            batch = np.asarray(vectors)[list(fresh.values())]
        self.add_vectors(list(fresh), batch)

    def add_vectors(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add precomputed unit vectors for passage ids."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(ids), self.embedder.dim):
            raise ValueError(f"expected {len(ids)} vectors of dim {self.embedder.dim}")
        if self._index is None:
            self._index = self._new_faiss_index(vectors)
        fids = np.array([faiss_id(pid) for pid in ids], dtype=np.int64)
        self._index.add_with_ids(vectors, fids)
        self._pids.update(zip(fids.tolist(), ids, strict=True))
        self._gpu_index = None

    def delete(self, ids: Iterable[str]) -> None:
        """Remove passages by id."""
        fids = [fid for fid in map(faiss_id, ids) if fid in self._pids]
        if not fids or self._index is None:
            return
        if self.settings.kind == "hnsw":
            gone = set(fids)
            keep = [fid for fid in self._pids if fid not in gone]
            vectors = np.vstack([self._index.reconstruct(fid) for fid in keep]) if keep else None
            kept_pids = [self._pids[fid] for fid in keep]
            self._index, self._pids = None, {}
            if vectors is not None:
                self.add_vectors(kept_pids, vectors)
        else:
            # faiss' Python wrapper accepts an id array here; its type stub only knows IDSelector.
            self._index.remove_ids(np.array(fids, dtype=np.int64))  # type: ignore[arg-type]
            for fid in fids:
                del self._pids[fid]
        self._gpu_index = None

    def _searchable(self) -> faiss.Index:
        """The index to search: a GPU copy when a GPU is in use."""
        assert self._index is not None
        if not self._use_gpu:
            return self._index
        if self._gpu_index is None:
            self._gpu_index = faiss.index_cpu_to_gpu(faiss.StandardGpuResources(), 0, self._index)
        return self._gpu_index

    def search_vectors(
        self, queries: np.ndarray, k: int, config: DenseSearch | None = None
    ) -> list[list[Hit]]:
        """Search with precomputed unit query vectors, one hit list per query."""
        if self._index is None or not self._pids:
            return [[] for _ in range(len(queries))]
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        index = self._searchable()
        params = self._search_params(config)
        scores, fids = index.search(queries, min(k, len(self._pids)), params=params)
        return [
            [
                Hit(
                    passage_id=self._pids[int(fid)],
                    score=float(score),
                    retriever=self.kind,
                    reason=DenseReason(similarity=float(score)),
                )
                for score, fid in zip(row_scores, row_fids, strict=True)
                if fid != -1
            ]
            for row_scores, row_fids in zip(scores, fids, strict=True)
        ]

    def _search_params(self, config: DenseSearch | None) -> faiss.SearchParameters | None:
        """FAISS per-query parameters for the options a search overrides."""
        if config is None:
            return None
        if config.ef_search is not None and self.settings.kind == "hnsw":
            # Present in faiss' Python module, missing from its type stubs.
            hnsw = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]
            hnsw.efSearch = config.ef_search
            return hnsw
        if config.nprobe is not None and self.settings.kind == "ivf":
            ivf = faiss.SearchParametersIVF()
            ivf.nprobe = config.nprobe
            return ivf
        return None

    def _search(self, query: Query, k: int, config: DenseSearch) -> SearchResult:
        """The k passages nearest to the query's embedding."""
        return SearchResult(self.search_vectors(query.vector[None, :], k, config)[0])

    def ids(self) -> set[str]:
        """The passage ids held."""
        return set(self._pids.values())

    def save(self, directory: Path) -> None:
        """Write index.faiss, passage_ids.json and config.json into `directory`."""
        directory.mkdir(parents=True, exist_ok=True)
        if self._index is not None:
            faiss.write_index(self._index, str(directory / "index.faiss"))
        (directory / "passage_ids.json").write_text(json.dumps(list(self._pids.values())))
        config: dict[str, Any] = {"dim": self.embedder.dim, **self.settings.model_dump()}
        (directory / "config.json").write_text(json.dumps(config, indent=2))

    @classmethod
    def load(cls, directory: Path, context: BuildContext) -> Self:
        """Open a saved vector index; the context's embedder must be the one it was built with."""
        embedder = context.embedder
        verify_saved(directory)
        try:
            config = json.loads((directory / "config.json").read_text())
            pids = json.loads((directory / "passage_ids.json").read_text())
            faiss_file = directory / "index.faiss"
            index = faiss.read_index(str(faiss_file)) if faiss_file.exists() else None
        except (OSError, ValueError, RuntimeError) as exc:
            raise IndexFormatError(f"{directory}: unreadable vector index ({exc})") from exc
        if index is None and pids:
            raise IndexFormatError(f"{directory}: index.faiss is missing ({len(pids)} passage ids)")
        dim = config.pop("dim")
        if dim != embedder.dim:
            raise IndexFormatError(f"{directory}: vectors have dim {dim}, embedder {embedder.dim}")
        self = cls(embedder, VectorSettings(**config))
        self._index = index
        self._pids = {faiss_id(pid): pid for pid in pids}
        if index is not None and index.ntotal != len(pids):
            raise IndexFormatError(f"{directory}: {index.ntotal} vectors for {len(pids)} ids")
        return self
