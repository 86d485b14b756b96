"""Personalized PageRank: equal to networkx.pagerank with personalization, in every code path."""

from __future__ import annotations

import logging

import networkx as nx
import numpy as np
import pytest

from graphs.csr import CSRGraph
from graphs.ppr import FLOAT32_MIN_NNZ, PersonalizedPageRank, personalized_pagerank


def random_graph(seed: int, n: int = 120, m: int = 300) -> tuple[CSRGraph, nx.Graph]:
    """A weighted graph with duplicate edges, self-loops and isolated (dangling) nodes, twice."""
    rng = np.random.default_rng(seed)
    connected = n - 10  # the last ten nodes have no edges
    src, dst = rng.integers(0, connected, m), rng.integers(0, connected, m)
    src[:5] = dst[:5]  # a few self-loops
    weights = rng.random(m) + 0.01
    summed: dict[tuple[int, int], float] = {}
    for u, v, w in zip(src.tolist(), dst.tolist(), weights.tolist(), strict=True):
        key = (min(u, v), max(u, v))
        summed[key] = summed.get(key, 0.0) + w
    reference = nx.Graph()
    reference.add_nodes_from(range(n))
    reference.add_weighted_edges_from((u, v, w) for (u, v), w in summed.items())
    return CSRGraph.from_edges(n, src, dst, weights), reference


def random_reset(rng: np.random.Generator, n: int, seeds: int) -> np.ndarray:
    """A sparse reset vector on `seeds` nodes, one of them isolated, not normalised."""
    reset = np.zeros(n)
    reset[rng.choice(n - 10, seeds - 1, replace=False)] = rng.random(seeds - 1) + 0.1
    reset[n - 1] = 0.5
    return reset


def networkx_ppr(graph: nx.Graph, reset: np.ndarray, damping: float) -> np.ndarray:
    """networkx's answer, converged far below the tolerance under test."""
    scores = nx.pagerank(
        graph,
        alpha=damping,
        personalization=dict(enumerate(reset.tolist())),
        weight="weight",
        tol=1e-14,
        max_iter=10_000,
    )
    return np.array([scores[i] for i in range(len(reset))])


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("damping", [0.3, 0.5, 0.85])
@pytest.mark.parametrize("threads", [1, 3])
def test_equals_networkx(seed: int, damping: float, threads: int) -> None:
    graph, reference = random_graph(seed)
    ppr = PersonalizedPageRank(graph, threads=threads)
    rng = np.random.default_rng(seed + 100)
    for seeds in (1, 4, 15):
        reset = random_reset(rng, graph.n_nodes, seeds)
        scores = ppr.run(reset, damping)
        np.testing.assert_allclose(scores, networkx_ppr(reference, reset, damping), atol=1e-6)
        assert scores.dtype == np.float64
        assert scores.sum() == pytest.approx(1.0, abs=1e-12)
        assert (scores >= 0).all()


def test_dense_reset_equals_networkx() -> None:
    graph, reference = random_graph(7)
    reset = np.random.default_rng(7).random(graph.n_nodes)
    scores = personalized_pagerank(graph, reset, 0.5)
    np.testing.assert_allclose(scores, networkx_ppr(reference, reset, 0.5), atol=1e-6)


def test_run_many_equals_run_row_by_row() -> None:
    graph, _ = random_graph(3)
    rng = np.random.default_rng(3)
    resets = np.stack([random_reset(rng, graph.n_nodes, s) for s in (2, 5, 9, 3, 7)])
    for threads in (1, 2):
        ppr = PersonalizedPageRank(graph, threads=threads)
        many = ppr.run_many(resets, 0.85)
        assert many.shape == resets.shape
        for row, reset in zip(many, resets, strict=True):
            np.testing.assert_allclose(row, ppr.run(reset, 0.85), rtol=0, atol=1e-12)
    assert ppr.run_many(resets[:1], 0.5).shape == (1, graph.n_nodes)
    assert ppr.run_many(np.zeros((0, graph.n_nodes))).shape == (0, graph.n_nodes)


def test_scale_of_reset_does_not_matter() -> None:
    graph, _ = random_graph(4)
    reset = random_reset(np.random.default_rng(4), graph.n_nodes, 6)
    ppr = PersonalizedPageRank(graph)
    np.testing.assert_allclose(ppr.run(reset * 37.0), ppr.run(reset), atol=1e-14)


def test_graph_without_edges_returns_the_reset() -> None:
    graph = CSRGraph.from_edges(4, np.array([], dtype=np.int64), np.array([], dtype=np.int64))
    scores = personalized_pagerank(graph, np.array([0.0, 1.0, 3.0, 0.0]), 0.85)
    np.testing.assert_allclose(scores, [0.0, 0.25, 0.75, 0.0])


