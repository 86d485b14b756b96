"""Which FAISS index the dense kind builds (flat, HNSW or IVF), chosen by corpus size.

`vector.kind = auto` (the default) picks from the corpus size, using the figures of
`eval/bench/ann.py` on 2 CPU cores (docs/scale.md): exact flat search up to
`auto_flat_max` vectors (6.3 ms of CPU per query at 69k real vectors, 90 ms at 1M), above
that IVF with about 4·sqrt(n) lists and nprobe 128 (recall@10 0.973 at 69k real vectors,
0.984 at 1M real-like ones; 1.6 and 4.0 ms of CPU per query). The memory each needs, for n
vectors of dimension d (float32, 4 bytes a number):

- flat: 4·d·n bytes (1.5 GB per million at d = 384), plus 8·n for the ids;
- hnsw: 4·d·n + about 8·M·n bytes of graph links (M = `hnsw_m`), plus the ids;
- ivf: 4·d·n with `ivf_storage = flat`, d·n with `sq8` (a byte a number), plus 8·n for ids
  and the 4·d·nlist of the centroids.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import faiss
import numpy as np
from pydantic import Field

from indexers.base import KindConfig

Kind = Literal["flat", "hnsw", "ivf"]
Storage = Literal["flat", "sq8"]
#: FAISS warns below 39 training points per IVF list; keep at least this many.
TRAIN_PER_LIST = 39


class VectorSettings(KindConfig):
    """The FAISS index behind dense retrieval (settings section `[vector]`)."""

    kind: Literal["auto", "flat", "hnsw", "ivf"] = Field(
        "auto", description="auto: flat up to auto_flat_max vectors, IVF above."
    )
    auto_flat_max: int = Field(
        30_000, ge=1, description="auto: largest corpus searched exactly (flat)."
    )
    hnsw_m: int = Field(32, ge=2)
    hnsw_ef_search: int = Field(128, ge=1)
    hnsw_ef_construction: int = Field(
        80, ge=1, description="Higher builds slower and finds more (FAISS default 40)."
    )
    ivf_nlist: int | None = Field(
        None, ge=1, description="IVF lists; None: about 4·sqrt(n), a power of two."
    )
    ivf_nprobe: int = Field(128, ge=1, description="IVF lists visited per query.")
    ivf_storage: Storage = Field("flat", description="IVF codes: flat floats or sq8 bytes.")
    device: Literal["auto", "cpu", "gpu"] = Field("auto", description="gpu needs memrag[gpu].")


@dataclass(frozen=True)
class FaissPlan:
    """One concrete FAISS index: its kind and the parameters it is built with."""

    kind: Kind
    hnsw_m: int = 32
    ef_construction: int = 80
    ef_search: int = 128
    nlist: int = 1
    nprobe: int = 1
    storage: Storage = "flat"

    def label(self) -> str:
        """A short name for tables and logs, e.g. 'ivf4096,sq8 nprobe=64'."""
        if self.kind == "hnsw":
            return f"hnsw M={self.hnsw_m} efC={self.ef_construction} efS={self.ef_search}"
        if self.kind == "ivf":
            return f"ivf{self.nlist},{self.storage} nprobe={self.nprobe}"
        return "flat"


def ivf_nlist(n: int) -> int:
    """About 4·sqrt(n) lists as a power of two, never fewer than 39 training points a list."""
    wanted = 2 ** round(math.log2(max(1.0, 4 * math.sqrt(n))))
    return max(1, min(wanted, n // TRAIN_PER_LIST))


def plan_for(settings: VectorSettings, n: int) -> FaissPlan:
    """The index to build for a corpus of `n` vectors under these settings."""
    kind: Kind
    if settings.kind == "auto":
        kind = "flat" if n <= settings.auto_flat_max else "ivf"
    else:
        kind = settings.kind
    nlist = settings.ivf_nlist or ivf_nlist(n)
    nlist = max(1, min(nlist, n // TRAIN_PER_LIST)) if kind == "ivf" else 1
    return FaissPlan(
        kind=kind,
        hnsw_m=settings.hnsw_m,
        ef_construction=settings.hnsw_ef_construction,
        ef_search=settings.hnsw_ef_search,
        nlist=nlist,
        nprobe=min(settings.ivf_nprobe, nlist),
        storage=settings.ivf_storage,
    )


def memory_bytes(plan: FaissPlan, n: int, dim: int) -> int:
    """The approximate resident size of an index of this plan holding n vectors (see above)."""
    ids = 8 * n
    if plan.kind == "hnsw":
        return 4 * dim * n + 8 * plan.hnsw_m * n + ids
    if plan.kind == "ivf":
        per_vector = dim if plan.storage == "sq8" else 4 * dim
        return per_vector * n + ids + 4 * dim * plan.nlist
    return 4 * dim * n + ids


def make_index(plan: FaissPlan, dim: int, train: np.ndarray | None = None) -> faiss.Index:
    """An empty FAISS index of the plan, over inner product, accepting add_with_ids.

    IVF is trained on `train` (at least 39 vectors a list, else nlist shrinks) and keeps a
    hash table from id to slot, so that vectors can be reconstructed by id for a rebuild.
    """
    metric = faiss.METRIC_INNER_PRODUCT
    if plan.kind == "hnsw":
        hnsw = faiss.IndexHNSWFlat(dim, plan.hnsw_m, metric)
        hnsw.hnsw.efConstruction = plan.ef_construction
        hnsw.hnsw.efSearch = plan.ef_search
        return faiss.IndexIDMap2(hnsw)
    if plan.kind == "ivf":
        if train is None or len(train) == 0:
            raise ValueError("an IVF index needs training vectors")
        nlist = max(1, min(plan.nlist, len(train) // TRAIN_PER_LIST))
        quantizer = faiss.IndexFlatIP(dim)
        if plan.storage == "sq8":
            qtype = faiss.ScalarQuantizer.QT_8bit
            ivf: faiss.IndexIVF = faiss.IndexIVFScalarQuantizer(
                quantizer, dim, nlist, qtype, metric
            )
        else:
            ivf = faiss.IndexIVFFlat(quantizer, dim, nlist, metric)
        ivf.train(np.ascontiguousarray(train, dtype=np.float32))
        ivf.nprobe = min(plan.nprobe, nlist)
        # DirectMap is in faiss' Python module, missing from its type stubs.
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # type: ignore[attr-defined]
        return ivf
    return faiss.IndexIDMap2(faiss.IndexFlatIP(dim))


def saved_plan(
    built: dict[str, Any] | None, settings: VectorSettings, index: faiss.Index
) -> tuple[FaissPlan, int]:
    """The plan a saved index was built with, and its training size.

    Indexes saved before plans were recorded name an explicit kind in their settings; their
    IVF indexes get the id hash table that rebuilds need.
    """
    if built is not None:
        trained_on = int(built.pop("trained_on", index.ntotal))
        return FaissPlan(**built), trained_on
    plan = plan_for(settings, index.ntotal)
    if plan.kind == "ivf":
        ivf = faiss.extract_index_ivf(index)
        ivf.set_direct_map_type(faiss.DirectMap.Hashtable)  # type: ignore[attr-defined]
    return plan, index.ntotal
