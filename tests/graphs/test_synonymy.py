"""Synonymy edges: planted near-duplicates found, threshold and cap kept, pairs unique."""

from __future__ import annotations

import numpy as np
import pytest

import graphs.synonymy as synonymy
from graphs.synonymy import Method, synonymy_edges


def unit(rows: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, float32."""
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def planted(seed: int = 0, n: int = 400, dim: int = 64, pairs: int = 25) -> tuple[np.ndarray, set]:
    """Random unit vectors plus `pairs` near copies (cosine about 0.95) appended at the end."""
    rng = np.random.default_rng(seed)
    base = unit(rng.standard_normal((n, dim)))
    sources = rng.choice(n, pairs, replace=False)
    copies = unit(base[sources] + 0.3 * rng.standard_normal((pairs, dim)) / np.sqrt(dim))
    truth = {(int(s), n + i) for i, s in enumerate(sources)}
    return np.vstack([base, copies]), truth


def brute_force(
    queries: np.ndarray, rows: np.ndarray, base: np.ndarray, threshold: float, cap: int
) -> set[tuple[int, int]]:
    """The exact answer by a full similarity matrix."""
    sims = queries @ base.T
    sims[np.arange(len(rows)), rows] = -np.inf
    found = set()
    for i, row in enumerate(rows):
        order = np.argsort(-sims[i])[:cap]
        found |= {(min(row, j), max(row, j)) for j in order if sims[i, j] >= threshold}
    return found


def as_pairs(edges: tuple[np.ndarray, np.ndarray, np.ndarray]) -> set[tuple[int, int]]:
    """The (src, dst) pairs of an edge triple."""
    return set(zip(edges[0].tolist(), edges[1].tolist(), strict=True))


@pytest.mark.parametrize("method", ["flat", "hnsw", "auto"])
def test_planted_near_duplicates_are_found(method: Method) -> None:
    vectors, truth = planted()
    new_rows = np.arange(400, len(vectors))  # the copies are the new entities
    src, dst, sim = synonymy_edges(vectors[new_rows], new_rows, vectors, method=method)
    assert as_pairs((src, dst, sim)) == truth
    assert src.dtype == dst.dtype == np.int64 and sim.dtype == np.float32
    assert (sim >= 0.8).all()


def test_all_rows_as_queries_give_each_pair_once() -> None:
    vectors, truth = planted(seed=1)
    rows = np.arange(len(vectors))
    src, dst, sim = synonymy_edges(vectors, rows, vectors, threshold=0.8, method="flat")
    assert as_pairs((src, dst, sim)) == truth
    assert len(src) == len(truth)  # found from both ends, kept once
    assert (src < dst).all()
    expected = np.einsum("ij,ij->i", vectors[src], vectors[dst])
    np.testing.assert_allclose(sim, expected, atol=1e-5)


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.8])
@pytest.mark.parametrize("cap", [1, 3, 20])
def test_flat_equals_brute_force(threshold: float, cap: int) -> None:
    rng = np.random.default_rng(2)
    centers = unit(rng.standard_normal((10, 16)))
    vectors = unit(centers[rng.integers(0, 10, 300)] + 0.4 * rng.standard_normal((300, 16)) / 4)
    rows = np.arange(250, 300)
    edges = synonymy_edges(
        vectors[rows], rows, vectors, threshold=threshold, max_neighbors=cap, method="flat"
    )
    assert as_pairs(edges) == brute_force(vectors[rows], rows, vectors, threshold, cap)
    assert (edges[2] >= threshold).all()
    assert not (edges[0] == edges[1]).any()


def test_max_neighbors_caps_each_query() -> None:
    rng = np.random.default_rng(3)
    center = unit(rng.standard_normal((1, 32)))
    cluster = unit(center + 0.05 * rng.standard_normal((30, 32)) / np.sqrt(32))
    src, dst, _ = synonymy_edges(cluster[:1], np.array([0]), cluster, max_neighbors=5)
    assert len(src) == 5
    assert (src == 0).all() and (dst > 0).all()
    for method in ("flat", "hnsw"):  # past the first, short search of FIRST_K neighbours
        src, _, _ = synonymy_edges(
            cluster[:1], np.array([0]), cluster, max_neighbors=25, method=method
        )
        assert len(src) == 25
    src, dst, _ = synonymy_edges(cluster, np.arange(30), cluster, max_neighbors=5)
    assert len(src) <= 5 * 30
    counts = np.bincount(np.concatenate([src, dst]), minlength=30)
    assert counts.min() >= 5  # every query kept its own five


def test_flat_and_hnsw_agree() -> None:
    rng = np.random.default_rng(4)
    centers = unit(rng.standard_normal((40, 32)))
    vectors = unit(centers[rng.integers(0, 40, 1000)] + 0.5 * rng.standard_normal((1000, 32)) / 6)
    rows = np.arange(1000)
    flat = as_pairs(synonymy_edges(vectors, rows, vectors, threshold=0.85, method="flat"))
    hnsw = as_pairs(synonymy_edges(vectors, rows, vectors, threshold=0.85, method="hnsw"))
    assert len(flat) > 100
    assert len(flat & hnsw) >= 0.98 * len(flat)


def test_batches_give_the_same_edges(monkeypatch: pytest.MonkeyPatch) -> None:
    vectors, _ = planted(seed=5)
    rows = np.arange(len(vectors))
    whole = synonymy_edges(vectors, rows, vectors, threshold=0.3)
    monkeypatch.setattr(synonymy, "QUERY_BATCH", 7)
    batched = synonymy_edges(vectors, rows, vectors, threshold=0.3)
    for a, b in zip(whole, batched, strict=True):
        np.testing.assert_array_equal(a, b)


def test_empty_inputs_give_empty_edges() -> None:
    vectors, _ = planted()
    cases = [
        synonymy_edges(vectors[:0], np.array([], dtype=np.int64), vectors),
        synonymy_edges(vectors[:0], np.array([], dtype=np.int64), vectors[:0]),
        synonymy_edges(vectors[:3], np.arange(3), vectors, max_neighbors=0),
        synonymy_edges(vectors[:1], np.array([0]), vectors[:1]),  # nothing but itself
    ]
    for src, dst, sim in cases:
        assert src.size == dst.size == sim.size == 0
        assert src.dtype == np.int64 and sim.dtype == np.float32


def test_bad_inputs_raise() -> None:
    vectors, _ = planted()
    with pytest.raises(ValueError):
        synonymy_edges(vectors[:2], np.array([0]), vectors)
    with pytest.raises(ValueError):
        synonymy_edges(vectors[:1], np.array([len(vectors)]), vectors)
    with pytest.raises(ValueError):
        synonymy_edges(vectors[:1, :10], np.array([0]), vectors)
    with pytest.raises(ValueError):
        synonymy_edges(vectors[:1], np.array([0]), vectors, method="ivf")  # type: ignore[arg-type]


def test_auto_picks_exact_search_when_it_is_cheaper(monkeypatch: pytest.MonkeyPatch) -> None:
    used: list[str] = []
    real_index = synonymy._index

    def recording_index(base: np.ndarray, method: str) -> object:
        used.append(method)
        return real_index(base, method)

    monkeypatch.setattr(synonymy, "_index", recording_index)
    vectors, _ = planted()
    synonymy_edges(vectors[:5], np.arange(5), vectors)
    monkeypatch.setattr(synonymy, "HNSW_BUILD_PAIRS", 0)
    monkeypatch.setattr(synonymy, "HNSW_QUERY_PAIRS", 0)
    synonymy_edges(vectors[:5], np.arange(5), vectors)
    assert used == ["flat", "hnsw"]