def test_zero_damping_returns_the_reset() -> None:
    graph, _ = random_graph(5)
    reset = random_reset(np.random.default_rng(5), graph.n_nodes, 4)
    np.testing.assert_allclose(personalized_pagerank(graph, reset, 0.0), reset / reset.sum())


def test_max_iter_reached_warns_and_still_normalises(caplog: pytest.LogCaptureFixture) -> None:
    graph, _ = random_graph(6)
    reset = random_reset(np.random.default_rng(6), graph.n_nodes, 3)
    with caplog.at_level(logging.WARNING, logger="graphs.ppr"):
        scores = PersonalizedPageRank(graph).run(reset, 0.85, max_iter=2)
    assert "did not reach" in caplog.text
    assert scores.sum() == pytest.approx(1.0)


@pytest.mark.parametrize(
    "reset",
    [
        np.zeros(120),
        np.r_[-1.0, np.ones(119)],
        np.r_[np.nan, np.ones(119)],
        np.r_[np.inf, np.ones(119)],
        np.ones(119),
        np.ones((2, 60)),
    ],
)
def test_bad_reset_raises(reset: np.ndarray) -> None:
    graph, _ = random_graph(0)
    with pytest.raises(ValueError):
        PersonalizedPageRank(graph).run(reset)


def test_bad_parameters_raise() -> None:
    graph, _ = random_graph(0)
    ppr = PersonalizedPageRank(graph)
    reset = np.ones(graph.n_nodes)
    for kwargs in ({"damping": 1.0}, {"damping": -0.1}, {"tol": 0.0}, {"max_iter": 0}):
        with pytest.raises(ValueError):
            ppr.run(reset, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ppr.run_many(reset)
    bad = np.ones((3, graph.n_nodes))
    bad[1] = 0.0
    with pytest.raises(ValueError):
        ppr.run_many(bad)


# The float32 path large graphs take (precision "auto" from FLOAT32_MIN_NNZ stored entries).


@pytest.mark.parametrize("damping", [0.5, 0.85])
def test_float32_equals_networkx_to_its_tolerance(damping: float) -> None:
    graph, reference = random_graph(8)
    ppr = PersonalizedPageRank(graph, precision="float32")
    reset = random_reset(np.random.default_rng(8), graph.n_nodes, 6)
    scores = ppr.run(reset, damping)
    assert scores.dtype == np.float64
    assert scores.sum() == pytest.approx(1.0, abs=1e-12)
    # An L1 change below 1e-6 leaves at most ~1e-6 · d / (1 - d) to go, spread over the nodes.
    np.testing.assert_allclose(scores, networkx_ppr(reference, reset, damping), atol=1e-5)


def test_float32_top_k_equals_the_exact_top_k_on_a_random_graph() -> None:
    rng = np.random.default_rng(11)
    n, m = 50_000, 250_000
    graph = CSRGraph.from_edges(n, rng.integers(0, n, m), rng.integers(0, n, m), rng.random(m))
    exact = PersonalizedPageRank(graph, precision="float64")
    fast = PersonalizedPageRank(graph, precision="float32")
    for _ in range(5):
        reset = np.zeros(n)
        reset[rng.choice(n, 12, replace=False)] = rng.random(12) + 0.5
        want = exact.run(reset, 0.5, tol=1e-12)
        got = fast.run(reset, 0.5)
        top = np.argsort(-want, kind="stable")[:100]
        np.testing.assert_array_equal(np.argsort(-got, kind="stable")[:100], top)


def test_auto_precision_follows_the_stored_entries() -> None:
    small, _ = random_graph(0)
    assert PersonalizedPageRank(small).precision == "float64"
    rng = np.random.default_rng(0)
    n = FLOAT32_MIN_NNZ // 8
    big = CSRGraph.from_edges(n, rng.integers(0, n, 5 * n), rng.integers(0, n, 5 * n))
    assert big.indices.shape[0] >= FLOAT32_MIN_NNZ
    assert PersonalizedPageRank(big).precision == "float32"
    assert PersonalizedPageRank(big, precision="float64").precision == "float64"


def test_float32_refuses_a_tolerance_it_cannot_resolve() -> None:
    graph, _ = random_graph(0)
    ppr = PersonalizedPageRank(graph, precision="float32")
    with pytest.raises(ValueError, match="precision='float64'"):
        ppr.run(np.ones(graph.n_nodes), tol=1e-9)
    with pytest.raises(ValueError, match="precision"):
        PersonalizedPageRank(graph, precision="float16")  # type: ignore[arg-type]
    rows = np.stack([np.ones(graph.n_nodes), random_reset(np.random.default_rng(0), 120, 3)])
    np.testing.assert_allclose(ppr.run_many(rows)[1], ppr.run(rows[1]), atol=1e-12)
