"""Personalized PageRank on a CSRGraph by power iteration over a precomputed sparse operator.

The fixed point is networkx's: `x = d·(W x + (dangling mass of x)·p) + (1 - d)·p`, where `W` is
the column-normalised adjacency (`W[i, j] = w_ij / deg_j`), `p` the normalised reset vector and
`d` the damping. Degree-0 nodes send their mass back along `p`, as networkx does by default.

Large graphs iterate in float32 (operator values, int32 indices and iterates): a matvec reads
half the bytes and runs ~2.5x faster, and a float32 iterate resolves an L1 change down to ~1e-7,
so the stop is 1e-6 there (at 1M nodes, top-100 ranks equal the float64 answer's: see
eval/bench/ppr.py and docs/performance.md). Small graphs keep float64 and 1e-8.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Literal

import numpy as np
import scipy.sparse as sp

from graphs.csr import CSRGraph

logger = logging.getLogger(__name__)

#: Below this many stored entries a second thread stops paying for its hand-offs (measured on
#: 2 cores: 1.8x slower at 100k entries, even at 250k, 1.3x faster at 500k).
PARALLEL_MIN_NNZ = 500_000
#: Most threads one query uses: the matvec waits on memory, so more cores soon stop paying.
MAX_THREADS = 8
#: From this many stored entries `precision="auto"` iterates in float32 (a 1M-node graph of 5
#: edges per node stores 10M); below it a query takes milliseconds in float64 anyway.
FLOAT32_MIN_NNZ = 1_000_000
#: The L1 stop each precision uses when `tol` is not given.
DEFAULT_TOL = {"float64": 1e-8, "float32": 1e-6}
#: Below this an L1 change of float32 iterates is rounding noise (~n · 6e-8 · mean score).
FLOAT32_MIN_TOL = 1e-7

Precision = Literal["auto", "float64", "float32"]


def _thread_count() -> int:
    """CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class PersonalizedPageRank:
    """Precomputes the transition operator of a CSRGraph once; runs PPR per reset vector.

    The operator is split into row blocks of equal stored entries; on large graphs each
    iteration runs the blocks on parallel threads (scipy's matvec releases the GIL). It takes
    16 bytes per stored entry beside the graph in float64, 8 in float32. Instances are safe to
    share between threads.
    """

    def __init__(
        self, graph: CSRGraph, *, threads: int | None = None, precision: Precision = "auto"
    ) -> None:
        """Column-normalise `graph` into the operator.

        `threads` (row blocks run in parallel per iteration) defaults to the usable CPUs, up to
        MAX_THREADS, on graphs of at least PARALLEL_MIN_NNZ stored entries, else 1. `precision`
        "auto" is float32 from FLOAT32_MIN_NNZ stored entries, else float64.
        """
        self.graph = graph
        n = graph.n_nodes
        nnz = int(graph.indices.shape[0])
        if precision == "auto":
            precision = "float32" if nnz >= FLOAT32_MIN_NNZ else "float64"
        if precision not in DEFAULT_TOL:
            raise ValueError(f"precision must be auto, float64 or float32, got {precision!r}")
        self.precision: Literal["float64", "float32"] = precision
        self._dtype = np.float32 if precision == "float32" else np.float64
        degree = graph.degree()
        self._dangling = np.flatnonzero(degree == 0)
        inverse = np.divide(1.0, degree, out=np.zeros(n), where=degree > 0)
        data = (graph.weights * inverse[graph.indices]).astype(self._dtype, copy=False)
        # float64: int64 indices measured faster than int32 in scipy's matvec (65 vs 70 ms at
        # 10M entries). float32: int32 indices halve the bytes again (26 ms); scipy keeps int32
        # only when indptr is int32 too.
        small = precision == "float32" and n < 2**31 and nnz < 2**31
        index_type = np.int32 if small else np.int64
        indices = graph.indices.astype(index_type, copy=False)
        if threads is None:
            threads = min(_thread_count(), MAX_THREADS) if nnz >= PARALLEL_MIN_NNZ else 1
        self.threads = max(1, threads)
        cuts = np.searchsorted(graph.indptr, np.linspace(0, nnz, self.threads + 1)[1:-1])
        self._bounds = [0, *(int(c) for c in cuts), n]
        self._blocks: list[sp.csr_array] = []
        self._block_ids = range(self.threads)
        for start, end in zip(self._bounds[:-1], self._bounds[1:], strict=True):
            lo, hi = int(graph.indptr[start]), int(graph.indptr[end])
            indptr = (graph.indptr[start : end + 1] - lo).astype(index_type, copy=False)
            block = sp.csr_array((data[lo:hi], indices[lo:hi], indptr), shape=(end - start, n))
            self._blocks.append(block)

    def run(
        self,
        reset: np.ndarray,
        damping: float = 0.5,
        *,
        tol: float | None = None,
        max_iter: int = 200,
    ) -> np.ndarray:
        """PPR scores (float64, summing to 1) for one reset vector of length n_nodes.

        Stops when the L1 change between iterates drops below `tol` (default: DEFAULT_TOL of
        the operator's precision); after `max_iter` iterations without that, logs a warning and
        returns the last iterate.
        """
        p = self._reset(reset)
        tol = self._tol(tol)
        _check(damping, tol, max_iter)
        return self._solve(p, damping, tol, max_iter)

    def run_many(
        self,
        resets: np.ndarray,
        damping: float = 0.5,
        *,
        tol: float | None = None,
        max_iter: int = 200,
    ) -> np.ndarray:
        """PPR scores for each row of `resets` (q, n_nodes) → (q, n_nodes), as `run` gives them."""
        resets = np.asarray(resets)
        if resets.ndim != 2:
            raise ValueError(f"resets must be 2-D (queries, nodes), got shape {resets.shape}")
        ps = [self._reset(row) for row in resets]
        tol = self._tol(tol)
        _check(damping, tol, max_iter)
        out = np.empty((len(ps), self.graph.n_nodes), dtype=np.float64)
        if self.threads == 1 or len(ps) <= 1:
            for row, p in enumerate(ps):
                out[row] = self._solve(p, damping, tol, max_iter)
            return out
        # One whole query per thread: no hand-off every iteration, so less overhead than blocks.
        with ThreadPoolExecutor(min(self.threads, len(ps)), thread_name_prefix="ppr") as pool:
            results = pool.map(lambda p: self._iterate(p, damping, tol, max_iter, None), ps)
            for row, scores in enumerate(results):
                out[row] = scores
        return out

    def _solve(self, p: np.ndarray, damping: float, tol: float, max_iter: int) -> np.ndarray:
        """One query, its row blocks spread over `threads` threads."""
        if self.threads == 1:
            return self._iterate(p, damping, tol, max_iter, None)
        with ThreadPoolExecutor(self.threads - 1, thread_name_prefix="ppr") as pool:
            return self._iterate(p, damping, tol, max_iter, pool)

    def _tol(self, tol: float | None) -> float:
        """`tol`, or the precision's default; ValueError when float32 cannot resolve it."""
        if tol is None:
            return DEFAULT_TOL[self.precision]
        if self.precision == "float32" and 0 < tol < FLOAT32_MIN_TOL:
            raise ValueError(
                f"tol {tol:g} is below what float32 iterates resolve ({FLOAT32_MIN_TOL:g}); "
                "build the operator with precision='float64'"
            )
        return tol

    def _reset(self, reset: np.ndarray) -> np.ndarray:
        """`reset` as a float64 vector summing to 1; ValueError when it cannot be one."""
        p = np.asarray(reset, dtype=np.float64)
        if p.shape != (self.graph.n_nodes,):
            raise ValueError(f"reset must have shape ({self.graph.n_nodes},), got {p.shape}")
        if not np.isfinite(p).all() or (p < 0).any():
            raise ValueError("reset must be finite and non-negative")
        total = p.sum()
        if total <= 0:
            raise ValueError("reset is all zeros: PageRank needs at least one seed node")
        return p / total

    def _iterate(
        self,
        p: np.ndarray,
        damping: float,
        tol: float,
        max_iter: int,
        pool: ThreadPoolExecutor | None,
    ) -> np.ndarray:
        """Power iteration from `p` until the L1 change is below `tol`."""
        p = p.astype(self._dtype, copy=False)
        x, nxt = p.copy(), np.empty_like(p)
        for _ in range(max_iter):
            # Mass on dangling nodes jumps back along p; it is the only part that is not
            # conserved by W, so the reset weight follows without a pass over the vector.
            c = 1.0 - damping + damping * float(x[self._dangling].sum())
            if pool is None:
                err = sum(self._block_step(b, x, nxt, p, damping, c) for b in self._block_ids)
            else:
                # This thread takes block 0 itself rather than idling while the pool works.
                rest = [
                    pool.submit(self._block_step, b, x, nxt, p, damping, c)
                    for b in self._block_ids[1:]
                ]
                err = self._block_step(0, x, nxt, p, damping, c)
                err += sum(f.result() for f in rest)
            x, nxt = nxt, x
            if err < tol:
                break
        else:
            logger.warning("PPR did not reach tol=%g in %d iterations", tol, max_iter)
        scores = x.astype(np.float64)
        return scores / scores.sum()

    def _block_step(
        self, b: int, x: np.ndarray, out: np.ndarray, p: np.ndarray, damping: float, c: float
    ) -> float:
        """Write one row block of the next iterate into `out`; return its L1 change."""
        start, end = self._bounds[b], self._bounds[b + 1]
        y = self._blocks[b] @ x
        y *= damping
        y += c * p[start:end]
        out[start:end] = y
        np.subtract(y, x[start:end], out=y)
        np.abs(y, out=y)
        return float(y.sum())


def _check(damping: float, tol: float, max_iter: int) -> None:
    """ValueError for parameters outside their range."""
    if not 0.0 <= damping < 1.0:
        raise ValueError(f"damping must lie in [0, 1), got {damping}")
    if tol <= 0 or max_iter < 1:
        raise ValueError(f"tol must be > 0 and max_iter >= 1, got {tol}, {max_iter}")


def personalized_pagerank(
    graph: CSRGraph,
    reset: np.ndarray,
    damping: float = 0.5,
    *,
    tol: float | None = None,
    max_iter: int = 200,
    precision: Precision = "auto",
) -> np.ndarray:
    """One-shot convenience."""
    ppr = PersonalizedPageRank(graph, precision=precision)
    return ppr.run(reset, damping, tol=tol, max_iter=max_iter)
