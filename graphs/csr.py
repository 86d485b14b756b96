"""Weighted undirected graphs as CSR arrays: the storage every graph algorithm here runs on."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass(frozen=True)
class CSRGraph:
    """Weighted undirected graph stored as CSR arrays (both directions of every edge stored).

    Row `i` lists the neighbours of node `i`. An edge `{u, v}` with `u != v` is stored twice,
    as `(u, v)` and `(v, u)` with the same weight; a self-loop `{u, u}` is stored once, so the
    arrays are exactly the symmetric adjacency matrix (as `networkx.to_scipy_sparse_array`
    builds it) and a self-loop adds its weight once to its node's degree.
    """

    indptr: np.ndarray  # int64, shape (n+1,)
    indices: np.ndarray  # int32, or int64 when n >= 2**31
    weights: np.ndarray  # float64

    @property
    def n_nodes(self) -> int:
        """Number of nodes, isolated ones included."""
        return int(self.indptr.shape[0]) - 1

    @property
    def n_edges(self) -> int:
        """Number of undirected edges: stored entries / 2, each self-loop counted once."""
        rows = np.repeat(np.arange(self.n_nodes), np.diff(self.indptr))
        loops = int(np.count_nonzero(rows == self.indices))
        return (int(self.indices.shape[0]) - loops) // 2 + loops

    @classmethod
    def from_edges(
        cls,
        n_nodes: int,
        src: np.ndarray,
        dst: np.ndarray,
        weights: np.ndarray | None = None,
    ) -> CSRGraph:
        """Symmetrize; duplicate (unordered) pairs have their weights summed; weights default 1.

        Edges of weight 0 are dropped (they change no walk). Raises ValueError on ids outside
        `[0, n_nodes)`, on negative or non-finite weights, or on arrays of different lengths.
        """
        if n_nodes < 0:
            raise ValueError(f"n_nodes must be >= 0, got {n_nodes}")
        src = np.asarray(src, dtype=np.int64).ravel()
        dst = np.asarray(dst, dtype=np.int64).ravel()
        w = (
            np.ones(src.shape[0], dtype=np.float64)
            if weights is None
            else np.asarray(weights, dtype=np.float64).ravel()
        )
        if not src.shape == dst.shape == w.shape:
            raise ValueError(
                f"src, dst and weights differ in length: {src.size}, {dst.size}, {w.size}"
            )
        if src.size:
            low, high = min(src.min(), dst.min()), max(src.max(), dst.max())
            if low < 0 or high >= n_nodes:
                raise ValueError(f"node ids must lie in [0, {n_nodes}), got [{low}, {high}]")
            if not np.isfinite(w).all() or w.min() < 0:
                raise ValueError("edge weights must be finite and non-negative")
        # A self-loop goes in once; every other edge in both directions.
        off = src != dst
        rows = np.concatenate([src, dst[off]])
        cols = np.concatenate([dst, src[off]])
        vals = np.concatenate([w, w[off]])
        matrix = sp.coo_array((vals, (rows, cols)), shape=(n_nodes, n_nodes)).tocsr()
        matrix.sum_duplicates()
        matrix.sort_indices()
        matrix.eliminate_zeros()
        index_dtype = np.int32 if n_nodes < 2**31 else np.int64
        return cls(
            indptr=np.asarray(matrix.indptr, dtype=np.int64),
            indices=np.asarray(matrix.indices, dtype=index_dtype),
            weights=np.asarray(matrix.data, dtype=np.float64),
        )

    def degree(self) -> np.ndarray:
        """Weighted degree of every node (row sums), float64; a self-loop counts once."""
        return np.asarray(self.to_scipy().sum(axis=1), dtype=np.float64)

    def neighbors(self, node: int) -> tuple[np.ndarray, np.ndarray]:
        """Neighbour ids of `node` and the weights of the edges to them (views, sorted by id)."""
        if not 0 <= node < self.n_nodes:
            raise ValueError(f"node {node} outside [0, {self.n_nodes})")
        start, end = int(self.indptr[node]), int(self.indptr[node + 1])
        return self.indices[start:end], self.weights[start:end]

    def to_scipy(self) -> sp.csr_array:
        """The adjacency matrix as a scipy CSR array sharing `indices` and `weights`."""
        # scipy gives both index arrays one dtype: a short int32 indptr keeps it from
        # copying the long int32 indices up to int64.
        indptr = self.indptr
        if self.indices.dtype == np.int32 and self.indices.shape[0] < 2**31:
            indptr = indptr.astype(np.int32)
        return sp.csr_array((self.weights, self.indices, indptr), shape=(self.n_nodes,) * 2)
