"""Dense retrieval: FAISS inner product over unit vectors (flat, HNSW or IVF), CPU or GPU."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, ClassVar, Self

import faiss
import numpy as np
from pydantic import Field

from indexers.base import Index, KindConfig, SearchResult
from indexers.context import BuildContext
from indexers.faiss_kinds import FaissPlan, VectorSettings, make_index, plan_for, saved_plan
from rag.embed.base import Embedder
from rag.errors import IndexFormatError, MemragError, MissingExtraError
from rag.manifest import verify_saved
from rag.query import Query
from rag.types import DenseReason, Hit, Passage

logger = logging.getLogger(__name__)


def faiss_id(pid: str) -> int:
    """Map a 16-hex passage id to a positive int64 FAISS id."""
    return int(pid, 16) & 0x7FFF_FFFF_FFFF_FFFF


#: Vectors handed to FAISS per call, which bounds the float32 copies an add makes.
ADD_BATCH = 65_536
#: Training points drawn per IVF list (FAISS wants at least 39; more barely helps).
TRAIN_PER_LIST = 50
#: An IVF index is retrained once the corpus holds this many times what it trained on.
REGROW = 4


def _gpu_count() -> int:
    """Number of GPUs faiss can use (0 for the faiss-cpu build)."""
    get = getattr(faiss, "get_num_gpus", None)
    return int(get()) if get else 0


class DenseSearch(KindConfig):
    """Per-query FAISS options; None keeps the value the index was built with."""

    ef_search: int | None = Field(None, ge=1, description="HNSW: candidates explored per query.")
    nprobe: int | None = Field(None, ge=1, description="IVF: inverted lists visited per query.")


class VectorIndex(Index[DenseSearch]):
    """FAISS index of passage embeddings, searched by inner product on normalized vectors.

    Which FAISS index holds the vectors is a `FaissPlan` (indexers.faiss_kinds): chosen at the
    first add from `vector.kind` and the corpus size, recorded in config.json. Costs per kind:
    `add` embeds only new passages and appends them, in batches (an input memory-mapped from
    disk is never copied whole). Flat: add O(1) per vector, `delete` O(n) (FAISS remove_ids).
    IVF: trains on its first add; add costs one nearest-centroid search per vector, `delete`
    O(1) per id through its id hash table; once the corpus has grown REGROW times past what
    it trained on, the next add rebuilds it (retrain and re-add: amortized O(1) per vector).
    HNSW: add O(log n) per vector; it cannot remove, so a delete rebuilds the graph from the
    stored vectors (O(n log n)). With kind auto, an add that moves the corpus past
    `auto_flat_max` rebuilds the flat index as IVF, once.
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
        self._plan: FaissPlan | None = None
        self._trained_on = 0
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

    @property
    def plan(self) -> FaissPlan | None:
        """The FAISS index in use (None before the first add)."""
        return self._plan

    def _want_gpu(self) -> bool:
        """Decide CPU or GPU search from settings and what faiss can see."""
        if self.settings.device == "cpu":
            return False
        if self.settings.device == "gpu" and _gpu_count() == 0:
            if not hasattr(faiss, "StandardGpuResources"):
                raise MissingExtraError("faiss-gpu", "gpu")
            raise MemragError("vector.device is 'gpu' but faiss sees no GPU")
        return _gpu_count() > 0

    def add(self, passages: Sequence[Passage], vectors: np.ndarray | None = None) -> None:
        """Add the passages not yet indexed, embedding them unless `vectors` are given."""
        fresh = {p.id: i for i, p in enumerate(passages) if faiss_id(p.id) not in self._pids}
        if not fresh:
            return
        rows = list(fresh.values())
        if vectors is None:
            batch = self.embedder.embed([passages[i].embedding_text for i in rows])
        elif len(rows) == len(passages):
            batch = vectors  # all fresh: keep a memory-mapped input on disk
        else:
            batch = np.asarray(vectors)[rows]
        self.add_vectors(list(fresh), batch)

    def add_vectors(self, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add precomputed unit vectors for passage ids (an array or a read-only memmap)."""
        if vectors.ndim != 2 or vectors.shape != (len(ids), self.embedder.dim):
            raise ValueError(f"expected {len(ids)} vectors of dim {self.embedder.dim}")
        if not len(ids):
            return
        total = len(self._pids) + len(ids)
        if self._index is not None and self._needs_rebuild(total):
            held = list(self._pids.values())
            old = self._reconstruct(list(self._pids))
            self._index, self._plan, self._pids = None, None, {}
            logger.info("rebuilding the dense index for %d vectors", total)
            self._append(held, old, total)
        self._append(ids, vectors, total)
        self._gpu_index = None

    def _needs_rebuild(self, total: int) -> bool:
        """Whether growing to `total` vectors calls for another FAISS index or a retrained IVF."""
        assert self._plan is not None
        if self.settings.kind == "auto" and plan_for(self.settings, total).kind != self._plan.kind:
            return True
        return self._plan.kind == "ivf" and total > REGROW * max(1, self._trained_on)

    def _append(self, ids: Sequence[str], vectors: np.ndarray, total: int) -> None:
        """Add vectors in batches, creating (and for IVF training) the index on first use."""
        if self._index is None:
            self._plan = plan_for(self.settings, total)
            self._index = make_index(self._plan, self.embedder.dim, self._training(vectors))
            if self._plan.kind == "ivf":
                # Too few training vectors shrink the lists; record what was built.
                ivf = faiss.extract_index_ivf(self._index)
                self._plan = replace(self._plan, nlist=ivf.nlist, nprobe=ivf.nprobe)
            self._trained_on = total
        for start in range(0, len(ids), ADD_BATCH):
            chunk = np.ascontiguousarray(vectors[start : start + ADD_BATCH], dtype=np.float32)
            part = ids[start : start + ADD_BATCH]
            fids = np.array([faiss_id(pid) for pid in part], dtype=np.int64)
            self._index.add_with_ids(chunk, fids)
            self._pids.update(zip(fids.tolist(), part, strict=True))

    def _training(self, vectors: np.ndarray) -> np.ndarray | None:
        """A sample of `vectors` to train an IVF plan on (None for other kinds)."""
        assert self._plan is not None
        if self._plan.kind != "ivf":
            return None
        count = min(len(vectors), TRAIN_PER_LIST * self._plan.nlist)
        rows = np.sort(np.random.default_rng(0).choice(len(vectors), count, replace=False))
        return np.ascontiguousarray(vectors[rows], dtype=np.float32)

    def _reconstruct(self, fids: list[int]) -> np.ndarray:
        """The stored vectors of FAISS ids (decoded: SQ8 codes come back approximate)."""
        assert self._index is not None
        return self._index.reconstruct_batch(np.array(fids, dtype=np.int64))

    def delete(self, ids: Iterable[str]) -> None:
        """Remove passages by id (HNSW rebuilds; see the class docstring)."""
        fids = [fid for fid in map(faiss_id, ids) if fid in self._pids]
        if not fids or self._index is None:
            return
        assert self._plan is not None
        if self._plan.kind == "hnsw":
            gone = set(fids)
            keep = [fid for fid in self._pids if fid not in gone]
            vectors = self._reconstruct(keep) if keep else None
            kept_pids = [self._pids[fid] for fid in keep]
            self._index, self._plan, self._pids = None, None, {}
            if vectors is not None:
                self._append(kept_pids, vectors, len(kept_pids))
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
        kind = self._plan.kind if self._plan is not None else None
        if config.ef_search is not None and kind == "hnsw":
            # Present in faiss' Python module, missing from its type stubs.
            hnsw = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]
            hnsw.efSearch = config.ef_search
            return hnsw
        if config.nprobe is not None and kind == "ivf":
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
        if self._plan is not None:
            config["built"] = {**asdict(self._plan), "trained_on": self._trained_on}
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
        built = config.pop("built", None)
        self = cls(embedder, VectorSettings(**config))
        self._index = index
        self._pids = {faiss_id(pid): pid for pid in pids}
        if index is not None and index.ntotal != len(pids):
            raise IndexFormatError(f"{directory}: {index.ntotal} vectors for {len(pids)} ids")
        if index is not None:
            self._plan, self._trained_on = saved_plan(built, self.settings, index)
        return self
