"""CSRGraph: symmetrization, duplicate summing, self-loops, degrees and input checks."""

from __future__ import annotations

import numpy as np
import pytest

from graphs.csr import CSRGraph


def test_edges_are_stored_both_ways_with_summed_duplicates() -> None:
    graph = CSRGraph.from_edges(
        4, np.array([0, 1, 0, 2]), np.array([1, 0, 1, 3]), np.array([1.0, 2.0, 0.5, 4.0])
    )
    dense = graph.to_scipy().toarray()
    expected = np.zeros((4, 4))
    expected[0, 1] = expected[1, 0] = 3.5  # (0,1), (1,0) and (0,1) again are one pair
    expected[2, 3] = expected[3, 2] = 4.0
    np.testing.assert_array_equal(dense, expected)
    assert graph.n_edges == 2
    assert graph.indices.size == 4
    np.testing.assert_array_equal(graph.degree(), [3.5, 3.5, 4.0, 4.0])


def test_dtypes_and_default_weights() -> None:
    graph = CSRGraph.from_edges(3, np.array([0]), np.array([2]))
    assert graph.indptr.dtype == np.int64
    assert graph.indices.dtype == np.int32
    assert graph.weights.dtype == np.float64
    ids, weights = graph.neighbors(2)
    assert ids.tolist() == [0]
    assert weights.tolist() == [1.0]


def test_self_loop_is_stored_once_and_counted_once() -> None:
    graph = CSRGraph.from_edges(3, np.array([1, 1, 0]), np.array([1, 1, 1]), np.array([2, 3, 1]))
    dense = graph.to_scipy().toarray()
    assert dense[1, 1] == 5.0
    assert graph.n_edges == 2  # the loop {1} and the edge {0, 1}
    np.testing.assert_array_equal(graph.degree(), [1.0, 6.0, 0.0])


def test_isolated_nodes_and_no_edges() -> None:
    graph = CSRGraph.from_edges(5, np.array([], dtype=np.int64), np.array([], dtype=np.int64))
    assert graph.n_nodes == 5
    assert graph.n_edges == 0
    np.testing.assert_array_equal(graph.indptr, np.zeros(6))
    np.testing.assert_array_equal(graph.degree(), np.zeros(5))
    ids, weights = graph.neighbors(4)
    assert ids.size == 0 and weights.size == 0
    assert CSRGraph.from_edges(0, np.array([]), np.array([])).n_nodes == 0


def test_rows_are_sorted_and_match_a_dense_build() -> None:
    rng = np.random.default_rng(3)
    src, dst = rng.integers(0, 50, 400), rng.integers(0, 50, 400)
    weights = rng.random(400)
    graph = CSRGraph.from_edges(60, src, dst, weights)
    expected = np.zeros((60, 60))
    for u, v, w in zip(src, dst, weights, strict=True):
        expected[u, v] += w
        if u != v:
            expected[v, u] += w
    np.testing.assert_allclose(graph.to_scipy().toarray(), expected)
    for node in range(60):
        ids, _ = graph.neighbors(node)
        assert np.all(np.diff(ids) > 0)
    np.testing.assert_allclose(graph.degree(), expected.sum(axis=1))


def test_zero_weight_edges_are_dropped() -> None:
    graph = CSRGraph.from_edges(3, np.array([0, 1]), np.array([1, 2]), np.array([0.0, 1.0]))
    assert graph.n_edges == 1
    assert graph.neighbors(0)[0].size == 0


def test_to_scipy_shares_memory() -> None:
    graph = CSRGraph.from_edges(4, np.array([0, 1, 2]), np.array([1, 2, 3]))
    matrix = graph.to_scipy()
    assert np.shares_memory(matrix.indices, graph.indices)
    assert np.shares_memory(matrix.data, graph.weights)


@pytest.mark.parametrize(
    ("src", "dst", "weights"),
    [
        ([0, 3], [1, 1], None),  # id == n_nodes
        ([0, -1], [1, 1], None),
        ([0], [1], [-0.5]),
        ([0], [1], [np.nan]),
        ([0], [1], [np.inf]),
        ([0, 1], [1], None),  # lengths differ
    ],
)
def test_bad_edges_raise(src: list[int], dst: list[int], weights: list[float] | None) -> None:
    with pytest.raises(ValueError):
        CSRGraph.from_edges(
            3, np.array(src), np.array(dst), None if weights is None else np.array(weights)
        )


def test_neighbors_out_of_range_raises() -> None:
    graph = CSRGraph.from_edges(2, np.array([0]), np.array([1]))
    with pytest.raises(ValueError):
        graph.neighbors(2)
