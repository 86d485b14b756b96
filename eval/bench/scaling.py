"""Scaling run: how build time, query latency, memory and disk grow with corpus size.

Each (size, index kind) runs in a fresh process: FAISS flat and HNSW over random unit
vectors, BM25 over double-Zipf pseudo-word texts. Queries are near copies of random corpus rows
(vectors) or six words of a random passage (BM25), run one at a time; `recall@10` is the
share of queries whose source row comes back in the top 10 — 1.0 for exact search, so for
HNSW it measures what the approximation loses.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from eval.bench.isolated import run_isolated
from eval.bench.queries import latency_ms
from eval.bench.synthetic import (
    HashEmbedder,
    near_copies,
    synthetic_ids,
    synthetic_passages,
    unit_vectors,
)
from eval.bench.system import disk_mb, peak_rss_mb, round_sig, rss_mb
from indexers.vector import VectorSettings

if TYPE_CHECKING:
    from indexers.base import Index

logger = logging.getLogger(__name__)

KINDS = ("flat", "hnsw", "bm25")
DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
#: Vectors generated per call, which bounds the temporary arrays.
VECTOR_BATCH = 100_000
TOP_K = 10


def _row(
    size: int, kind: str, build_s: float, rss_before: float, latencies: list[float]
) -> dict[str, Any]:
    """The figures every kind reports, taken right after its build and queries."""
    lat = latency_ms(latencies)
    return {
        "size": size,
        "kind": kind,
        "build_s": round_sig(build_s),
        "build_per_s": round_sig(size / build_s) if build_s > 0 else None,
        "query_p50_ms": lat["p50"],
        "query_p95_ms": lat["p95"],
        "rss_delta_mb": round(rss_mb() - rss_before, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def _saved(row: dict[str, Any], index: Index, directory: Path) -> dict[str, Any]:
    """Add save time and size on disk to `row`."""
    start = time.perf_counter()
    index.save(directory)
    row["save_s"] = round_sig(time.perf_counter() - start)
    row["disk_mb"] = round_sig(disk_mb(directory))
    return row


def measure_vectors(
    size: int, kind: str, dim: int, n_queries: int, seed: int, workdir: str
) -> dict[str, Any]:
    """Build a FAISS index of `kind` over `size` random unit vectors and time single queries."""
    from indexers.vector import VectorIndex

    rng = np.random.default_rng(seed)
    sources = rng.choice(size, n_queries, replace=size < n_queries)
    settings = VectorSettings.model_validate({"kind": kind, "device": "cpu"})
    index, rss_before = VectorIndex(HashEmbedder(dim), settings), rss_mb()
    begin = time.perf_counter()
    vectors = np.empty((size, dim), dtype=np.float32)
    for start in range(0, size, VECTOR_BATCH):
        vectors[start : start + VECTOR_BATCH] = unit_vectors(
            rng, min(VECTOR_BATCH, size - start), dim
        )
    ids = synthetic_ids(0, size)
    queries = near_copies(rng, vectors[sources])
    gen_s = time.perf_counter() - begin
    # One add of every vector, as build_index does after embedding a fresh corpus.
    begin = time.perf_counter()
    index.add_vectors(ids, vectors)
    build_s = time.perf_counter() - begin
    del vectors  # the RSS delta then counts the index, not its input
    wanted = [ids[int(s)] for s in sources]
    latencies, found = [], 0
    for query, want in zip(queries, wanted, strict=True):
        begin = time.perf_counter()
        hits = index.search_vectors(query[None, :], TOP_K)[0]
        latencies.append(time.perf_counter() - begin)
        found += any(h.passage_id == want for h in hits)
    row = _row(size, kind, build_s, rss_before, latencies)
    row.update({"recall@10": round(found / n_queries, 3), "generate_s": round(gen_s, 2)})
    return _saved(row, index, Path(workdir) / kind)


def measure_bm25(size: int, n_queries: int, seed: int, workdir: str) -> dict[str, Any]:
    """Build a BM25 index over `size` pseudo-word passages and time single queries."""
    from indexers.bm25 import BM25Index

    rng = np.random.default_rng(seed)
    begin = time.perf_counter()
    passages = synthetic_passages(rng, size)
    gen_s = time.perf_counter() - begin
    index, rss_before = BM25Index(), rss_mb()
    begin = time.perf_counter()
    index.add(passages)
    build_s = time.perf_counter() - begin
    sources = rng.choice(size, n_queries, replace=size < n_queries)
    latencies, found = [], 0
    for s in sources:
        words = passages[int(s)].text.split()
        query = " ".join(rng.choice(words, min(6, len(words)), replace=False))
        begin = time.perf_counter()
        hits = index.search(query, TOP_K)
        latencies.append(time.perf_counter() - begin)
        found += any(h.passage_id == passages[int(s)].id for h in hits)
    row = _row(size, "bm25", build_s, rss_before, latencies)
    row.update({"recall@10": round(found / n_queries, 3), "generate_s": round(gen_s, 2)})
    return _saved(row, index, Path(workdir) / "bm25")


def bench_scaling(
    sizes: Sequence[int] = DEFAULT_SIZES,
    kinds: Sequence[str] = KINDS,
    dim: int = 384,
    queries: int = 200,
    seed: int = 0,
    workdir: Path | None = None,
) -> dict[str, Any]:
    """Measure every kind at every size, each in a fresh process; saved indexes are deleted."""
    unknown = set(kinds) - set(KINDS)
    if unknown or not kinds:
        raise ValueError(f"unknown index kinds {sorted(unknown)} (known: {', '.join(KINDS)})")
    if not sizes or min(sizes) < 1 or queries < 1:
        raise ValueError("sizes and the number of queries must be positive")
    rows = []
    for size in sorted(sizes):
        for kind in kinds:
            # Saved indexes go to a temporary dir, deleted before the next run to free the disk.
            with tempfile.TemporaryDirectory(prefix="memrag-scaling-", dir=workdir) as tmp:
                begin = time.perf_counter()
                if kind == "bm25":
                    row = run_isolated(measure_bm25, size, queries, seed, tmp)
                else:
                    row = run_isolated(measure_vectors, size, kind, dim, queries, seed, tmp)
            row["wall_s"] = round(time.perf_counter() - begin, 1)
            logger.info("scaling: %s at %d passages done in %.0f s", kind, size, row["wall_s"])
            rows.append(row)
    hnsw = VectorSettings()
    return {
        "dim": dim,
        "queries": queries,
        "top_k": TOP_K,
        "hnsw": {
            "m": hnsw.hnsw_m,
            "ef_search": hnsw.hnsw_ef_search,
            "ef_construction": hnsw.hnsw_ef_construction,
        },
        "rows": rows,
    }
