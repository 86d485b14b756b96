"""Dense retrieval: FAISS inner product over unit vectors (flat, HNSW or IVF), CPU or GPU."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import faiss
import numpy as np

from indexers.base import Index
from rag.embed.base import Embedder
from rag.errors import IndexFormatError, MemragError, MissingExtraError
from rag.settings import VectorSettings
from rag.types import Hit, Passage

logger = logging.getLogger(__name__)


def faiss_id(pid: str) -> int:
    """Map a 16-hex passage id to a positive int64 FAISS id."""
    return int(pid, 16) & 0x7FFF_FFFF_FFFF_FFFF


def _gpu_count() -> int:
    """Number of GPUs faiss can use (0 for the faiss-cpu build)."""
    get = getattr(faiss, "get_num_gpus", None)
    return int(get()) if get else 0


class VectorIndex(Index):
    """FAISS index of passage embeddings, searched by inner product on normalized vectors.

    Costs: `add` embeds only the new passages and appends them (IVF trains once, on the first
    add). `delete` is O(n) for flat and IVF (FAISS remove_ids); HNSW cannot remove, so a
    delete rebuilds the graph from the stored vectors.
    """

    kind: ClassVar[str] = "dense"

    def __init__(self, embedder: Embedder, settings: VectorSettings | None = None) -> None:
        """Create an empty index for vectors of `embedder.dim`."""
        self.embedder = embedder
        self.settings = settings or VectorSettings()
        self._index: faiss.Index | None = None
        self._pids: dict[int, str] = {}
        self._gpu_index: faiss.Index | None = None
        self._use_gpu = self._want_gpu()

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

    def add(self, passages: Sequence[Passage]) -> None:
        """Embed and add the passages not yet indexed."""
        fresh = {p.id: p for p in passages if faiss_id(p.id) not in self._pids}
        if not fresh:
            return
        vectors = self.embedder.embed([p.embedding_text for p in fresh.values()])
        self.add_vectors(list(fresh), vectors)

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

    def search_vectors(self, queries: np.ndarray, k: int) -> list[list[Hit]]:
        """Search with precomputed unit query vectors, one hit list per query."""
        if self._index is None or not self._pids:
            return [[] for _ in range(len(queries))]
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        scores, fids = self._searchable().search(queries, min(k, len(self._pids)))
        return [
            [
                Hit(passage_id=self._pids[int(fid)], score=float(score), retriever=self.kind)
                for score, fid in zip(row_scores, row_fids, strict=True)
                if fid != -1
            ]
            for row_scores, row_fids in zip(scores, fids, strict=True)
        ]

    def search(self, query: str, k: int) -> list[Hit]:
        """Embed the query and return the k nearest passages."""
        return self.search_vectors(self.embedder.embed_query(query)[None, :], k)[0]

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
    def load(cls, directory: Path, embedder: Embedder | None = None) -> Self:
        """Open a saved vector index; `embedder` must be the one it was built with."""
        if embedder is None:
            raise ValueError("a vector index needs the embedder it was built with")
        try:
            config = json.loads((directory / "config.json").read_text())
            pids = json.loads((directory / "passage_ids.json").read_text())
            faiss_file = directory / "index.faiss"
            index = faiss.read_index(str(faiss_file)) if faiss_file.exists() else None
        except (OSError, ValueError, RuntimeError) as exc:
            raise IndexFormatError(f"{directory}: unreadable vector index ({exc})") from exc
        dim = config.pop("dim")
        if dim != embedder.dim:
            raise IndexFormatError(f"{directory}: vectors have dim {dim}, embedder {embedder.dim}")
        self = cls(embedder, VectorSettings(**config))
        self._index = index
        self._pids = {faiss_id(pid): pid for pid in pids}
        if index is not None and index.ntotal != len(pids):
            raise IndexFormatError(f"{directory}: {index.ntotal} vectors for {len(pids)} ids")
        return self
